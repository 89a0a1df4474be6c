"""Collects figures and writes the Markdown report (and its plot) that README links."""

from __future__ import annotations

import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    baseline: float | None  # None: an absolute target, no baseline
    unit: str
    target: str
    passed: bool
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def shown(self, value: float) -> str:
        """Times to the microsecond; counts and sizes as they are."""
        return f"{value:.3f} {self.unit}" if self.unit == "ms" else f"{value:g} {self.unit}"


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=dict)  # name -> raw samples in ms, for the plot
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)  # title, header, rows
    stall_traces: list[str] = field(default_factory=list)  # where the GUI thread was in each stall over 16 ms
    notes: list[str] = field(default_factory=list)  # what limits a figure not reached, measured
    matrix: list[dict[str, Any]] = field(default_factory=list)  # the fault matrix's cases, row by row

    def add_table(self, title: str, header: list[str], rows: list[list[str]]) -> None:
        self.tables.append((title, header, rows))
        print(f"  {title}:")
        for row in rows:
            print("    " + "  ".join(row))

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        ratio = f" ({figure.ratio:.2f}x baseline)" if figure.ratio is not None else ""
        verdict = "meets" if figure.passed else "MISSES"
        print(f"  {figure.name}: {figure.shown(figure.value)}{ratio} - {verdict} target {figure.target}")

    def add_resilience(self, figures: dict[str, Any] | None) -> None:
        """Figures the resilience suite saved (``tests/resilience/figures.py``): the fault matrix's and the soak's
        counts, and the soak's latency under random faults."""
        if not figures or not figures.get("matrix") or not figures.get("soak"):
            self.add(Figure("Resilience suite figures", 0, None, "sets", "matrix and soak", False, "did not run"))
            return
        matrix, soak = figures["matrix"], figures["soak"]
        self.matrix = list(matrix)
        wrong = sum(1 for case in matrix if not case["agrees"])
        self.add(
            Figure(
                "Fault matrix: user told other than what Spine stored",
                wrong,
                None,
                "cases",
                "0",
                wrong == 0,
                f"{len(matrix)} cases: each injectable fault on a lookup, a consent read and a change through the "
                "controller; the card pulled mid-save; Spine restarted mid-request",
            )
        )
        self.add(
            Figure(
                "Soak: outcomes the store contradicts, and crashes",
                soak["disagreements"] + soak["crashes"],
                None,
                "cases",
                "0",
                soak["disagreements"] + soak["crashes"] == 0,
                f"{soak['lookups']} lookups and {soak['changes']} changes through the controller, "
                f"{soak['faults injected']} random faults (seed {soak['seed']})",
            )
        )
        left = soak["threads after"] - soak["threads before"] + soak["open files after"] - soak["open files before"]
        self.add(Figure("Soak: threads and sockets left over", left, None, "left", "0", left == 0))
        heap, budget = soak["heap growth, 2nd half vs 1st (KB)"], soak["heap budget (KB)"]
        self.add(Figure("Soak: Python heap, second half over first", heap, None, "KB", f"< {budget} KB", heap < budget))
        samples: dict[str, list[float]] = figures.get("samples", {})
        for name, values in samples.items():
            self.samples[f"Soak: {name}"] = values
        faulted = samples.get("look up and read consent, random fault (ms)", [])
        calm = samples.get("look up and read consent, no fault (ms)", [])
        if len(faulted) >= 2 and len(calm) >= 2:
            p95 = statistics.quantiles(faulted, n=20, method="inclusive")[18]
            calm_p95 = statistics.quantiles(calm, n=20, method="inclusive")[18]
            self.add(
                Figure(
                    "Soak: look up and read consent under a random fault (p95)",
                    p95,
                    calm_p95,
                    "ms",
                    "< 2000 ms",
                    p95 < 2000,
                    "baseline: the same without a fault; a fault past the 1 s read timeout costs that second",
                )
            )

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        plot = self._plot(folder / "benchmark-distributions.png")
        lines = [
            "# consent-desktop benchmark report",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.platform()}, Python {platform.python_version()}, "
            f"{_cpu_count()} CPUs. Each figure is measured beside its baseline in the same run.",
            "",
            "| Figure | Value | Baseline | Ratio | Target | Result |",
            "|---|---|---|---|---|---|",
        ]
        for f in self.figures:
            baseline = f.shown(f.baseline) if f.baseline is not None else "\N{EM DASH}"
            ratio = f"{f.ratio:.2f}\N{MULTIPLICATION SIGN}" if f.ratio is not None else "\N{EM DASH}"
            lines.append(
                f"| {f.name} | {f.shown(f.value)} | {baseline} | {ratio} | {f.target} | "
                f"{'meets' if f.passed else '**misses**'} |"
            )
        notes = [f"- **{f.name}**: {f.note}" for f in self.figures if f.note]
        if notes:
            lines += ["", "Notes:", "", *notes]
        for title, header, rows in self.tables:
            lines += ["", f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
        if self.notes:
            lines += ["", "### Figures not reached: what was tried and what limits them", "", *self.notes]
        if self.stall_traces:
            lines += ["", "### Where the GUI thread was in each stall over 16 ms", ""]
            for trace in self.stall_traces:
                lines += ["```", trace, "```"]
        if self.matrix:
            lines += [
                "",
                "## Fault matrix",
                "",
                "What the user was told for each case (first, then \N{RIGHTWARDS ARROW} when the app read the change "
                "again in place), against what the sandbox's store held afterwards.",
                "",
                "| Operation | Fault | Told | Store | Seconds | Agrees |",
                "|---|---|---|---|---|---|",
                *(
                    f"| {c['operation']} | {c['fault']} | {c['told']} | {c['store']} | {c['seconds']:.2f} | "
                    f"{'yes' if c['agrees'] else '**NO**'} |"
                    for c in self.matrix
                ),
            ]
        if plot:
            lines += ["", f"![latency and stall distributions]({plot.name})"]
        path = folder / "benchmark-report.md"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def _plot(self, path: Path) -> Path | None:
        if not self.samples:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = list(self.samples)
        fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.2 * len(names)), squeeze=False)
        for axis, name in zip(axes[:, 0], names, strict=True):
            data = self.samples[name]
            axis.hist(data, bins=40, color="#005eb8")
            axis.axvline(statistics.median(data), color="#d5281b", linestyle="--", label="median")
            axis.set_title(name, fontsize=9)
            axis.set_xlabel("milliseconds", fontsize=8)
            axis.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1
