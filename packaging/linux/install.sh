#!/usr/bin/env bash
# Installs DRS Desktop for the current user, from the folder this script was extracted with; no root, no
# network. Run it again from a newer archive to upgrade. Usage: bash install.sh
#
# Where things go (what uninstall.sh removes again; it reads them back from install-manifest.txt):
#   ~/.local/opt/drs-desktop/                  the program (drs-desktop, _internal/, uninstall.sh)
#   ~/.local/bin/drs-desktop                   a symbolic link to it, for the terminal
#   $XDG_DATA_HOME/applications/drs-desktop.desktop           the menu entry ($XDG_DATA_HOME defaults
#   $XDG_DATA_HOME/icons/hicolor/<N>x<N>/apps/drs-desktop.png  to ~/.local/share)
# Never touched: the data folder ($XDG_DATA_HOME/drs-desktop, or $DRS_DESKTOP_HOME: the database, its
# backups, the logs, the reports) and the OS keyring's entries (service "drs-desktop").
#
# Upgrading: the new program is copied next to the old one, then the two are swapped by renaming, so a
# failed copy leaves the old program as it was. The database migrates (with its backup) when the new
# version first starts.
#
# Afterwards the script checks that the system has the libraries the bundled Qt needs to open a window
# on X11 (ldd on its xcb platform plugin, the bundle's own libraries counting as present) and, if some
# are missing, prints one `sudo apt install ...` line naming their Debian/Ubuntu packages.
# For tests only: DRS_INSTALL_CHECK_FILES (space-separated paths) replaces the plugins that are checked.
#
# Needs bash, coreutils and ldd (libc-bin); uses update-desktop-database, gtk-update-icon-cache and
# xdg-icon-resource only if they are installed.
set -euo pipefail

APP=drs-desktop
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "install.sh: $*" >&2; exit 1; }

[ -n "${HOME:-}" ] || fail "HOME is not set"
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
case $data_home in /*) ;; *) data_home=$HOME/.local/share ;; esac  # the XDG spec: relative is ignored
opt_dir=$HOME/.local/opt
target=$opt_dir/$APP
bin_dir=$HOME/.local/bin
link=$bin_dir/$APP
apps_dir=$data_home/applications
desktop_file=$apps_dir/$APP.desktop
icons_dir=$data_home/icons/hicolor
data_dir=${DRS_DESKTOP_HOME:-$data_home/$APP}

# The bundle is built on Debian 12 and carries libraries that need its C library or newer.
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}') || glibc=""
if [ -n "$glibc" ] && [ "$(printf '%s\n' 2.36 "$glibc" | sort -V | head -n 1)" != 2.36 ]; then
  fail "this system's C library is glibc $glibc; DRS Desktop needs glibc 2.36 or newer (Debian 12, Ubuntu 24.04 and later)"
fi

# Absolute, with ~ expanded and links resolved: what uninstall.sh --purge would remove must be exactly the
# folder the application uses, wherever uninstall.sh is run from.
data_dir=${data_dir/#\~/$HOME}
data_dir=$(realpath -m -- "$data_dir")

source_dir=$here/$APP
if [ ! -x "$source_dir/$APP" ] || [ ! -d "$source_dir/_internal" ]; then
  fail "no program at $source_dir/$APP: run the install.sh of an extracted drs-desktop archive"
fi
[ -f "$here/$APP.desktop" ] || fail "$here/$APP.desktop is missing from the archive"

# The program must not be running from the folder being replaced: what it loads later (Qt plugins,
# botocore's models) would be gone under it.
running_from() {  # the kernel names a process's executable by its real path: compare real paths
  local exe pid real
  real=$(realpath -m -- "$1/$APP")
  for pid in /proc/[0-9]*; do
    exe=$(readlink "$pid/exe" 2>/dev/null) || continue
    if [ "$exe" = "$real" ]; then return 0; fi
  done
  return 1
}
if running_from "$target"; then
  fail "DRS Desktop is running from $target: quit it (and any drs-desktop command), then run install.sh again"
fi

# Desktop Entry Exec value: the path in double quotes, with \ " ` $ escaped for the Exec syntax, every
# backslash escaped again for the string syntax, and % doubled (the field-code escape).
exec_value() {
  local path=$1
  path=${path//\\/\\\\\\\\}
  path=${path//\"/\\\\\"}
  path=${path//\`/\\\\\`}
  path=${path//\$/\\\\\$}
  path=${path//%/%%}
  printf '"%s"' "$path"
}

# 1. The program: copied to a temporary sibling, then swapped in.
mkdir -p "$opt_dir"
staging=$(mktemp -d "$opt_dir/.$APP.new.XXXXXX")
trap 'rm -rf "$staging"' EXIT
cp -a "$source_dir/." "$staging/"
cp "$here/uninstall.sh" "$staging/uninstall.sh"
chmod 755 "$staging" "$staging/uninstall.sh"
previous=""
if [ -e "$target" ] || [ -L "$target" ]; then
  previous=$(mktemp -d "$opt_dir/.$APP.old.XXXXXX")
  # Should the swap fail half-way, the old program goes back where it was.
  trap 'rm -rf "$staging"; if [ ! -e "$target" ] && [ -e "$previous/$APP" ]; then mv "$previous/$APP" "$target"; fi; rm -rf "$previous"' EXIT
  mv "$target" "$previous/"
fi
mv "$staging" "$target"
trap - EXIT
if [ -n "$previous" ]; then rm -rf "$previous"; fi

# 2. The command: a link in ~/.local/bin (an existing file there that is not our link is left alone).
mkdir -p "$bin_dir"
if [ -L "$link" ] || [ ! -e "$link" ]; then
  ln -sfn "$target/$APP" "$link"
  linked=yes
else
  linked=no
  echo "Note: $link exists and is not a link; left as it is (the program is $target/$APP)." >&2
fi

# 3. The menu entry, its Exec line pointing at the installed program.
mkdir -p "$apps_dir"
exec_line="Exec=$(exec_value "$target/$APP")"
tryexec_line="TryExec=${target//\\/\\\\}/$APP"  # a plain string: only \ is escaped
{
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      "Exec=@EXEC@") printf '%s\n' "$exec_line" ;;
      "TryExec=@EXEC@") printf '%s\n' "$tryexec_line" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < "$here/$APP.desktop"
} > "$desktop_file.tmp"
chmod 644 "$desktop_file.tmp"
mv "$desktop_file.tmp" "$desktop_file"

# 4. The icons, in the hicolor theme every desktop reads.
icons=()
for source in "$here"/icons/hicolor/*/apps/"$APP".png; do
  [ -f "$source" ] || continue
  size=$(basename "$(dirname "$(dirname "$source")")")
  mkdir -p "$icons_dir/$size/apps"
  cp "$source" "$icons_dir/$size/apps/$APP.png"
  icons+=("$icons_dir/$size/apps/$APP.png")
