#!/usr/bin/env bash
# Builds the packaged application with PyInstaller (build.spec) into dist/drs-desktop/, then the Linux
# archive dist/drs-desktop-<version>-linux-<arch>.tar.gz: the program in drs-desktop/, and from
# packaging/linux/ what a desktop needs (install.sh, uninstall.sh, the .desktop file, README.txt) with
# the icons in the hicolor layout. Needs the `build` extra in .venv (`bash scripts/build_bundle.sh`
# installs it when missing). Prints the archive's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
  "$PY" -m pip install -q --disable-pip-version-check -e ".[build]"
fi
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN build.spec >&2
version=$("$PY" -c 'import drs_desktop; print(drs_desktop.__version__)')
arch=$(uname -m)
name="drs-desktop-${version}-linux-${arch}"
stage="build/archive/${name}"
rm -rf "build/archive"
mkdir -p "$stage"
cp -a dist/drs-desktop "$stage/drs-desktop"
# What a desktop needs besides the program (packaging/linux/): the menu entry, the icon in the hicolor
# layout, the per-user install and uninstall scripts, and how to use them.
install -m 644 packaging/linux/drs-desktop.desktop packaging/linux/README.txt "$stage/"
install -m 755 packaging/linux/install.sh packaging/linux/uninstall.sh "$stage/"
for png in resources/icons/drs-desktop-*.png; do
  size=${png##*-}
  size=${size%.png}
  install -D -m 644 "$png" "$stage/icons/hicolor/${size}x${size}/apps/drs-desktop.png"
done
archive="dist/${name}.tar.gz"
tar -C build/archive -czf "$archive" "$name"
echo "$archive"
