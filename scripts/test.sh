#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian/Ubuntu machine and runs it headless.
# Idempotent: system packages are installed only where missing, the virtual environment is reused.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k planfile`).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Shared libraries Qt needs to run offscreen, and what a venv needs on Debian's own Python.
system_packages=(libegl1 libgl1 libopengl0 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0
                 libxkbcommon0)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${system_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "DRS Desktop needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2; exit 2; }
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  missing+=("python3-venv")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"

echo "== ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy" >&2
.venv/bin/mypy
echo "== pytest" >&2
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m pytest "$@"
