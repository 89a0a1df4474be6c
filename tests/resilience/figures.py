"""What the resilience suite counted in this run: printed at the end of the run, and saved for the benchmark report
when ``RESILIENCE_FIGURES`` names a file."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class MatrixCase:
    operation: str  # "look up", "read consent" or "change consent"
    fault: str
    told: str  # what the user was told (see tests/resilience/desk.py)
    store: str  # what the sandbox's store held afterwards
    agrees: bool
    seconds: float


@dataclass
class Figures:
    matrix: list[MatrixCase] = field(default_factory=list)
    soak: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)  # name -> milliseconds, for distributions

    @property
    def disagreements(self) -> list[MatrixCase]:
        return [case for case in self.matrix if not case.agrees]

    def summary_lines(self) -> list[str]:
        lines: list[str] = []
        if self.matrix:
            lines.append(
                f"fault matrix: {len(self.matrix)} cases run, {len(self.disagreements)} where what the user was "
                "told and the sandbox's store disagree"
            )
            width = max(len(case.fault) for case in self.matrix)
            told_width = max(len(case.told) for case in self.matrix)
            for case in self.matrix:
                flag = "" if case.agrees else "   <-- DISAGREE"
                lines.append(
                    f"  {case.operation:<15} {case.fault:<{width}}  {case.told:<{told_width}} store {case.store:<10}"
                    f" {case.seconds:6.2f} s{flag}"
                )
        if self.soak:
            lines.append("soak: " + ", ".join(f"{name} {_number(value)}" for name, value in self.soak.items()))
        for name, values in self.samples.items():
            if len(values) >= 2:
                cut = statistics.quantiles(values, n=20, method="inclusive")
                lines.append(
                    f"  {name}: n={len(values)} median {statistics.median(values):.1f} ms, p95 {cut[18]:.1f} ms, "
                    f"max {max(values):.1f} ms"
                )
        return lines

    def save(self, path: Path) -> None:
        document = {
            "matrix": [asdict(case) for case in self.matrix],
            "soak": self.soak,
            "samples": self.samples,
        }
        path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


FIGURES = Figures()
