#!/usr/bin/env bash
# Checks that the Linux archive opens a real window (Qt's xcb platform) on a fresh Debian 12 desktop with
# nothing installed by hand. It builds a minimal Debian 12 (bookworm) root with mmdebstrap (debootstrap
# when mmdebstrap is missing): variant minbase plus ONLY a desktop's baseline libraries (BASELINE below),
# nothing of Qt's xcb list. In that root a normal user unpacks the archive, runs its install.sh when it has
# one, then starts `drs-desktop --demo` with QT_QPA_PLATFORM=xcb on the host's Xvfb (the root sees the host's
# /tmp/.X11-unix through a bind mount; Xvfb, xdotool and imagemagick run on the host). It waits for the
# main window, screenshots the screen, closes the window as a window manager would (WM_DELETE_WINDOW),
# then runs `drs-desktop --self-test` under xcb too.
#
# Usage (as root; needs mmdebstrap or debootstrap, Xvfb, xdotool, imagemagick on the host):
#   bash scripts/check_fresh_debian.sh [--fresh] [--archive FILE] [--root DIR] [--out DIR]
#   --archive  the Linux archive (default: the newest dist/drs-desktop-*-linux-*.tar.gz, which
#              `bash scripts/build_bundle.sh` builds)
#   --root     where the Debian root is kept between runs (default build/debian12-root); a re-run reuses
#              it and takes seconds. --fresh builds it anew (about 100 MB from Debian's mirror).
#   --out      screenshot, logs and stderr of the program (default build/fresh-debian)
# Environment: DRS_DEBIAN_MIRROR (default: mmdebstrap's own), DRS_FRESH_DEBIAN_SCREEN (default 1280x800).
# Exits 0 when the window appeared, was big enough and closed, and the self-test passed; 1 otherwise, with
# the program's stderr (Qt names missing xcb libraries there: "Could not load the Qt platform plugin").
# Every mount is made in a private mount namespace (unshare) and unmounted by a trap: nothing is left
# mounted on the host, and a root is never removed while anything is mounted under it.
set -euo pipefail

if [[ -z ${DRS_FRESH_DEBIAN_NS:-} ]]; then
  # A private mount namespace: the bind mounts below are invisible to the host and die with this process
  # even if the trap never runs (kill -9).
  command -v unshare >/dev/null || { echo "unshare (util-linux) is needed" >&2; exit 1; }
  DRS_FRESH_DEBIAN_NS=1 exec unshare --mount --propagation private -- bash "$0" "$@"
fi

cd "$(dirname "$0")/.."
REPO=$PWD
SUITE=bookworm
BASELINE=(libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libx11-6)
SCREEN=${DRS_FRESH_DEBIAN_SCREEN:-1280x800}
USER_NAME=drs
USER_ID=1000
MIN_WIDTH=400
MIN_HEIGHT=300
WINDOW_TIMEOUT=90  # seconds: the window shows in about a second here; a loaded 2-core machine is slower
CLOSE_TIMEOUT=20
SELF_TEST_TIMEOUT=300

archive=""
root=build/debian12-root
out=build/fresh-debian
fresh=0
while (($#)); do
  case $1 in
    --fresh) fresh=1 ;;
    --archive) archive=$2; shift ;;
    --root) root=$2; shift ;;
    --out) out=$2; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || fail "run as root: mmdebstrap, chroot and mount need it"
for tool in Xvfb xdotool import python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing on the host (apt-get install -y xvfb xdotool imagemagick python3)"
done
if command -v mmdebstrap >/dev/null; then
  bootstrapper=mmdebstrap
elif command -v debootstrap >/dev/null; then
  bootstrapper=debootstrap
else
  fail "neither mmdebstrap nor debootstrap is installed (apt-get install -y mmdebstrap)"
fi

if [[ -z $archive ]]; then
  archive=$(find dist -maxdepth 1 -name 'drs-desktop-*-linux-*.tar.gz' -printf '%T@ %p\n' 2>/dev/null |
    sort -n | tail -1 | cut -d' ' -f2-)
  [[ -n $archive ]] || fail "no dist/drs-desktop-*-linux-*.tar.gz: build it with bash scripts/build_bundle.sh"
fi
[[ -f $archive ]] || fail "no archive at $archive"
archive=$(realpath "$archive")
mkdir -p "$root" "$out"
root=$(realpath "$root")
out=$(realpath "$out")
# Only this script's own files: --out may name a folder that holds other things.
rm -f "$out"/{fresh-debian12.png,bootstrap.log,install.log,xvfb.log,program-stdout.log,program-stderr.log} \
  "$out"/{self-test.log,packages.txt,ldd-xcb.txt,window.txt,system-libraries.txt,system-files.txt}

