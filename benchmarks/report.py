"""Collects figures and writes the Markdown report (and its plot) that README links."""

from __future__ import annotations

import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


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


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=dict)  # name -> raw samples in ms, for the plot

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        ratio = f" ({figure.ratio:.2f}x baseline)" if figure.ratio is not None else ""
        verdict = "meets" if figure.passed else "MISSES"
        print(f"  {figure.name}: {figure.value:.3f} {figure.unit}{ratio} - {verdict} target {figure.target}")

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
            baseline = f"{f.baseline:.3f} {f.unit}" if f.baseline is not None else "\N{EM DASH}"
            ratio = f"{f.ratio:.2f}\N{MULTIPLICATION SIGN}" if f.ratio is not None else "\N{EM DASH}"
            lines.append(
                f"| {f.name} | {f.value:.3f} {f.unit} | {baseline} | {ratio} | {f.target} | "
                f"{'meets' if f.passed else '**misses**'} |"
            )
        notes = [f"- **{f.name}**: {f.note}" for f in self.figures if f.note]
        if notes:
            lines += ["", "Notes:", "", *notes]
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
