#!/usr/bin/env bash
# Training mode. With a display: the app itself against a local practice Spine, with software smartcards.
# Without one: the scripted walk-through on a virtual screen (an Xvfb started here and ended by its PID), which
# saves a screenshot of every screen.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/consent-desktop --sandbox
fi

echo "No display found, so the app cannot be shown here."
echo "Running the scripted walk-through on a virtual screen instead."
if ! command -v Xvfb >/dev/null; then
  echo "Xvfb is not installed (Debian package xvfb; scripts/bootstrap.sh installs it)." >&2
  exit 1
fi

number=90
while [ -e "/tmp/.X${number}-lock" ] || [ -e "/tmp/.X11-unix/X${number}" ]; do
  number=$((number + 1))
done
Xvfb ":${number}" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill "${xvfb_pid}" 2>/dev/null || true; wait "${xvfb_pid}" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [ -e "/tmp/.X11-unix/X${number}" ] && break
  kill -0 "${xvfb_pid}" 2>/dev/null || { echo "Xvfb did not start on :${number}" >&2; exit 1; }
  sleep 0.1
done
echo "Virtual screen :${number} (Xvfb PID ${xvfb_pid})"

out="$(pwd)/screenshots"
DISPLAY=":${number}" .venv/bin/python scripts/walkthrough.py --out "${out}"
echo "Screenshots of every screen are in ${out}"