# --- guarded removal: never rm -rf a tree with a mount under it ---------------------------------------
mounted_under() { findmnt -rn -o TARGET | awk -v p="$1" '$0 == p || index($0, p "/") == 1'; }
remove_tree() {
  [[ -e $1 ]] || return 0
  if [[ -n $(mounted_under "$1") ]]; then
    fail "refusing to remove $1: still mounted under it: $(mounted_under "$1" | tr '\n' ' ')"
  fi
  rm -rf -- "$1"
}

# --- cleanup: program, Xvfb, mounts (innermost first) ----------------------------------------------------
mounts=()
app_pid=""
xvfb_pid=""
cleanup() {
  local status=$?
  if [[ -n $app_pid ]] && kill -0 "$app_pid" 2>/dev/null; then kill -KILL "$app_pid" 2>/dev/null || true; fi
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount -R "${mounts[i]}" 2>/dev/null || umount -R -l "${mounts[i]}" || true
  done
  if [[ -n $xvfb_pid ]]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  if [[ -n $(mounted_under "$root") ]]; then
    echo "WARNING: still mounted under $root: $(mounted_under "$root" | tr '\n' ' ')" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the Debian 12 root: built once, reused ------------------------------------------------------------
marker="$root/.drs-fresh-debian"
wanted="$SUITE minbase ${BASELINE[*]}"
started=$(date +%s)
if ((fresh)) || [[ ! -f $marker ]] || [[ $(cat "$marker") != "$wanted" ]]; then
  say "building a fresh Debian 12 ($SUITE) root with $bootstrapper in $root (minbase + ${BASELINE[*]})"
  partial="$root.partial"
  remove_tree "$partial"
  remove_tree "$root"
  mirror=()
  if [[ -n ${DRS_DEBIAN_MIRROR:-} ]]; then mirror=("$DRS_DEBIAN_MIRROR"); fi
  includes=$(IFS=,; echo "${BASELINE[*]}")
  if [[ $bootstrapper == mmdebstrap ]]; then
    mmdebstrap --variant=minbase --include="$includes" "$SUITE" "$partial" "${mirror[@]}" \
      >"$out/bootstrap.log" 2>&1 || { tail -20 "$out/bootstrap.log" >&2; fail "mmdebstrap failed"; }
  else
    debootstrap --variant=minbase --include="$includes" "$SUITE" "$partial" "${mirror[@]}" \
      >"$out/bootstrap.log" 2>&1 || { tail -20 "$out/bootstrap.log" >&2; fail "debootstrap failed"; }
  fi
  chroot "$partial" useradd --create-home --uid "$USER_ID" --shell /bin/bash "$USER_NAME"
  echo "$wanted" >"$partial/.drs-fresh-debian"
  mv "$partial" "$root"
  root_note="built in $(($(date +%s) - started)) s"
else
  root_note="reused (built earlier; --fresh builds it anew)"
fi
say "Debian root $root: $root_note"
release=$(cat "$root/etc/debian_version")
dpkg -l --root="$root" >"$out/packages.txt"
package_count=$(grep -c '^ii' "$out/packages.txt")
xlibs=$(awk '/^ii/ && $2 ~ /^lib(xcb|xkb|x11-xcb)/ {sub(/:.*/, "", $2); printf "%s ", $2}' "$out/packages.txt")
say "Debian $release, $package_count packages installed (list: $out/packages.txt)"
say "libxcb*/libxkb* in the root: $xlibs"

# --- mounts: /proc, /dev, the host's X socket folder ---------------------------------------------------
mount -t proc proc "$root/proc"
mounts+=("$root/proc")
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mounts+=("$root/dev")
mkdir -p /tmp/.X11-unix "$root/tmp/.X11-unix"
chmod 1777 /tmp/.X11-unix
mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
mounts+=("$root/tmp/.X11-unix")

# --- a fresh home for the user, the archive unpacked and installed by that user ------------------------
home="/home/$USER_NAME"
remove_tree "$root$home"
remove_tree "$root/run/user/$USER_ID"
chroot "$root" install -d -o "$USER_NAME" -g "$USER_NAME" -m 0755 "$home"
chroot "$root" install -d -o "$USER_NAME" -g "$USER_NAME" -m 0700 "/run/user/$USER_ID"
cp "$archive" "$root$home/"
chown "$USER_ID:$USER_ID" "$root$home/$(basename "$archive")"

# A command as the user inside the root, with a login's clean environment. An array, not a function, so
# that `"${as_user[@]}" cmd &` puts the program itself in $! (chroot, setpriv and env each exec the next).
as_user=(chroot "$root" setpriv --reuid="$USER_ID" --regid="$USER_ID" --init-groups
  env -i HOME="$home" USER="$USER_NAME" LOGNAME="$USER_NAME" LANG=C.UTF-8
  PATH="$home/.local/bin:/usr/local/bin:/usr/bin:/bin" XDG_RUNTIME_DIR="/run/user/$USER_ID")

"${as_user[@]}" tar -xzf "$home/$(basename "$archive")" -C "$home"
top=$(tar -tzf "$archive" | awk -F/ 'NR == 1 {print $1}')  # awk reads it all: no SIGPIPE
bundle="$home/$top/drs-desktop"
bundle_size=$(du -sh "$root$bundle" | cut -f1)
archive_size=$(du -h "$archive" | cut -f1)
if [[ -f "$root$home/$top/install.sh" ]]; then
  say "running the archive's install.sh as $USER_NAME"
  "${as_user[@]}" bash "$home/$top/install.sh" >"$out/install.log" 2>&1 || {
    cat "$out/install.log"
    fail "install.sh failed"
  }
  sed 's/^/    install.sh: /' "$out/install.log"
  program="$home/.local/bin/drs-desktop"
  [[ -e "$root$program" || -L "$root$program" ]] || fail "install.sh left no $program"
  install_note="install.sh ran; program $program"
else
  program="$bundle/drs-desktop"
  install_note="the archive has no install.sh: started $program directly"
fi
say "$install_note"

# What the xcb plugin needs that neither the bundle nor the root has (Qt's error names only the plugin).
internal="$bundle/_internal"
"${as_user[@]}" env LD_LIBRARY_PATH="$internal" ldd \
  "$internal/PySide6/Qt/plugins/platforms/libqxcb.so" "$internal/libQt6XcbQpa.so.6" \
  "$internal"/PySide6/Qt/plugins/xcbglintegrations/*.so >"$out/ldd-xcb.txt" 2>&1 || true
missing=$(awk '/not found/ {print $1}' "$out/ldd-xcb.txt" | sort -u | tr '\n' ' ')
if [[ -n $missing ]]; then
  say "libraries the xcb plugin needs that are missing in the root: $missing"
  for so in $missing; do
    printf '    %s: Debian package %s\n' "$so" "$(dpkg -S "*/$so" 2>/dev/null | cut -d: -f1 | sort -u | tr '\n' ' ' || true)"
  done
else
  say "ldd: every library the xcb plugin links is in the bundle or the root"
fi

# --- Xvfb on the host; its display number from -displayfd (no guessing, no race) -----------------------
exec {xvfb_fd}< <(exec Xvfb -displayfd 1 -screen 0 "${SCREEN}x24" -nolisten tcp 2>"$out/xvfb.log")
xvfb_pid=$!
read -r -t 30 -u "$xvfb_fd" display_number || fail "Xvfb did not start: $(cat "$out/xvfb.log")"
export DISPLAY=":$display_number"
say "Xvfb $SCREEN on the host, display $DISPLAY (the root sees it through /tmp/.X11-unix)"

# --- the window -----------------------------------------------------------------------------------------
show_stderr() {
  echo "---- the program's stderr ($out/program-stderr.log) ----" >&2
  tail -40 "$out/program-stderr.log" >&2
  echo "----" >&2
}
t0=$(date +%s%N)
"${as_user[@]}" env QT_QPA_PLATFORM=xcb DISPLAY="$DISPLAY" "$program" --demo --home "$home/demo-home" \
  >"$out/program-stdout.log" 2>"$out/program-stderr.log" &
app_pid=$!
# xdotool's name is a regex: the main window's title starts with "DRS Desktop" (a dialog's may not).
timeout "$WINDOW_TIMEOUT" xdotool search --sync --onlyvisible --name '^DRS Desktop' >"$out/window.txt" &
search_pid=$!
wait -n "$app_pid" "$search_pid" || true
if ! kill -0 "$app_pid" 2>/dev/null; then
  kill "$search_pid" 2>/dev/null || true
  wait "$app_pid" && rc=0 || rc=$?
  app_pid=""
  show_stderr
  fail "the program exited (status $rc) before its window appeared"
fi
wait "$search_pid" || { show_stderr; fail "no window named 'DRS Desktop' within $WINDOW_TIMEOUT s"; }
t1=$(date +%s%N)
window=$(head -1 "$out/window.txt")
window_ms=$(((t1 - t0) / 1000000))
eval "$(xdotool getwindowgeometry --shell "$window")"
say "main window $window: ${WIDTH}x${HEIGHT}, \"$(xdotool getwindowname "$window")\", after $window_ms ms"
((WIDTH >= MIN_WIDTH && HEIGHT >= MIN_HEIGHT)) || { show_stderr; fail "window ${WIDTH}x${HEIGHT} is smaller than ${MIN_WIDTH}x${MIN_HEIGHT}"; }

# The window is mapped before its first paint lands: take the screenshot once two captures agree.
previous=""
for _ in $(seq 40); do
  current=$(import -window root rgb:- | md5sum)
  [[ $current == "$previous" ]] && break
  previous=$current
  sleep 0.25
done
screenshot="$out/fresh-debian12.png"
import -window root "$screenshot"
say "screenshot $screenshot"

# The system libraries the running program mapped: what a desktop must provide (package names from dpkg).
# Read from the host, the maps name the root's files by host paths: strip the root's prefix.
window_pid=$(xdotool getwindowpid "$window" 2>/dev/null || echo "$app_pid")
[[ $window_pid == "$app_pid" ]] || say "note: the window belongs to pid $window_pid, the program started as $app_pid"
awk '$6 ~ /\.so/ {print $6}' "/proc/$window_pid/maps" | sed "s|^$root/|/|" | sort -u |
  grep -v "^$home/" >"$out/system-libraries.txt" || true
say "system libraries the running window loaded (root paths; package):"
while read -r lib; do
  printf '    %s (%s)\n' "$lib" "$(chroot "$root" dpkg -S "*/$(basename "$lib")" 2>/dev/null | cut -d: -f1 | sort -u | tr '\n' ' ' | sed 's/ $//')"
done <"$out/system-libraries.txt"
# Fonts and other system files it mapped (fontconfig's fonts come from the desktop, not the bundle).
awk '$6 ~ /^\// && $6 !~ /\.so/ {print $6}' "/proc/$window_pid/maps" | sed "s|^$root/|/|" | sort -u |
  grep -v -e "^$home/" -e '^/dev/' -e '^/memfd:' >"$out/system-files.txt" || true
while read -r file; do
  printf '    %s (%s)\n' "$file" "$(chroot "$root" dpkg -S "$file" 2>/dev/null | cut -d: -f1 | sort -u | tr '\n' ' ' | sed 's/ $//')"
done <"$out/system-files.txt"

# Close as a user would (the window manager's close button); TERM, then KILL, only when that does not end it.
python3 "$REPO/scripts/x11_close_window.py" "$window" || true
if timeout "$CLOSE_TIMEOUT" tail --pid="$app_pid" -f /dev/null; then
  wait "$app_pid" && close_rc=0 || close_rc=$?
  close_note="closed by WM_DELETE_WINDOW, exit status $close_rc"
else
  kill -TERM "$app_pid" 2>/dev/null || true
  if timeout 10 tail --pid="$app_pid" -f /dev/null; then
    close_note="did not close on WM_DELETE_WINDOW within $CLOSE_TIMEOUT s; ended by TERM"
  else
    kill -KILL "$app_pid" 2>/dev/null || true
    close_note="did not close on WM_DELETE_WINDOW nor TERM; killed"
  fi
  wait "$app_pid" || true
fi
app_pid=""
say "$close_note"

# --- the self-test under xcb (it defaults to offscreen; xcb set explicitly means the real platform) -----
say "drs-desktop --self-test with QT_QPA_PLATFORM=xcb:"
self_rc=0
"${as_user[@]}" env QT_QPA_PLATFORM=xcb DISPLAY="$DISPLAY" timeout "$SELF_TEST_TIMEOUT" \
  "$program" --self-test --home "$home/self-test-home" >"$out/self-test.log" 2>&1 || self_rc=$?
sed 's/^/    /' "$out/self-test.log"
say "self-test exit status $self_rc"

cat <<EOF

Summary
  Debian release:   $release ($SUITE), root $root_note
  packages in root: $package_count (minbase + ${BASELINE[*]}); libxcb*/libxkb*: $xlibs
  archive:          $archive ($archive_size), unpacked bundle $bundle_size
  install:          $install_note
  time to window:   $window_ms ms (window ${WIDTH}x${HEIGHT}); $close_note
  self-test (xcb):  exit status $self_rc
  screenshot:       $screenshot
EOF
((self_rc == 0)) || fail "the self-test failed under xcb"
case $close_note in closed*) ;; *) fail "the program did not close cleanly: $close_note" ;; esac
say "OK: the bundle opens a real xcb window on a fresh Debian 12 root"
