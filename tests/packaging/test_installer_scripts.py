"""The Windows installer script and the macOS app bundle's Info.plist, checked where neither can be built.

Neither Inno Setup nor macOS runs on the Linux build machine, so nothing here builds an installer or an
app (docs/packaging.md says so and lists the checks to make on those systems). What is
checked is what would go wrong silently: the installer asking for administrator rights, leaving part of
the bundle out, pointing its shortcuts at a file the bundle does not have, carrying a version that goes
stale, or deleting the user's data on uninstall; and the app's Info.plist losing its version, its
identifier, its Retina flag or its icon.

The .iss file is read as Inno Setup reads it: ``[Section]`` headers, ``Key=Value`` directives in
[Setup], ``Name: value; Name: "value"`` entries elsewhere, ``;`` comments, and ``#define`` lines of its
preprocessor, whose ``{#Name}`` uses are expanded. build.spec is read with ``ast`` (running it needs
PyInstaller's build context).
"""

from __future__ import annotations

import ast
import functools
import plistlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import pytest
from platformdirs.macos import MacOS
from platformdirs.windows import Windows

from drs_desktop import APP_ID, APP_NAME, __version__

ROOT = Path(__file__).resolve().parents[2]
ISS = ROOT / "packaging" / "windows" / "drs-desktop.iss"
SPEC = ROOT / "build.spec"
ENTITLEMENTS = ROOT / "packaging" / "macos" / "entitlements.plist"
DOC = ROOT / "docs" / "packaging.md"

_ENTRY_PARAM = re.compile(r'\s*(\w+):\s*("(?:[^"]|"")*"|[^;]*)\s*(?:;|$)')
_DEFINE = re.compile(r'^#define\s+(\w+)\s+"([^"]*)"\s*$')


@dataclass
class InnoScript:
    """One .iss file: its preprocessor defines and, per section, its lines (comments dropped)."""

    defines: dict[str, str] = field(default_factory=dict)
    sections: dict[str, list[str]] = field(default_factory=dict)
    preprocessor: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> InnoScript:
        script = cls()
        current = ""
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or (line.startswith(";") and current != "Code"):
                continue
            if line.startswith("#"):
                script.preprocessor.append(line)
                if match := _DEFINE.match(line):
                    script.defines[match.group(1)] = match.group(2)
                continue
            if re.fullmatch(r"\[\w+\]", line):
                current = line[1:-1]
                script.sections.setdefault(current, [])
                continue
            script.sections.setdefault(current, []).append(script.expand(line))
        return script

    def expand(self, text: str) -> str:
        """``{#Name}`` -> the define's value; ``{#AppVersion}``, given on iscc's command line, stays."""
        return re.sub(r"\{#(\w+)\}", lambda m: self.defines.get(m.group(1), m.group(0)), text)

    def directives(self, section: str = "Setup") -> dict[str, str]:
        pairs = (line.split("=", 1) for line in self.sections.get(section, []) if "=" in line)
        return {key.strip(): value.strip() for key, value in pairs}

    def entries(self, section: str) -> list[dict[str, str]]:
        """Each line's ``Name: value`` parameters, quotes removed (``""`` is a quote inside quotes)."""
        found = []
        for line in self.sections.get(section, []):
            params = {}
            for match in _ENTRY_PARAM.finditer(line):
                value = match.group(2).strip()
                if value.startswith('"') and value.endswith('"'):
                    value = value[1:-1].replace('""', '"')
                params[match.group(1)] = value
            found.append(params)
        return found


@pytest.fixture(scope="module")
def iss() -> InnoScript:
    return InnoScript.read(ISS)


def _flags(entry: dict[str, str]) -> set[str]:
    return set(entry.get("Flags", "").split())


def _source_root(iss: InnoScript) -> Path:
    """Where iscc resolves relative paths: SourceDir, relative to the script's folder."""
    source_dir = iss.directives().get("SourceDir", ".")
    return (ISS.parent / PureWindowsPath(source_dir).as_posix()).resolve()


# -- the Windows installer -----------------------------------------------------------------------------


def test_installs_for_the_current_user_without_administrator_rights(iss: InnoScript) -> None:
    setup = iss.directives()

    assert setup["PrivilegesRequired"] == "lowest"
    assert "PrivilegesRequiredOverridesAllowed" not in setup  # no dialog offering an all-users install
    default_dir = PureWindowsPath(setup["DefaultDirName"])
    assert default_dir.parts[0] in ("{userpf}", "{localappdata}"), default_dir
    assert default_dir.name == APP_NAME
    assert setup["ArchitecturesAllowed"] == "x64compatible"
    assert setup["ArchitecturesInstallIn64BitMode"] == "x64compatible"


