#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian/Ubuntu machine and runs it headless:
# ruff, mypy, then pytest with Qt offscreen. Extra arguments go to pytest (`bash scripts/test.sh -k planfile`).
set -euo pipefail
cd "$(dirname "$0")/.."
DRS_EXTRAS="[test,build]"  # build: PyInstaller, for tests/packaging (the bundle is built and tested)
# libfaketime: the kill -9 tests run the CLI with its clock off DRS's; gnome-keyring and dbus-daemon: the
# packaged bundle is tested against a desktop's Secret Service keyring; desktop-file-utils: the Linux
# archive's menu entry is checked with desktop-file-validate (tests/packaging).
DRS_SYSTEM_EXTRAS="faketime gnome-keyring dbus-daemon desktop-file-utils"
# PyInstaller (tests/packaging builds the bundle) runs objdump and strip (binutils) and needs Python as a
# shared library: Debian's own python3 keeps it in libpython3.X (a python.org or pyenv build has its own).
DRS_SYSTEM_EXTRAS+=" binutils"
# systemd: `systemd-analyze verify` checks the scheduled drills' user timer and service units
# (tests/schedules); nothing is enabled, CI has no user session.
DRS_SYSTEM_EXTRAS+=" systemd"
python_path=$(command -v "${PYTHON:-python3}" || true)
if [ -n "$python_path" ] && dpkg-query -S "$(readlink -f "$python_path")" >/dev/null 2>&1; then
  DRS_SYSTEM_EXTRAS+=" libpython$("$python_path" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
fi
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh

echo "== ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy" >&2
.venv/bin/mypy
echo "== pytest" >&2
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m pytest "$@"
