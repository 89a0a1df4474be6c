#!/usr/bin/env bash
# Freezes Consent Desktop with PyInstaller into dist/ConsentDesktop (work files under build/pyinstaller).
# DIST_DIR and BUILD_DIR move them (the tests freeze into a temporary folder); PYTHON picks the interpreter
# (default: the project's .venv, else python on PATH, as on the Windows runner).
set -euo pipefail
cd "$(dirname "$0")/.."
DIST_DIR=${DIST_DIR:-dist}
BUILD_DIR=${BUILD_DIR:-build}
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$DIST_DIR" --workpath "$BUILD_DIR/pyinstaller" \
  packaging/pyinstaller/consent-desktop.spec
echo "Frozen: $DIST_DIR/ConsentDesktop"