done

# What uninstall.sh removes: one "kind path" per line.
{
  echo "program $target"
  if [ "$linked" = yes ]; then echo "link $link"; fi
  echo "desktop $desktop_file"
  for icon in "${icons[@]}"; do echo "icon $icon"; done
  echo "data $data_dir"
} > "$target/install-manifest.txt"

# 5. The desktop's caches, where the tools exist (a menu entry shows up without them, a little later).
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q "$apps_dir" >/dev/null 2>&1 || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$icons_dir/index.theme" ]; then
  gtk-update-icon-cache -q -t "$icons_dir" >/dev/null 2>&1 || true
fi
if command -v xdg-icon-resource >/dev/null 2>&1; then
  xdg-icon-resource forceupdate --mode user >/dev/null 2>&1 || true
fi

# 6. The system libraries Qt's xcb platform plugin needs that neither the system nor the bundle has.
package_of() {  # soname -> Debian/Ubuntu package; empty when not known
  case $1 in
    libGL.so.1) echo libgl1 ;;
    libEGL.so.1) echo libegl1 ;;
    libOpenGL.so.0) echo libopengl0 ;;
    libGLX.so.0) echo libglx0 ;;
    libGLdispatch.so.0) echo libglvnd0 ;;
    libfontconfig.so.1) echo libfontconfig1 ;;
    libfreetype.so.6) echo libfreetype6 ;;
    libxkbcommon.so.0) echo libxkbcommon0 ;;
    libxkbcommon-x11.so.0) echo libxkbcommon-x11-0 ;;
    libdbus-1.so.3) echo libdbus-1-3 ;;
    libX11.so.6) echo libx11-6 ;;
    libX11-xcb.so.1) echo libx11-xcb1 ;;
    libXau.so.6) echo libxau6 ;;
    libXdmcp.so.6) echo libxdmcp6 ;;
    libXext.so.6) echo libxext6 ;;
    libXrender.so.1) echo libxrender1 ;;
    libSM.so.6) echo libsm6 ;;
    libICE.so.6) echo libice6 ;;
    libxcb.so.1) echo libxcb1 ;;
    libxcb-cursor.so.0) echo libxcb-cursor0 ;;
    libxcb-glx.so.0) echo libxcb-glx0 ;;
    libxcb-icccm.so.4) echo libxcb-icccm4 ;;
    libxcb-image.so.0) echo libxcb-image0 ;;
    libxcb-keysyms.so.1) echo libxcb-keysyms1 ;;
    libxcb-randr.so.0) echo libxcb-randr0 ;;
    libxcb-render.so.0) echo libxcb-render0 ;;
    libxcb-render-util.so.0) echo libxcb-render-util0 ;;
    libxcb-shape.so.0) echo libxcb-shape0 ;;
    libxcb-shm.so.0) echo libxcb-shm0 ;;
    libxcb-sync.so.1) echo libxcb-sync1 ;;
    libxcb-util.so.1) echo libxcb-util1 ;;
    libxcb-xfixes.so.0) echo libxcb-xfixes0 ;;
    libxcb-xinput.so.0) echo libxcb-xinput0 ;;
    libxcb-xkb.so.1) echo libxcb-xkb1 ;;
    libwayland-client.so.0) echo libwayland-client0 ;;
    libwayland-cursor.so.0) echo libwayland-cursor0 ;;
    libwayland-egl.so.1) echo libwayland-egl1 ;;
    libglib-2.0.so.0 | libgthread-2.0.so.0) echo libglib2.0-0 ;;
    libpng16.so.16) echo libpng16-16 ;;
    libz.so.1) echo zlib1g ;;
    libexpat.so.1) echo libexpat1 ;;
    *) ;;
  esac
}

