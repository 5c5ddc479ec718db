"""Hostile plan files (issue 8 item 7): lone surrogates, control and bidi characters in names, YAML 1.1
number notations, binary files. Each is refused with one clear line naming the field, never a traceback,
and nothing of it reaches the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drs_desktop.domain.errors import PlanDocumentError, PlanFileError, PlanFileUnreadableError
from drs_desktop.domain.plan.document import plan_from_document
from drs_desktop.domain.plan.model import ApprovalStep, ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.storage.db import Database
from drs_desktop.storage.planfile import dump_plan, parse_plan_text
from drs_desktop.storage.plans import list_plans, save_plan

A = "s-0123456789abcdef0"
B = "s-0123456789abcdef1"
ONE_WAVE = f"waves: [{{name: W, servers: [{A}]}}]\n"


def document(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "format": "drs-desktop/plan@1",
        "name": "P",
        "protection_groups": [{"name": "G", "tags": {"App": "web"}}],
        "waves": [{"name": "W", "groups": ["G"], "servers": [A], "before": [{"approval": "ok?"}]}],
    }
    doc.update(changes)
    return doc


def refused(text: str | bytes, filename: str = "plan.json") -> PlanFileError:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, filename)
    for line in caught.value.lines():
        assert len(line.splitlines()) == 1, line
    return caught.value


# ------------------------------------------------------------------------------------ lone surrogates


def test_a_lone_surrogate_in_a_json_name_is_refused_with_its_field() -> None:
    text = json.dumps(document(name="a\ud800b"))  # json.dumps writes the \ud800 escape
    assert "\\ud800" in text
    error = refused(text)
    assert error.problems[0][0] == "name"
    assert "lone surrogate" in error.problems[0][2]
    assert "\\ud800" in str(error)
    str(error).encode("utf-8")  # printable as UTF-8: the message escapes it


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda d: d["waves"][0].update(name="\udc80"), "waves[0].name"),
        (lambda d: d["waves"][0].update(groups=["G", "\ud800"]), "waves[0].groups[1]"),
        (lambda d: d["protection_groups"][0].update(tags={"App": "\ud800"}), "protection_groups[0].tags.App"),
        (
            lambda d: d["protection_groups"][0].update(tags={"\ud800": "x"}),
            'protection_groups[0].tags["\\ud800"]',
        ),
        (lambda d: d["waves"][0].update(before=[{"approval": "\udfff"}]), "waves[0].before[0].approval"),
        (lambda d: d.update(description="x\ud800"), "description"),
    ],
)
def test_a_lone_surrogate_anywhere_is_refused_with_its_field(where: object, path: str) -> None:
    doc = document()
    where(doc)  # type: ignore[operator]
    error = refused(json.dumps(doc))
    assert path in [p for p, _, _ in error.problems], error.problems


def test_a_lone_surrogate_never_reaches_the_database(tmp_path: Path) -> None:
    with Database.open(tmp_path / "db.sqlite") as db:
        with pytest.raises(PlanDocumentError, match="lone surrogate"):
            save_plan(db, RecoveryPlan("a\ud800", waves=(Wave("W", servers=(A,)),)))
        assert list_plans(db) == []


def test_validate_plan_refuses_a_lone_surrogate_built_in_code() -> None:
    plan = RecoveryPlan("P", waves=(Wave("W\udc80", servers=(A,)),))
    assert [p.path for p in validate_plan(plan)] == ["waves[0].name"]


# --------------------------------------------------------------------------------- control characters

HOSTILE = [
    "\x1b[31m",
    "\x07",
    "\x00",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u2028",
    "\u2029",
    "\x7f",
    "\x9b",
    "\x85",
    "\n",
    "\t",
    "\r",
]


@pytest.mark.parametrize("char", HOSTILE)
def test_control_and_bidi_characters_are_refused_in_every_name(char: str) -> None:
    plan = RecoveryPlan(
        f"plan{char}",
        protection_groups=(ProtectionGroup(f"group{char}", tags={f"key{char}": f"value{char}"}),),
        waves=(
            Wave(f"first{char}", servers=(A,)),
            Wave("second", servers=(B,), groups=(f"group{char}",), depends_on=(f"first{char}",)),
        ),
    )
    found = validate_plan(plan)
    problems = {p.path: p.message for p in found}
    for path in (
        "name",
        "protection_groups[0].name",
        "waves[0].name",
        "waves[1].groups[0]",
        "waves[1].depends_on[0]",
    ):
        assert path in problems, (path, problems)
        assert f"U+{ord(char[0]):04X}" in problems[path]
    tag_problems = [p for p in found if p.path.startswith("protection_groups[0].tags")]
    assert len(tag_problems) == 2, found  # the key and the value
    assert all(ch.isprintable() for message in problems.values() for ch in message)


@pytest.mark.parametrize("char", ["\n", "\t"])
def test_free_text_may_hold_line_breaks_and_tabs(char: str) -> None:
    plan = RecoveryPlan(
        "P", description=f"a{char}b", waves=(Wave("W", servers=(A,), before=(ApprovalStep(f"a{char}b"),)),)
    )
    assert validate_plan(plan) == []


@pytest.mark.parametrize("char", ["\x1b", "\u202e", "\u2028", "\x00", "\x9b"])
def test_free_text_refuses_other_control_characters(char: str) -> None:
    plan = RecoveryPlan(
        "P", description=f"a{char}b", waves=(Wave("W", servers=(A,), before=(ApprovalStep(f"a{char}b"),)),)
    )
    assert [p.path for p in validate_plan(plan)] == ["description", "waves[0].before[0].approval"]


def test_a_server_id_with_a_trailing_line_break_is_not_an_id() -> None:
    plan = RecoveryPlan("P", waves=(Wave("W", servers=(A + "\n",)),))
    assert [p.path for p in validate_plan(plan)] == ["waves[0].servers[0]"]


def test_an_escape_sequence_in_a_yaml_name_is_refused_on_import() -> None:
    error = refused(f'format: drs-desktop/plan@1\nname: "evil\\e[2J"\n{ONE_WAVE}', "p.yaml")
    assert error.problems[0][:2] == ("name", 2)
    assert "\x1b" not in str(error) and "U+001B" in str(error)


def test_export_of_a_stored_hostile_plan_escapes_it() -> None:
    """A plan saved before this rule (or as a draft) still exports, and the text stays terminal-safe."""
    plan = RecoveryPlan("a\u202eb\x9bc", waves=(Wave("W\u2066", servers=(A,)),))
    for fmt in ("json", "yaml"):
        text = dump_plan(plan, fmt)
        assert all(ch.isprintable() or ch == "\n" for ch in text), repr(text)
        assert plan_from_document(json.loads(text) if fmt == "json" else _yaml(text)) == plan


def _yaml(text: str) -> object:
    import yaml

    return yaml.safe_load(text)


# ---------------------------------------------------------------------------------- YAML 1.1 numbers


@pytest.mark.parametrize(
    ("literal", "words"),
    [
        ("017", "leading zero"),
        ("0x1F", "31"),
        ("0o17", "0o17"),
        ("0b101", "5"),
        ("1_000", "1000"),
        ("+5", "5"),
        ("1:30", "90"),
        ("-0x1", "-1"),
    ],
)
def test_yaml_1_1_number_notations_are_refused_in_minutes(literal: str, words: str) -> None:
    for field in ("rto_minutes", "rpo_minutes"):
        text = (
            f"format: drs-desktop/plan@1\nname: P\n{field}: {literal}\nwaves: [{{name: W, servers: [{A}]}}]\n"
        )
        error = refused(text, "p.yaml")
        path, line, message = error.problems[0]
        assert (path, line) == (field, 3), error.problems
        assert literal in message and words in message, message
    text = (
        "format: drs-desktop/plan@1\nname: P\nwaves:\n"
        f"- name: W\n  servers: [{A}]\n  after: [{{wait_minutes: {literal}}}]\n"
    )
    error = refused(text, "p.yaml")
    assert error.problems[0][:2] == ("waves[0].after[0].wait_minutes", 6), error.problems


def test_plain_decimal_minutes_still_load() -> None:
    text = f"format: drs-desktop/plan@1\nname: P\nrto_minutes: 17\nrpo_minutes: 0\n{ONE_WAVE}"
    error = refused(text, "p.yaml")  # 0 is read as 0, and validation refuses it
    assert error.problems == [("rpo_minutes", 4, "must be a positive number of minutes, got 0")]
    loaded = parse_plan_text(text.replace("rpo_minutes: 0\n", ""), "p.yaml")
    assert loaded.plan.rto_minutes == 17


@pytest.mark.parametrize("literal", ["017", "0x1F", "1_000", "+5", "1:30"])
def test_a_yaml_1_1_number_as_a_name_says_put_it_in_quotes(literal: str) -> None:
    text = f"format: drs-desktop/plan@1\nname: {literal}\nwaves: [{{name: W, servers: [{A}]}}]\n"
    error = refused(text, "p.yaml")
    assert error.problems[0][:2] == ("name", 2)
    assert literal in error.problems[0][2] and "quotes" in error.problems[0][2]
    quoted = parse_plan_text(text.replace(f"name: {literal}", f"name: '{literal}'"), "p.yaml")
    assert quoted.plan.name == literal


# ---------------------------------------------------------------------------------------- binary files


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" * 20,
        b"\x7fELF\x02\x01\x01\x00" + bytes(56) + bytes(range(256)) * 4,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)),
        bytes(1000),
        b"".join(bytes([0, n]) for n in range(32)) * 20,  # zeros at every other byte, not UTF-16 text
        b"\xff\xfe" + bytes(range(256)) * 4,  # starts like a UTF-16 byte order mark
        bytes(range(1, 256)) * 4,  # no NUL byte at all
    ],
)
def test_binary_files_are_called_binary(data: bytes) -> None:
    error = refused(data, "plan.yaml")
    assert isinstance(error, PlanFileUnreadableError)
    assert "binary" in str(error) and "UTF-16" not in str(error), str(error)


def test_genuine_utf16_without_a_bom_is_still_named() -> None:
    text = "format: drs-desktop/plan@1\nname: P\nwaves: []\n"
    for codec in ("utf-16-le", "utf-16-be"):
        assert "UTF-16" in str(refused(text.encode(codec), "plan.yaml"))


# ------------------------------------------------------------------------------------ terminal display


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Payments DB", "Payments DB"),
        ("Ünïcödé ✓ 日本語 🚀", "Ünïcödé ✓ 日本語 🚀"),
        ("evil\x1b[2J\x07", "evil\\x1b[2J\\x07"),
        ("a\u202eb\u2066c", "a\\u202eb\\u2066c"),
        ("line\u2028two\nthree\r\t", "line\\u2028two\\nthree\\r\\t"),
        ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
        ("lone \ud800", "lone \\ud800"),
        ("\U000e0001tag", "\\U000e0001tag"),
    ],
)
def test_terminal_safe_escapes_what_is_not_printable(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown
    assert terminal_safe(shown) == shown  # escaping twice changes nothing more
