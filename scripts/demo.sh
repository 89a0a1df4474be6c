#!/usr/bin/env bash
# Training mode. With a display: the app itself against a local practice Spine, with software smartcards.
# Without one: the scripted walk-through on a virtual 1366 x 768 screen (an Xvfb it starts and ends by its PID),
# which saves a screenshot of every screen at 100% and 200% text.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/consent-desktop --sandbox
fi

echo "No display found, so the app cannot be shown here."
echo "Running the scripted walk-through on a virtual screen instead."
out="$(pwd)/screenshots"
.venv/bin/python scripts/walkthrough.py --out "${out}"
echo "Screenshots of every screen, at 100% and 200% text, are in ${out}"