missing_libraries() {  # the sonames ldd cannot find, one per line, sorted
  local plugins=$target/_internal/PySide6/Qt/plugins files=()
  if [ -n "${DRS_INSTALL_CHECK_FILES:-}" ]; then
    read -r -a files <<< "$DRS_INSTALL_CHECK_FILES"
  else
    files=("$plugins/platforms/libqxcb.so")
    for file in "$plugins"/xcbglintegrations/*.so; do
      if [ -f "$file" ]; then files+=("$file"); fi
    done
  fi
  for file in "${files[@]}"; do
    LD_LIBRARY_PATH="$target/_internal${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$file" 2>/dev/null || true
  done | sed -n 's/^[[:space:]]*\([^[:space:]]*\) => not found.*$/\1/p' | sort -u
}

library_line=""
if command -v ldd >/dev/null 2>&1; then
  packages=()
  unknown=()
  while IFS= read -r soname; do
    [ -n "$soname" ] || continue
    package=$(package_of "$soname")
    if [ -z "$package" ]; then
      unknown+=("$soname")
    else
      case " ${packages[*]} " in *" $package "*) ;; *) packages+=("$package") ;; esac
    fi
  done < <(missing_libraries)
  if [ ${#packages[@]} -gt 0 ] || [ ${#unknown[@]} -gt 0 ]; then
    if [ ${#packages[@]} -gt 0 ]; then
      library_line="sudo apt install ${packages[*]}"
      if [ ${#unknown[@]} -gt 0 ]; then library_line+="  # and the packages providing: ${unknown[*]}"; fi
    else
      library_line="# the system lacks: ${unknown[*]} (apt-file search <name> finds their packages)"
    fi
  fi
fi

if ! version=$("$target/$APP" --version 2>"$target/.version-check.err"); then
  echo "install.sh: the installed program does not start on this system:" >&2
  cat "$target/.version-check.err" >&2
  rm -f "$target/.version-check.err"
  fail "installed in $target, but it cannot run here (see above); bash $target/uninstall.sh removes it"
fi
rm -f "$target/.version-check.err"
echo "Installed $version:"
echo "  program    $target"
if [ "$linked" = yes ]; then echo "  command    $link"; fi
echo "  menu entry $desktop_file"
echo "  icons      $icons_dir/<size>/apps/$APP.png"
echo "  data       $data_dir (unchanged; the database, its backups, the logs and the reports)"
echo "  uninstall  bash $target/uninstall.sh"
case ":${PATH:-}:" in
  *":$bin_dir:"*) ;;
  *)
    echo "Note: $bin_dir is not on your PATH, so a terminal does not find drs-desktop yet. Debian's and"
    echo "Ubuntu's ~/.profile add it at your next login; or add it yourself: export PATH=\"\$HOME/.local/bin:\$PATH\""
    ;;
esac
if [ -n "$library_line" ]; then
  echo "DRS Desktop cannot open its window until the system has these libraries; install them with:"
  echo "$library_line"
fi
