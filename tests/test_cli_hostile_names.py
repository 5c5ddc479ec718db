"""The plan commands with hostile names: refused with one escaped line, never a traceback; a hostile name
already in the database (an older plan, a draft saved from the editor) is shown escaped by every command
that prints it, so no control or bidi character ever reaches the terminal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from drs_desktop.cli import main
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Wave
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import list_plans, save_plan

A = "s-0123456789abcdef0"
ESC_NAME = "evil\x1b[2J\x07"
BIDI_NAME = "payments\u202egnp.exe"
NOT_UNICODE = "which is not valid Unicode text"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        text.encode("utf-8")  # printable on any UTF-8 terminal: no lone surrogate
        assert all(ch.isprintable() or ch == "\n" for ch in text), repr(text)
        assert "Traceback" not in text
    return code, captured.out, captured.err


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_validate_refuses_control_characters_and_shows_them_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plan = write(
        tmp_path / "p.yaml",
        f'format: drs-desktop/plan@1\nname: "evil\\e[2J"\nwaves:\n  - name: "W\\u202e"\n    servers: [{A}]\n',
    )
    code, out, _ = run(capsys, "--home", str(tmp_path / "h"), "plan", "validate", str(plan))
    assert code == 1
    assert out.splitlines() == [
        f"{plan}:2: name: holds a control character (U+001B ESC) at character 5; "
        "a name must be one line of printable text",
        f"{plan}:4: waves[0].name: holds a bidirectional-text control (U+202E RIGHT-TO-LEFT OVERRIDE) at "
        "character 2; a name must be one line of printable text",
    ]


def test_a_lone_surrogate_is_refused_by_validate_and_import(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = {"format": "drs-desktop/plan@1", "name": "a\ud800b", "waves": [{"name": "W", "servers": [A]}]}
    plan = write(tmp_path / "p.json", json.dumps(doc))
    home = tmp_path / "h"
    code, out, _ = run(capsys, "--home", str(home), "plan", "validate", str(plan))
    assert code == 1
    assert out == f"{plan}:1: name: holds a lone surrogate (\\ud800) at character 2, {NOT_UNICODE}\n"
    code, out, err = run(capsys, "--home", str(home), "plan", "import", str(plan))
    assert code == 1 and "lone surrogate" in out and "nothing imported" in err
    with _open(home) as db:
        assert list_plans(db) == []


def _open(home: Path) -> Database:
    from drs_desktop.config import AppPaths

    return Database.open(AppPaths.resolve(str(home)).database)


def test_yaml_1_1_numbers_and_binary_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plan = write(
        tmp_path / "p.yaml",
        f"format: drs-desktop/plan@1\nname: P\nrto_minutes: 017\nwaves: [{{name: W, servers: [{A}]}}]\n",
    )
    code, out, _ = run(capsys, "plan", "validate", str(plan), "--home", str(tmp_path / "h"))
    assert code == 1
    assert "rto_minutes: 017 has a leading zero" in out
    png = write(tmp_path / "p.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    code, _, err = run(capsys, "plan", "validate", str(png), "--home", str(tmp_path / "h"))
    assert code == 2
    assert "binary data" in err and "UTF-16" not in err


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_a_file_name_that_is_not_utf8_is_shown_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = os.fsdecode(b"plan\xff\x1b.yaml")  # "plan\udcff\x1b.yaml": what Python gives for such bytes
    plan = write(tmp_path / name, "format: drs-desktop/plan@1\nname: [\n")
    code, _, err = run(capsys, "plan", "validate", str(plan), "--home", str(tmp_path / "h"))
    assert code == 2
    assert "plan\\udcff\\x1b.yaml" in err


def test_stored_hostile_names_are_printed_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    home = tmp_path / "h"
    with _open(home) as db:  # a draft from the editor, or a plan saved before names were checked
        save_plan(db, RecoveryPlan(ESC_NAME, waves=(Wave("W", servers=(A,)),)), comment="by \x1b]0;x\x07")
        save_plan(
            db,
            RecoveryPlan(ESC_NAME, waves=(Wave(BIDI_NAME, servers=(A,), before=(ApprovalStep("ok\x9b?"),)),)),
            comment="second",
        )
    code, out, _ = run(capsys, "--home", str(home), "plan", "list")
    assert code == 0 and out.startswith("evil\\x1b[2J\\x07  rev 2")
    code, out, _ = run(capsys, "--home", str(home), "plan", "history", ESC_NAME)
    assert code == 0 and "by \\x1b]0;x\\x07" in out
    code, out, _ = run(capsys, "--home", str(home), "plan", "diff", ESC_NAME, "1", "2")
    assert code == 0 and "\\u202e" in out
    for fmt in ("yaml", "json"):
        code, out, _ = run(capsys, "--home", str(home), "plan", "export", ESC_NAME, "--format", fmt)
        assert code == 0 and "\\u202e" in out
    code, _, err = run(capsys, "--home", str(home), "plan", "export", "no\x1bsuch")
    assert code == 1 and "no\\x1bsuch" in err