def test_has_a_stable_app_id(iss: InnoScript) -> None:
    """Upgrades find the installed copy by AppId: a GUID written once ({{ escapes Inno's brace)."""
    app_id = iss.directives()["AppId"]
    assert re.fullmatch(r"\{\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}", app_id), app_id


def test_the_version_is_given_on_the_command_line_never_written_in_the_script(iss: InnoScript) -> None:
    text = ISS.read_text(encoding="utf-8")

    assert iss.directives()["AppVersion"] == "{#AppVersion}"
    assert "AppVersion" not in iss.defines
    assert any(line.startswith("#ifndef AppVersion") for line in iss.preprocessor)
    assert any(line.startswith("#error") for line in iss.preprocessor)  # iscc without /DAppVersion stops
    assert not re.search(rf"(?<![\w.]){re.escape(__version__)}(?![\w.])", text), "a hard-coded version"
    assert "{#AppVersion}" in iss.directives()["OutputBaseFilename"]


def test_installs_the_whole_pyinstaller_folder(iss: InnoScript) -> None:
    """Every file of dist/drs-desktop, subfolders too, from the folder build.spec writes."""
    assert _source_root(iss) == ROOT
    bundle = [
        e
        for e in iss.entries("Files")
        if PureWindowsPath(e["Source"]).parent.as_posix() == "dist/drs-desktop"
    ]

    assert len(bundle) == 1, iss.entries("Files")
    entry = bundle[0]
    assert PureWindowsPath(entry["Source"]).name == "*"
    assert entry["DestDir"] == "{app}"
    assert {"recursesubdirs", "createallsubdirs"} <= _flags(entry)
    assert "Excludes" not in entry


def test_shortcuts_and_uninstaller_point_at_the_bundles_executable(iss: InnoScript) -> None:
    """build.spec names the executable APP_ID (drs-desktop.exe on Windows)."""
    exe = f"{{app}}\\{APP_ID}.exe"
    icons = iss.entries("Icons")
    start_menu = [
        i for i in icons if i["Name"].split("\\")[0] in ("{autoprograms}", "{userprograms}", "{group}")
    ]
    desktop = [i for i in icons if i["Name"].startswith(("{autodesktop}", "{userdesktop}"))]
    tasks = {t["Name"]: t for t in iss.entries("Tasks")}
    setup = iss.directives()

    program = [i for i in start_menu if i["Filename"] == exe]
    assert len(program) == 1 and "Tasks" not in program[0]  # always there
    # The README promises the uninstaller in the Start menu too.
    assert [i["Filename"] for i in start_menu if i is not program[0]] == ["{uninstallexe}"]
    assert len(desktop) == 1 and desktop[0]["Filename"] == exe
    assert desktop[0]["Tasks"] == "desktopicon" and "unchecked" in _flags(tasks["desktopicon"])
    assert "unchecked" in _flags(tasks["addtopath"])  # PATH only when asked for
    assert setup.get("Uninstallable", "yes") == "yes"
    assert setup["UninstallDisplayIcon"] == exe
    assert [r["Filename"] for r in iss.entries("Run")] == [exe]


def test_uninstall_and_upgrade_delete_only_inside_the_program_folder(iss: InnoScript) -> None:
    """The user's data (%LOCALAPPDATA%\\drs-desktop) and keys outlive the program: nothing the installer
    or uninstaller deletes lies outside {app}, and nothing at all names the data folder."""
    deleted = [e["Name"] for section in ("UninstallDelete", "InstallDelete") for e in iss.entries(section)]

    assert deleted, "the upgrade clears the old _internal folder"
    for name in deleted:
        assert PureWindowsPath(name).parts[0] == "{app}" and len(PureWindowsPath(name).parts) > 1, name
        assert APP_ID not in name.lower() and "appdata" not in name.lower(), name
    for entry in iss.entries("Registry"):
        assert "uninsdeletekey" not in _flags(entry)
    code = "\n".join(iss.sections["Code"])
    assert "DelTree" not in code and "DeleteFile" not in code and "CredDelete" not in code


