"""The frozen program's entry point (PyInstaller's script).

``ConsentDesktop --selftest [REPORT]`` checks the build itself and exits; anything else starts the app. The
windowed Windows build has no console, so the self-test can also write its summary to the REPORT file.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["--selftest"]:
        from consent_desktop import selftest

        if len(argv) > 2:
            print("usage: ConsentDesktop --selftest [REPORT-FILE]", file=sys.stderr)
            return 2
        if len(argv) == 2:
            with open(argv[1], "w", encoding="utf-8") as report:
                return selftest.run(report)
        return selftest.run()
    from consent_desktop.app import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
