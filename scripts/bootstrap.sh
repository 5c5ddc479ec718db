# Sourced by run.sh and test.sh: makes sure a fresh Debian/Ubuntu machine has what DRS Desktop needs,
# then a virtual environment in .venv with the project installed (extras in $DRS_EXTRAS, e.g. "[test]").
# Idempotent: system packages are installed only where missing, the virtual environment is reused.

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Shared libraries Qt needs (also offscreen), and what a venv needs on Debian's own Python.
system_packages=(libegl1 libgl1 libopengl0 libx11-6 libx11-xcb1 libdbus-1-3 libfontconfig1 libfreetype6
                 libglib2.0-0 libxkbcommon0 libxkbcommon-x11-0)
# What Qt's xcb platform plugin (a real window on X11) links to beyond those: `ldd` of PySide6's
# plugins/platforms/libqxcb.so and lib/libQt6XcbQpa.so.6. A desktop install of Debian or Ubuntu lacks
# several (libxcb-cursor0 first): without them `drs-desktop` cannot open a window and Qt names only the
# first missing one. tests/test_bootstrap_xcb.py keeps this list equal to what ldd names.
system_packages+=(libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
                  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
                  libxcb-xfixes0 libxcb-xkb1)
# Extra system packages the caller needs (test.sh: faketime, for the skewed-desktop-clock tests).
read -r -a extra_packages <<< "${DRS_SYSTEM_EXTRAS:-}"
system_packages+=("${extra_packages[@]}")
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${system_packages[@]}"; do
    # Ubuntu 24.04 renamed some libraries with a t64 suffix (libglib2.0-0t64); apt installs either name.
    # dpkg-query fails for the name that does not exist: its status is read, never its exit code
    # (the callers run with pipefail).
    status=$(dpkg-query -W -f='${Status}\n' "$pkg" "${pkg}t64" 2>/dev/null || true)
    grep -q "install ok installed" <<< "$status" || missing+=("$pkg")
  done
fi
if [ -n "${DRS_BOOTSTRAP_CHECK_ONLY:-}" ]; then  # tests: what would be installed, and nothing done
  printf '%s\n' "${missing[@]}"
  return 0
fi

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "DRS Desktop needs Python 3.11 or newer; '$PYTHON' was not found." >&2; exit 2
fi
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "DRS Desktop needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)." >&2; exit 2; }
if [ ! -x .venv/bin/python ] && ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
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
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${DRS_EXTRAS:-}"
