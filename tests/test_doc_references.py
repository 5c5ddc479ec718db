"""No reference in the docs or in the code's docstrings points to a file or module the repository does
not have (docs/ARCHITECTURE.md names the code as it is). Checked: paths like ``services/runner.py`` or
``tests/cli/kill_points.py`` and dotted names like ``domain.engine.reconcile`` or
``drs_desktop.storage.executions.read_journal`` written in backticks, in docs/*.md, README.md and every
.py file of the package and the tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drs_desktop.domain.settings import SETTINGS

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "drs_desktop"
LAYERS = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
TOP_MODULES = {p.stem for p in PACKAGE.glob("*.py")}
ROOTS = {"docs", "tests", "resources", "scripts", ".ci", "drs_desktop"}

#: Setting keys written as examples of what the settings store refuses.
_EXAMPLE_KEYS = {"aws.secret_access_key"}
_TICKED = re.compile(r"``?([^`\s]+)``?")
_PATH = re.compile(r"^(?:[\w.-]+/)+[\w.-]+\.(?:py|md|sql|yaml|yml|json|sh|toml|spec)$")
_DOTTED = re.compile(r"^(?:drs_desktop\.)?([a-z_]+(?:\.[A-Za-z_]\w*)+)(?:\(\))?$")


def _sources() -> list[Path]:
    files = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    for folder in ("drs_desktop", "tests"):
        files += sorted(p for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)
    return [p for p in files if p.exists() and p.name != Path(__file__).name]


def _path_exists(ref: str, where: Path) -> bool:
    ref = ref.removeprefix("./")
    first = ref.split("/")[0]
    candidates = [REPO / ref, PACKAGE / ref, where.parent / ref]
    if first in LAYERS:
        candidates.append(PACKAGE / ref)
    if "*" in ref or "<" in ref or "NNNN" in ref:
        return True
    return any(c.exists() for c in candidates)


def _module_exists(dotted: str) -> bool:
    """``layer.module[.module...][.attribute...]``: every package part and then one module must exist."""
    parts = dotted.split(".")
    path = PACKAGE
    for i, part in enumerate(parts):
        if (path / part).is_dir():
            path = path / part
            continue
        return (path / f"{part}.py").exists() or (i > 0 and (path / "__init__.py").exists() and i >= 2)
    return True


def references(path: Path) -> list[tuple[int, str, str]]:
    """(line, kind, reference) of every checked reference in one file."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in _TICKED.finditer(line):
            token = match.group(1).strip(".,:;()")
            if _PATH.match(token) and token.split("/")[0] in LAYERS | ROOTS | TOP_MODULES:
                found.append((number, "path", token))
            elif token in SETTINGS or token in _EXAMPLE_KEYS:
                continue  # a setting's key (``aws.read_timeout_seconds``), not a module
            elif (m := _DOTTED.match(token)) and m.group(1).split(".")[0] in LAYERS:
                found.append((number, "module", m.group(1)))
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_references_point_to_what_exists(path: Path) -> None:
    broken = [
        f"line {line}: {ref}"
        for line, kind, ref in references(path)
        if not (_path_exists(ref, path) if kind == "path" else _module_exists(ref))
    ]
    where = path.relative_to(REPO)
    assert not broken, f"{where} names what the repository does not have:\n" + "\n".join(broken)


def test_checker_sees_a_broken_reference(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("See `services/no_such_module.py` and ``domain.no_such.thing``; `storage/db.py` exists.\n")
    refs = references(doc)
    assert [r for _, _, r in refs] == ["services/no_such_module.py", "domain.no_such.thing", "storage/db.py"]
    assert not _path_exists("services/no_such_module.py", doc)
    assert not _module_exists("domain.no_such.thing")
    assert _path_exists("storage/db.py", doc)
