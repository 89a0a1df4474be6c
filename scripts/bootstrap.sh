#!/usr/bin/env bash
# Installs everything consent-desktop needs on Debian 12: system packages (as root, or with sudo) and the
# project's virtual environment in .venv. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build: pyscard compiles against PC/SC; the PIN-lock test module compiles against p11-kit's headers
  gcc swig libpcsclite-dev libp11-kit-dev python3-venv
  # smartcard test doubles: software token, PKCS#11 tools, PC/SC daemon, virtual reader and card
  softhsm2 opensc pcscd vsmartcard-vpcd python3-virtualsmartcard python3-pycryptodome
  vsmartcard-vpicc
  # Qt on a virtual screen (screenshots, the scripted walk-through) and Qt's runtime libraries
  xvfb xauth libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0
  libxcb-xkb1
  # the Linux smoke build of the MSI
  wixl msitools
  # installing that MSI in a throwaway Wine prefix (64-bit Wine alone: the MSI is x64)
  wine wine64
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "Python 3.11 or newer is needed; found $("$PYTHON" --version)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'
echo "Set-up complete: .venv is ready."
