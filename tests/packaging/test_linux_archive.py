"""The Linux archive as an operator uses it: extract, ``bash install.sh``, start from the menu entry, upgrade
with a newer archive's install.sh, uninstall (the data stays), ``--purge`` (the data goes).

Every install goes into a throwaway HOME (with a space in its path, as some are), once with
$XDG_DATA_HOME unset and once set; the program's data folder is the one platformdirs picks, as in real
use. The missing-libraries line is checked on a copy of Qt's xcb plugin whose needed libraries were
renamed to ones this machine lacks (install.sh's DRS_INSTALL_CHECK_FILES, for tests only).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from drs_desktop import __version__
from drs_desktop.app import ICON_SIZES

from .conftest import ROOT, Bundle

pytestmark = pytest.mark.slow

APP = "drs-desktop"
TIMEOUT = 180  # seconds for one install or one command of the bundle on a loaded 2-core machine


@pytest.fixture(scope="module")
def extracted(bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive unpacked as an operator would (tar keeps the modes), its one top-level folder."""
    where = tmp_path_factory.mktemp("archive")
    subprocess.run(["tar", "-xzf", str(bundle.archive), "-C", str(where)], check=True)
    (top,) = where.iterdir()
    return top


def _files(root: Path) -> set[str]:
    """Every file and link under ``root``, relative to it."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def _env(bundle: Bundle, home: Path, xdg_data_home: Path | None) -> dict[str, str]:
    env = bundle.env(home)
    env.pop("DRS_DESKTOP_HOME")  # the data folder is platformdirs' own, as for an operator
    if xdg_data_home is not None:
        env["XDG_DATA_HOME"] = str(xdg_data_home)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def _exec_argv(desktop_file: Path) -> list[str]:
    """The Exec line of a .desktop file as a launcher splits it (string escapes, then quoting)."""
    (line,) = [x for x in desktop_file.read_text().splitlines() if x.startswith("Exec=")]
    value = line.removeprefix("Exec=").replace("\\\\", "\\")
    return shlex.split(value)


def test_the_archive_holds_the_program_the_menu_entry_the_icons_and_the_scripts(bundle: Bundle) -> None:
    with tarfile.open(bundle.archive) as archive:
        members = {m.name: m for m in archive.getmembers()}
    top = f"{APP}-{__version__}-linux-"
    (name,) = {n.split("/")[0] for n in members}
    assert name.startswith(top), name
    executables = [f"{APP}/{APP}", "install.sh", "uninstall.sh"]
    for path in executables:
        assert members[f"{name}/{path}"].mode & 0o111 == 0o111, path
    for path in [f"{APP}.desktop", "README.txt", f"{APP}/_internal/drs_desktop/resources/icons/{APP}-16.png"]:
        assert members[f"{name}/{path}"].isfile(), path
    icons = {n.removeprefix(f"{name}/") for n, m in members.items() if m.isfile() and "/icons/hicolor/" in n}
    assert icons == {f"icons/hicolor/{n}x{n}/apps/{APP}.png" for n in ICON_SIZES}
    # The program folder is the bundle as built, nothing left out.
    archived = {n.removeprefix(f"{name}/{APP}/") for n in members if n.startswith(f"{name}/{APP}/")}
    assert _files(bundle.folder) <= archived


def test_the_menu_entry_is_valid(extracted: Path) -> None:
    validator = shutil.which("desktop-file-validate")
    assert validator, "no desktop-file-validate: apt install desktop-file-utils (scripts/test.sh does)"
    done = subprocess.run([validator, str(extracted / f"{APP}.desktop")], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    entry = (extracted / f"{APP}.desktop").read_text()
    for line in ["Icon=drs-desktop", "Terminal=false", "Exec=@EXEC@", "StartupWMClass=DRS Desktop"]:
        assert line in entry.splitlines(), line


@pytest.mark.parametrize("xdg", [False, True], ids=["default-data-home", "XDG_DATA_HOME"])
def test_install_start_upgrade_uninstall_purge(
    bundle: Bundle, extracted: Path, tmp_path: Path, xdg: bool
) -> None:
    home = tmp_path / "operator home"
    home.mkdir()
    data_home = home / "xdg data" if xdg else home / ".local" / "share"
    env = _env(bundle, home, data_home if xdg else None)
    program = home / ".local" / "opt" / APP
    link = home / ".local" / "bin" / APP
    desktop = data_home / "applications" / f"{APP}.desktop"
    icons = [data_home / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{APP}.png" for n in ICON_SIZES]
    data = data_home / APP

    installed = _run(["bash", str(extracted / "install.sh")], env).stdout
    assert (program / APP).is_file() and (program / "uninstall.sh").is_file()
    assert link.is_symlink() and link.resolve() == (program / APP).resolve()
    assert all(icon.is_file() for icon in icons)
    assert str(data) in installed and str(program) in installed
    assert "is not on your PATH" in installed  # the throwaway PATH has no ~/.local/bin
    # scripts/test.sh installs every system library Qt's xcb plugin needs: nothing to ask for here.
    assert "apt install" not in installed, installed
    validated = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert validated.returncode == 0 and not validated.stdout.strip(), validated.stdout

    # The menu entry starts the installed program; the command on PATH works as the installed package's.
    argv = _exec_argv(desktop)
    assert argv == [str(program / APP)]
    assert _run([*argv, "--version"], env).stdout.strip() == f"{APP} {__version__}"
    assert _run([str(link), "plan", "list"], env).returncode == 0
    assert data.is_dir(), "the data folder install.sh names is not the one the program uses"

    # Upgrade: a newer archive's install.sh replaces the program folder, never the data.
    kept = data / "operator-notes.txt"
    kept.write_text("survives upgrades")
    (program / "left-by-the-old-version").write_text("")
    _run(["bash", str(extracted / "install.sh")], env)
    assert not (program / "left-by-the-old-version").exists()
    assert kept.read_text() == "survives upgrades"
    assert [p.name for p in program.parent.iterdir()] == [APP]  # no temporary sibling left
    assert _run([str(link), "--version"], env).stdout.strip() == f"{APP} {__version__}"

    # Uninstall from the program folder: everything install.sh put goes, the data stays.
    before = _files(home)
    removed = _run(["bash", str(program / "uninstall.sh")], env).stdout
    assert not program.exists() and not link.exists() and not desktop.exists()
    assert not any(icon.exists() for icon in icons)
    assert kept.read_text() == "survives upgrades"
    assert f"Kept the data folder {data}" in removed and "secret-tool clear service drs-desktop" in removed
    after = _files(home)
    assert after >= {p for p in before if p.startswith(str(data.relative_to(home)))}
    # Outside the data folder only the desktop's caches stay (update-desktop-database's, if installed).
    left = {p for p in after if not p.startswith(str(data.relative_to(home)) + "/")}
    assert {Path(p).name for p in left} <= {"mimeinfo.cache", "icon-theme.cache"}, left
    assert not (home / ".local" / "opt").exists()

    # --purge (from the extracted archive, the program being gone) removes the data folder too.
    _run(["bash", str(extracted / "install.sh")], env)
    asked = subprocess.run(
        ["bash", str(extracted / "uninstall.sh"), "--purge"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert asked.returncode == 1 and "add --yes" in asked.stderr and data.is_dir(), (
        "no terminal, no --yes: kept"
    )
    purged = _run(["bash", str(extracted / "uninstall.sh"), "--purge", "--yes"], env).stdout
    assert f"The data folder {data}" in purged and f"Removed {data}." in purged
    assert not data.exists() and not program.exists() and not link.exists() and not desktop.exists()


def test_purge_never_removes_a_folder_that_is_not_drs_desktops_data(
    bundle: Bundle, extracted: Path, tmp_path: Path
) -> None:
    """DRS_DESKTOP_HOME pointed at a shared folder (or the home folder itself) when it was installed:
    --purge must not remove it."""
    home = tmp_path / "home"
    shared = tmp_path / "team share"
    shared.mkdir(parents=True)
    (shared / "someone-elses.txt").write_text("keep me")
    home.mkdir()
    env = _env(bundle, home, None)
    for data_home in (str(shared), str(home)):
        env["DRS_DESKTOP_HOME"] = data_home
        _run(["bash", str(extracted / "install.sh")], env)
        done = subprocess.run(
            ["bash", str(extracted / "uninstall.sh"), "--purge", "--yes"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 1 and "does not look like DRS Desktop's data folder" in done.stderr
        assert (shared / "someone-elses.txt").read_text() == "keep me" and home.is_dir()


#: What a desktop's graphics drivers and X libraries provide, by soname (the libraries a fresh system may
#: lack and the bundle does not carry, or may not): install.sh must know every one.
DESKTOP_BASELINE = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libfreetype.so.6": "libfreetype6",
}


def _soname_table() -> dict[str, str]:
    """install.sh's soname -> package table, read from the script."""
    text = (ROOT / "packaging" / "linux" / "install.sh").read_text()
    table: dict[str, str] = {}
    for sonames, package in re.findall(r"^\s+(lib[^)]*\.so\.[^)]*)\) echo (\S+) ;;$", text, flags=re.M):
        for soname in sonames.split(" | "):
            table[soname] = package
    return table


