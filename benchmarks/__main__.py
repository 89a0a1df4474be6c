"""``python -m benchmarks``: run every benchmark and write docs/benchmarks/benchmark-report.md."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks import spine_bench
from benchmarks.report import Report

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def main() -> int:
    report = Report()
    for module in (spine_bench,):
        print(f"{module.__name__}:")
        module.run(report)
    path = report.write(OUTPUT)
    print(f"report written to {path}")
    return 0 if all(f.passed for f in report.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
