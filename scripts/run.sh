#!/usr/bin/env bash
# Installs DRS Desktop on a fresh Debian/Ubuntu machine (system libraries for Qt, a virtual environment in
# .venv) and starts it. Arguments go to drs-desktop: `bash scripts/run.sh --demo`, `bash scripts/run.sh plan list`.
set -euo pipefail
cd "$(dirname "$0")/.."
DRS_EXTRAS=""
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
exec .venv/bin/drs-desktop "$@"
