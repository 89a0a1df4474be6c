#!/usr/bin/env bash
# The whole check: static analysis, then the test suite (which starts and stops, by PID, every service it
# needs: sandboxes, pcscd, virtual cards). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
export SOAK_FULL=${SOAK_FULL:-1}  # the whole check runs the full soak (about two minutes); a bare pytest the short one
echo "== ruff"; .venv/bin/ruff check consent_desktop tests benchmarks packaging
echo "== mypy --strict"; .venv/bin/mypy
echo "== import contracts"; .venv/bin/lint-imports
echo "== pytest"; .venv/bin/python -m pytest "$@"
