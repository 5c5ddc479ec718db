#!/usr/bin/env bash
# Removes what install.sh put for the current user: the program folder, the ~/.local/bin link (only if it
# still points to that program), the menu entry and the icons, as listed in the program folder's
# install-manifest.txt. Keeps the data folder (the database, its backups, the logs, the reports) and the
# keyring entries unless told otherwise. install.sh also puts this script into the program folder:
#
#   bash ~/.local/opt/drs-desktop/uninstall.sh                # the program; the data stays
#   bash ~/.local/opt/drs-desktop/uninstall.sh --purge        # the data folder too, after asking
#   bash ~/.local/opt/drs-desktop/uninstall.sh --purge --yes  # the same without asking (no terminal)
#
# --purge removes only a folder that holds DRS Desktop's database, never / or the home folder.
# Needs bash and coreutils.
set -euo pipefail

main() {  # all of it in a function: bash has read the whole script before it deletes its own folder
  local APP=drs-desktop purge=no yes=no
  while [ $# -gt 0 ]; do
    case "$1" in
      --purge) purge=yes ;;
      --yes) yes=yes ;;
      -h | --help)
        sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        return 0
        ;;
      *)
        echo "uninstall.sh: unknown option $1 (--purge, --yes)" >&2
        return 2
        ;;
    esac
    shift
  done
  [ -n "${HOME:-}" ] || { echo "uninstall.sh: HOME is not set" >&2; return 1; }

  local here target manifest data_home
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # Run from the installed program folder, or from an extracted archive (then the default place).
  if [ -f "$here/install-manifest.txt" ]; then target=$here; else target=$HOME/.local/opt/$APP; fi
  manifest=$target/install-manifest.txt
  data_home=${XDG_DATA_HOME:-$HOME/.local/share}
  case $data_home in /*) ;; *) data_home=$HOME/.local/share ;; esac

  local program="" link="" desktop="" data=""
  local icons=()
  if [ -f "$manifest" ]; then
    local kind path
    while read -r kind path; do
      case $kind in
        program) program=$path ;;
        link) link=$path ;;
        desktop) desktop=$path ;;
        icon) icons+=("$path") ;;
        data) data=$path ;;
      esac
    done < "$manifest"
  else
    echo "No $manifest: removing what install.sh puts in its usual places."
    program=$target
    link=$HOME/.local/bin/$APP
    desktop=$data_home/applications/$APP.desktop
    local icon
    for icon in "$data_home"/icons/hicolor/*/apps/"$APP".png; do
      if [ -f "$icon" ]; then icons+=("$icon"); fi
    done
  fi
  data=${data:-${DRS_DESKTOP_HOME:-$data_home/$APP}}

  local pid exe real
  real=$(realpath -m -- "$program/$APP")  # the kernel names a process's executable by its real path
  for pid in /proc/[0-9]*; do
    exe=$(readlink "$pid/exe" 2>/dev/null) || continue
    if [ "$exe" = "$real" ]; then
      echo "uninstall.sh: DRS Desktop is running from $program: quit it first" >&2
      return 1
    fi
  done

  local removed=()
  if [ -n "$link" ] && [ -L "$link" ] && [ "$(readlink "$link")" = "$program/$APP" ]; then
    rm -f "$link"
    removed+=("$link")
  fi
  if [ -n "$desktop" ] && [ -f "$desktop" ]; then
    rm -f "$desktop"
    removed+=("$desktop")
  fi
  local icon
  for icon in "${icons[@]}"; do
    if [ -f "$icon" ]; then
      rm -f "$icon"
      removed+=("$icon")
      # hicolor/<N>x<N>/apps/ and hicolor/<N>x<N>/ when install.sh's icon was all they held
      rmdir "$(dirname "$icon")" "$(dirname "$(dirname "$icon")")" 2>/dev/null || true
    fi
  done
  # The program folder only if it is one (its executable and _internal/): never a folder named by mistake.
  if [ -x "$program/$APP" ] && [ -d "$program/_internal" ]; then
    rm -rf "$program"
    removed+=("$program")
    rmdir "$(dirname "$program")" 2>/dev/null || true  # ~/.local/opt, when DRS Desktop was all it held
  elif [ -e "$program" ]; then
    echo "uninstall.sh: $program does not look like DRS Desktop's program folder; left alone" >&2
  fi
  if command -v update-desktop-database >/dev/null 2>&1 && [ -n "$desktop" ]; then
    update-desktop-database -q "$(dirname "$desktop")" >/dev/null 2>&1 || true
  fi
  local icons_dir=$data_home/icons/hicolor
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$icons_dir/index.theme" ]; then
    gtk-update-icon-cache -q -t "$icons_dir" >/dev/null 2>&1 || true
  fi

  if [ ${#removed[@]} -eq 0 ]; then
    echo "DRS Desktop was not installed for ${USER:-this user} (nothing to remove)."
  else
    echo "Removed:"
    printf '  %s\n' "${removed[@]}"
  fi

  if [ "$purge" = yes ]; then
    data=${data/#\~/$HOME}
    data=$(realpath -m -- "$data")
    if [ ! -d "$data" ]; then
      echo "No data folder at $data."
    elif [ "$data" = / ] || [ "$data" = "$(realpath -m -- "$HOME")" ] || [ ! -f "$data/$APP.sqlite3" ]; then
      echo "uninstall.sh: $data does not look like DRS Desktop's data folder (no $APP.sqlite3 in it, or" >&2
      echo "it is / or your home folder); left alone. Remove what you want of it by hand." >&2
      return 1
    else
      echo "The data folder $data (the database, its backups, the logs, the reports):"
      echo "  $(du -sh "$data" | cut -f1) in all"
      if [ "$yes" != yes ]; then
        if [ ! -t 0 ]; then
          echo "uninstall.sh: not removed: add --yes to remove it without a question" >&2
          return 1
        fi
        local answer=""
        read -r -p "Delete it for good? [y/N] " answer || true
        case $answer in
          y | Y | yes | YES) ;;
          *)
            echo "Kept $data."
            purge=no
            ;;
        esac
      fi
      if [ "$purge" = yes ]; then
        echo "Removing $data"
        rm -rf "$data"
        echo "Removed $data."
      fi
    fi
  elif [ -d "$data" ]; then
    echo "Kept the data folder $data (the database, its backups, the logs, the reports)."
    echo "To remove it too: rm -rf '$data'   (or run uninstall.sh --purge from the archive)"
  fi
  echo "Kept the keyring entries (AWS credentials) of service \"$APP\" in your login keyring. To remove"
  echo "them: secret-tool clear service $APP   (package libsecret-tools), or delete the \"$APP\" entries"
  echo "in Passwords and Keys (Seahorse)."
}

main "$@"
exit