def test_the_kept_data_folder_is_where_platformdirs_puts_it(
    iss: InnoScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finished page and the uninstaller name %LOCALAPPDATA%\\drs-desktop: platformdirs' Windows rule
    for user_data_dir(APP_ID, appauthor=False), resolved here for a given local AppData folder."""
    local = r"C:\Users\operator\AppData\Local"
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", local)
    expected = PureWindowsPath(Windows(appname=APP_ID, appauthor=False).user_data_dir)

    code = "\n".join(iss.sections["Code"])
    named = re.search(r"ExpandConstant\('\{localappdata\}\\([^']+)'\)", code)
    assert named is not None, "DataDir() in [Code]"
    assert expected == PureWindowsPath(local) / named.group(1)
    assert any(f"%LOCALAPPDATA%\\{APP_ID}" in line for line in DOC.read_text(encoding="utf-8").splitlines())


def test_the_installer_icon_is_in_the_repository(iss: InnoScript) -> None:
    icon = _source_root(iss) / PureWindowsPath(iss.directives()["SetupIconFile"]).as_posix()
    assert icon.relative_to(ROOT).as_posix() == "resources/icons/drs-desktop.ico"
    assert icon.read_bytes()[:4] == b"\x00\x00\x01\x00"  # the ICO header


# -- the macOS app bundle (build.spec's BUNDLE) ---------------------------------------------------------


@functools.cache
def _spec_tree() -> ast.Module:
    """Parsed once, so that nodes found by different walks are the same objects."""
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _bundle_call() -> ast.Call:
    calls = [
        node
        for node in ast.walk(_spec_tree())
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "BUNDLE"
    ]
    assert len(calls) == 1, "build.spec has one BUNDLE"
    return calls[0]


def _keyword(call: ast.Call, name: str) -> ast.expr:
    found = [k.value for k in call.keywords if k.arg == name]
    assert found, f"BUNDLE(..., {name}=...)"
    return found[0]


def _path_parts(node: ast.expr, names: dict[str, ast.expr]) -> list[str]:
    """``ROOT / "resources" / "icons"`` -> its string parts, following names assigned in the spec."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _path_parts(node.left, names) + _path_parts(node.right, names)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in names:
        return _path_parts(names[node.id], names)
    return []  # ROOT: the top of the repository


def test_the_app_bundle_is_made_on_macos_only() -> None:
    bundle = _bundle_call()
    guarded = [
        node
        for node in ast.walk(_spec_tree())
        if isinstance(node, ast.If) and "darwin" in ast.unparse(node.test) and bundle in list(ast.walk(node))
    ]
    assert guarded, "BUNDLE inside `if sys.platform == 'darwin'`"
    assert ast.unparse(_keyword(bundle, "name")) == "f'{APP_NAME}.app'"
    assert f"dist/{APP_NAME}.app" in DOC.read_text(encoding="utf-8")


def test_info_plist_versions_come_from_the_package() -> None:
    bundle = _bundle_call()
    plist = _keyword(bundle, "info_plist")
    assert isinstance(plist, ast.Dict)
    entries = {ast.literal_eval(k): v for k, v in zip(plist.keys, plist.values, strict=True) if k is not None}

    for key in ("CFBundleShortVersionString", "CFBundleVersion"):
        value = entries[key]
        assert isinstance(value, ast.Name) and value.id == "__version__", key
    assert ast.unparse(_keyword(bundle, "version")) == "__version__"
    assert ast.literal_eval(entries["NSHighResolutionCapable"]) is True
    assert ast.literal_eval(entries["CFBundlePackageType"]) == "APPL"
    assert not any(isinstance(v, ast.Constant) and v.value == __version__ for v in entries.values()), (
        "a hard-coded version"
    )


def test_bundle_identifier_is_reverse_dns() -> None:
    identifier = ast.literal_eval(_keyword(_bundle_call(), "bundle_identifier"))
    # Apple: letters, digits, hyphens and periods; at least two components. The keychain and Gatekeeper
    # know the app by it, so it must not change between versions.
    assert re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", identifier), identifier


def test_the_app_icon_is_the_icns_in_resources() -> None:
    tree = _spec_tree()
    names = {
        target.id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert ast.unparse(_keyword(_bundle_call(), "icon")) == "str(ICON)"
    icon_map = names["ICON"]
    assert isinstance(icon_map, ast.Call) and isinstance(icon_map.func, ast.Attribute)  # {...}.get(platform)
    table = icon_map.func.value
    assert isinstance(table, ast.Dict)
    by_platform = {
        ast.literal_eval(k): v for k, v in zip(table.keys, table.values, strict=True) if k is not None
    }

    icns = Path(*_path_parts(by_platform["darwin"], names))
    ico = Path(*_path_parts(by_platform["win32"], names))
    assert icns.as_posix() == "resources/icons/drs-desktop.icns"
    assert ico.as_posix() == "resources/icons/drs-desktop.ico"  # the .exe's icon, the installer's too
    assert (ROOT / icns).read_bytes()[:4] == b"icns"


def test_the_macos_data_folder_named_in_the_docs_is_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    data = Path(MacOS(appname=APP_ID, appauthor=False).user_data_dir)

    assert data == Path.home() / "Library" / "Application Support" / APP_ID
    assert f"~/Library/Application Support/{APP_ID}/" in DOC.read_text(encoding="utf-8")


def test_entitlements_allow_no_more_than_documented() -> None:
    """Hardened-runtime exceptions weaken the app's protection: only the one the file's comment explains."""
    entitlements = plistlib.loads(ENTITLEMENTS.read_bytes())

    assert entitlements == {"com.apple.security.cs.allow-unsigned-executable-memory": True}
