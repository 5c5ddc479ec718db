#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian/Ubuntu machine and runs it headless:
# ruff, mypy, then pytest with Qt offscreen. Extra arguments go to pytest (`bash scripts/test.sh -k planfile`).
set -euo pipefail
cd "$(dirname "$0")/.."
DRS_EXTRAS="[test]"
DRS_SYSTEM_EXTRAS="faketime desktop-file-utils"  # libfaketime: the kill -9 tests run the CLI with its clock off
# DRS's; desktop-file-validate: the Linux archive's menu entry is checked with it (tests/packaging)
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
