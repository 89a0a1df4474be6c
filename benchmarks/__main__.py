"""``python -m benchmarks``: run every benchmark and write docs/benchmarks/benchmark-report.md."""

from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the GUI figures need no screen
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import card_pull, gui_bench, pds_bench, spine_bench
from benchmarks.report import Report

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "benchmarks"
RESILIENCE_TESTS = ("tests/resilience/test_fault_matrix.py", "tests/resilience/test_soak.py")
LIMITS_FILE = Path(__file__).resolve().parent / "limits.md"
LIMITS = LIMITS_FILE.read_text(encoding="utf-8").splitlines()  # what limits the figures not reached, measured


def resilience(report: Report) -> None:
    """The fault matrix and the full soak, run by pytest in a child process, which saves their figures."""
    with tempfile.TemporaryDirectory() as folder:
        figures = Path(folder) / "resilience.json"
        environment = {**os.environ, "RESILIENCE_FIGURES": str(figures), "QT_QPA_PLATFORM": "offscreen"}
        environment["SOAK_FULL"] = "1"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *RESILIENCE_TESTS]
        subprocess.run(command, cwd=ROOT, env=environment, check=False)
        report.add_resilience(json.loads(figures.read_text()) if figures.exists() else None)


def main() -> int:
    report = Report()
    for module in (spine_bench, pds_bench, gui_bench, card_pull):
        print(f"{module.__name__}:")
        module.run(report)
    print("resilience suite:")
    resilience(report)
    report.notes += LIMITS
    path = report.write(OUTPUT)
    print(f"report written to {path}")
    return 0 if all(f.passed for f in report.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