def _system_sonames() -> set[str]:
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"^\s+(\S+) \(", listing, flags=re.M))


def test_a_missing_system_library_is_named_in_one_apt_line(
    bundle: Bundle, extracted: Path, tmp_path: Path
) -> None:
    table = _soname_table()
    assert {s: table.get(s) for s in DESKTOP_BASELINE} == DESKTOP_BASELINE
    present = _system_sonames() | {p.name for p in (bundle.folder / "_internal").iterdir()}
    absent = sorted(s for s in table if s not in present and len(s) <= len("libxcb-render-util.so.0"))
    if not absent:
        pytest.skip("this machine has every library install.sh knows: nothing to make missing")
    lacking = absent[0]
    # Qt's xcb plugin with two of its needed libraries renamed in its string table: one install.sh knows
    # (it must name the package) and one it does not (it must name the soname).
    plugin = bundle.folder / "_internal" / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    image = plugin.read_bytes()
    for old, new in [("libxcb-render-util.so.0", lacking), ("libxcb-keysyms.so.1", "libdrs-absent.so.7")]:
        needle = f"\0{old}\0".encode()
        assert image.count(needle) == 1, old
        image = image.replace(needle, f"\0{new}".encode().ljust(len(needle), b"\0"))
    fake = tmp_path / "libqxcb.so"
    fake.write_bytes(image)

    home = tmp_path / "home"
    home.mkdir()
    env = _env(bundle, home, None) | {"DRS_INSTALL_CHECK_FILES": str(fake)}
    out = _run(["bash", str(extracted / "install.sh")], env).stdout.splitlines()
    lines = [line for line in out if "apt install" in line]
    assert len(lines) == 1, out
    assert lines[0].startswith(f"sudo apt install {table[lacking]}"), lines[0]
    assert "libdrs-absent.so.7" in lines[0]


def test_an_older_c_library_is_refused_before_anything_is_installed(
    bundle: Bundle, extracted: Path, tmp_path: Path
) -> None:
    """Ubuntu 22.04 (glibc 2.35) cannot run the bundle's Debian 12 libraries: say so, install nothing,
    rather than a menu entry that silently does nothing. The system's getconf is what says the version:
    a getconf answering 2.35 first on PATH stands for such a system."""
    home = tmp_path / "home"
    home.mkdir()
    tools = tmp_path / "bin"
    tools.mkdir()
    getconf = tools / "getconf"
    getconf.write_text('#!/bin/sh\n[ "$1" = GNU_LIBC_VERSION ] && echo "glibc 2.35"\n')
    getconf.chmod(0o755)
    env = _env(bundle, home, None)
    env["PATH"] = f"{tools}:{env['PATH']}"
    done = subprocess.run(["bash", str(extracted / "install.sh")], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "glibc 2.35; DRS Desktop needs glibc 2.36 or newer" in done.stderr
    assert not (home / ".local").exists()
