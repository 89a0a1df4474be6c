"""The frozen program's entry point (PyInstaller's script).

``ConsentDesktop --selftest [REPORT]`` checks the build itself and exits; ``ConsentDesktop --diagnose [REPORT]``
prints what ``consent-desktop-cli diagnose`` prints (every setting and where it came from, certificates, endpoints)
so that IT can check a workstation with the installed program alone; anything else starts the app. The windowed
Windows build has no console, so either can write its report to the REPORT file instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout


def _selftest() -> int:
    from consent_desktop import selftest

    return selftest.run()


def _diagnose() -> int:
    from consent_desktop import cli

    return cli.main(["diagnose"])


CHECKS: dict[str, Callable[[], int]] = {"--selftest": _selftest, "--diagnose": _diagnose}


def main(argv: list[str]) -> int:
    check = CHECKS.get(argv[0]) if argv else None
    if check is None:
        from consent_desktop.app import main as app_main

        return app_main()
    if len(argv) > 2:
        print(f"usage: ConsentDesktop {argv[0]} [REPORT-FILE]", file=sys.stderr)
        return 2
    if len(argv) == 1:
        return check()
    with open(argv[1], "w", encoding="utf-8") as report, redirect_stdout(report), redirect_stderr(report):
        return check()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
