"""Plan files: the documented format, hostile input, line numbers, round trips and atomic writes."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from drs_desktop.domain.errors import PlanFileError, PlanFileUnreadableError
from drs_desktop.domain.plan.document import plan_to_document
from drs_desktop.domain.plan.model import ApprovalStep, ProtectionGroup, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.plan.validation import Severity, validate_plan
from drs_desktop.storage.plan_syntax import SyntaxProblem, parse_yaml
from drs_desktop.storage.planfile import (
    MAX_FILE_BYTES,
    dump_plan,
    load_plan_file,
    parse_plan_text,
    write_plan_file,
)
from tests.strategies import valid_plans

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plan-format.md"
A = "s-0123456789abcdef0"
B = "s-0123456789abcdef1"

EXAMPLE = """\
format: drs-desktop/plan@1
name: Payments
description: Tier-1 payments estate        # optional
rto_minutes: 60                            # optional
rpo_minutes: 15
protection_groups:
  - name: payments-db
    servers: [s-0123456789abcdef0]
  - name: payments-web
    tags: {App: payments, Tier: web}
waves:
  - name: Databases
    groups: [payments-db]
    servers: []
    optional: []
    depends_on: []
    before: [{approval: "DB team ready?"}]
    after: [{wait_minutes: 5}]
  - name: Web
    groups: [payments-web]
"""


def refused(text: str | bytes, filename: str = "plan.yaml") -> PlanFileError:
    """The error ``text`` gives, checked to be one line naming the file."""
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, filename)
    error = caught.value
    assert str(error).startswith(filename)
    assert len(str(error).splitlines()) == 1
    assert all(len(line.splitlines()) == 1 for line in error.lines())
    return error


def lines_of(error: PlanFileError) -> list[tuple[str, int | None]]:
    return [(path, line) for path, line, _ in error.problems]


def line_number(text: str, fragment: str) -> int:
    """1-based line of the first line containing ``fragment``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


# ------------------------------------------------------------------------------------- good files


def test_the_example_from_the_brief_loads() -> None:
    loaded = parse_plan_text(EXAMPLE, "payments.yaml")
    assert loaded.format == "yaml"
    assert loaded.warnings == ()
    plan = loaded.plan
    assert plan.name == "Payments" and plan.rto_minutes == 60 and plan.rpo_minutes == 15
    assert plan.protection_groups[1] == ProtectionGroup(
        "payments-web", tags={"App": "payments", "Tier": "web"}
    )
    assert plan.waves[0].depends_on == () and plan.waves[1].depends_on is None
    assert plan.waves[0].before == (ApprovalStep("DB team ready?"),)
    assert plan.waves[0].after == (WaitStep(5),)


def _doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_documented_examples_load_and_agree() -> None:
    yaml_blocks, json_blocks = _doc_blocks("yaml"), _doc_blocks("json")
    assert yaml_blocks and json_blocks
    plans = [parse_plan_text(block, "doc.yaml").plan for block in yaml_blocks]
    plans += [parse_plan_text(block, "doc.json").plan for block in json_blocks]
    assert plans[0].waves[0].optional == (B,)
    # The JSON example is the YAML one without the optional fields.
    assert plans[-1] == RecoveryPlan(
        plans[0].name, protection_groups=plans[0].protection_groups, waves=plans[0].waves
    )


def test_a_utf8_byte_order_mark_is_fine() -> None:
    assert parse_plan_text(b"\xef\xbb\xbf" + EXAMPLE.encode(), "p.yaml").plan.name == "Payments"
    assert parse_plan_text("\ufeff" + EXAMPLE, "p.yaml").plan.name == "Payments"


def test_load_plan_file_and_format_by_extension_or_content(tmp_path: Path) -> None:
    plan = parse_plan_text(EXAMPLE, "p.yaml").plan
    as_json = json.dumps(json.loads(dump_plan(plan, "json")))
    for name, text, fmt in [
        ("a.yml", EXAMPLE, "yaml"),
        ("a.YAML", EXAMPLE, "yaml"),
        ("a.json", as_json, "json"),
        ("no-extension", as_json, "json"),
        ("plan.txt", EXAMPLE, "yaml"),
    ]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        loaded = load_plan_file(path)
        assert (loaded.plan, loaded.format, loaded.filename) == (plan, fmt, str(path))


def test_an_explicit_format_wins_over_the_extension() -> None:
    with pytest.raises(PlanFileUnreadableError, match="JSON syntax error"):
        parse_plan_text(EXAMPLE, "p.yaml", fmt="json")


def test_warnings_do_not_stop_an_import_and_carry_lines() -> None:
    servers = "\n".join(f"      - s-{n:017d}" for n in range(150))
    text = f"format: drs-desktop/plan@1\nname: Big\nwaves:\n  - name: All\n    servers:\n{servers}\n"
    loaded = parse_plan_text(text, "big.yaml")
    assert [(w.path, w.severity) for w in loaded.warnings] == [("waves[0]", Severity.WARNING)]
    assert loaded.warning_lines == (f"big.yaml:4: {loaded.warnings[0]}",)
    assert "2 jobs" in loaded.warning_lines[0]
    assert loaded.lines_for(["waves[0].servers[3]", "nowhere", "waves[0].servers[999]"]) == [9, None, 5]


# ------------------------------------------------------------------------------------- problems with lines


def test_a_typo_is_reported_with_its_line_and_a_suggestion() -> None:
    text = EXAMPLE.replace("    depends_on: []", "    dependson: []")
    error = refused(text)
    assert type(error) is PlanFileError  # parsed, but not a valid plan
    assert lines_of(error) == [("waves[0].dependson", line_number(text, "dependson"))]
    assert str(error) == (
        f"plan.yaml:{line_number(text, 'dependson')}: waves[0].dependson: "
        "unknown key 'dependson' (did you mean 'depends_on'?)"
    )


def test_wrong_types_are_reported_with_their_lines() -> None:
    text = EXAMPLE.replace("rto_minutes: 60", "rto_minutes: yes").replace("Tier: web", "Tier: 1")
    error = refused(text)
    assert lines_of(error) == [("rto_minutes", 4), ("protection_groups[1].tags.Tier", 10)]
    assert "got a boolean" in error.problems[0][2]
    assert "put it in quotes" in error.problems[1][2]


def test_validation_errors_are_reported_with_their_lines_in_file_order() -> None:
    text = EXAMPLE.replace("payments-web]", "payments-wbe]").replace(f"servers: [{A}]", "servers: [s-012]")
    error = refused(text)
    assert lines_of(error) == [("protection_groups[0].servers[0]", 8), ("waves[1].groups[0]", 20)]
    assert "did you mean 'payments-web'" in error.problems[1][2]
    assert error.lines()[1].startswith("plan.yaml:20: waves[1].groups[0]: unknown protection group")


def test_a_problem_about_a_missing_key_points_at_its_parent() -> None:
    text = "format: drs-desktop/plan@1\nname: P\nwaves:\n  - servers: [s-0123456789abcdef0]\n"
    assert lines_of(refused(text)) == [("waves[0]", 4)]


def test_json_problems_have_lines_too() -> None:
    text = (
        '{\n  "format": "drs-desktop/plan@1",\n  "name": "P",\n  "waves": [\n'
        '    {"name": "W",\n     "servers": ["s-0123456789abcdef0", 5],\n     "dependson": []}\n  ]\n}\n'
    )
    error = refused(text, "plan.json")
    assert lines_of(error) == [("waves[0].servers[1]", 6), ("waves[0].dependson", 7)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("format: drs-desktop/plan@5\nname: P\nfuture: {}\n", "written by a newer DRS Desktop"),
        ("format: drs-desktop/plan@0\nname: P\n", "unsupported format"),
        ("name: P\nwaves: []\n", "missing required key 'format'"),
        ("- just\n- a list\n", "must be a mapping, got a list"),
        ("hello\n", "must be a mapping, got a string"),
    ],
)
def test_documents_that_are_not_plan_at_1(text: str, words: str) -> None:
    error = refused(text)
    assert type(error) is PlanFileError
    assert words in str(error)


# ------------------------------------------------------------------------------------- hostile input


def test_the_billion_laughs_is_refused_without_expanding() -> None:
    lines = ['lol0: &lol0 ["lol"]']
    for n in range(1, 10):
        refs = ", ".join([f"*lol{n - 1}"] * 10)
        lines.append(f"lol{n}: &lol{n} [{refs}]")
    error = refused("\n".join(lines) + "\n")
    assert isinstance(error, PlanFileUnreadableError)
    assert str(error) == "plan.yaml:1: YAML anchors and aliases (&name, *name) are not allowed in plan files"


def test_an_alias_alone_is_refused_too() -> None:
    assert "aliases" in str(refused("format: drs-desktop/plan@1\nname: *x\n"))


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as stream:
        stream.truncate(6 * 1024 * 1024)  # sparse: nothing to read, only the size is known
    with pytest.raises(PlanFileUnreadableError) as caught:
        load_plan_file(path)
    assert str(caught.value) == f"{path}: the file is 6.0 MiB; plan files are limited to 5 MiB"
    assert "limited to 5 MiB" in str(refused(b"#" * (MAX_FILE_BYTES + 1)))
    assert "limited to 5 MiB" in str(refused("#" * (MAX_FILE_BYTES + 1)))


def test_binary_garbage() -> None:
    assert "binary data" in str(refused(bytes(range(256)) * 4))
    assert "binary data" in str(refused("name: a\x00b\n"))
    error = refused(b"format: x\n\xff\xfe\xfa garbage\n")
    assert str(error) == "plan.yaml:2: not UTF-8 text (byte 0xff); is it a binary file? Save it as UTF-8"


def test_unpaired_surrogates_in_text_are_refused() -> None:
    assert "invalid character at position 6" in str(refused("name: \udc80\n"))


def test_utf16_and_utf32_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "windows.yaml"
    path.write_text(EXAMPLE, encoding="utf-16")  # with a byte order mark, as Notepad writes it
    with pytest.raises(PlanFileUnreadableError, match="UTF-16 text; save it as UTF-8"):
        load_plan_file(path)
    assert "UTF-16" in str(refused(EXAMPLE.encode("utf-16-le")))
    assert "UTF-32" in str(refused(EXAMPLE.encode("utf-32")))


def test_duplicate_keys_are_refused_in_yaml_and_json() -> None:
    error = refused(EXAMPLE.replace("rpo_minutes: 15", "rpo_minutes: 15\nname: Other"))
    assert str(error) == "plan.yaml:6: duplicate key 'name' (first at line 2)"
    error = refused(EXAMPLE.replace("App: payments", "App: payments, App: billing"))
    assert "duplicate key 'App'" in str(error)
    text = (
        '{"format": "drs-desktop/plan@1",\n "name": "a",\n'
        ' "waves": [{"name": "W", "name": "X"}],\n "name": "b"}'
    )
    error = refused(text, "plan.json")
    assert lines_of(error) == [("waves[0].name", 3), ("name", 4)]
    assert error.problems[1][2] == "duplicate key 'name' (first at line 2)"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("!!python/object/apply:os.system ['true']\n", "YAML tag '!!python/object/apply:os.system'"),
        ("format: !custom x\n", "YAML tag '!custom'"),
        ("<<: {name: P}\nformat: drs-desktop/plan@1\n", "merge keys (<<)"),
        ("a: " + "[" * 50 + "]" * 50 + "\n", "nested too deeply"),
        ("- x\n" * 100_001, "too many values"),
        ("a: b: c\n", "YAML syntax error"),
        ("a: 'unterminated\n", "YAML syntax error"),
        (EXAMPLE + "---\nname: second\n", "a single YAML document"),
        ("# only a comment\n", "the file is empty"),
        ("", "the file is empty"),
        ("name: 2024-13-45\n", "invalid value '2024-13-45'"),
        ("rto_minutes: " + "9" * 5000 + "\n", "too many digits"),
        ("? [a, b]\n: c\n", "mapping key must be a single value"),
    ],
)
def test_hostile_or_broken_yaml(text: str, words: str) -> None:
    error = refused(text)
    assert isinstance(error, PlanFileUnreadableError)
    assert words in str(error)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[" * 40 + "]" * 40, "nested too deeply"),
        ("[" + "1," * 100_001 + "1]", "too many values"),
        ('{"format": NaN}', "NaN is not valid JSON"),
        ('{"a": 1,}', "JSON syntax error"),
        ('{"rto_minutes": ' + "9" * 5000 + "}", "too many digits"),
        ("   ", "the file is empty"),
    ],
)
def test_hostile_or_broken_json(text: str, words: str) -> None:
    error = refused(text, "plan.json")
    assert isinstance(error, PlanFileUnreadableError)
    assert words in str(error)


def test_a_json_syntax_error_names_its_line() -> None:
    error = refused('{\n  "format": "drs-desktop/plan@1",\n  "name": "P"\n  "waves": []\n}\n', "plan.json")
    assert str(error).startswith("plan.json:4: JSON syntax error: Expecting ',' delimiter")


def test_missing_files_and_folders(tmp_path: Path) -> None:
    with pytest.raises(PlanFileUnreadableError, match="no such file"):
        load_plan_file(tmp_path / "missing.yaml")
    with pytest.raises(PlanFileUnreadableError, match="is a folder"):
        load_plan_file(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.yaml")
        with pytest.raises(PlanFileUnreadableError, match="not a regular file"):
            load_plan_file(tmp_path / "pipe.yaml")  # refused before open(), which would block


def test_a_filename_with_a_line_break_still_gives_one_line() -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text("x: 1\n", "bad\nname.yaml")
    assert len(str(caught.value).splitlines()) == 1


# ------------------------------------------------------------------------------------- writing


def test_yaml_output_is_readable_and_quotes_what_would_be_mis_read() -> None:
    plan = RecoveryPlan(
        name="yes",
        description="1.0",
        protection_groups=(ProtectionGroup("null", tags={"Tier": "1", "On": "off"}),),
        waves=(
            Wave(
                "2024-01-01", groups=("null",), servers=(A, B), depends_on=(), before=(ApprovalStep("0o17"),)
            ),
            Wave(
                "Second",
                servers=("s-1234567890abcdefg",),
                before=(ApprovalStep("two\nlines"),),
                after=(WaitStep(5),),
            ),
        ),
    )
    text = dump_plan(plan, "yaml")
    for quoted in (
        "name: 'yes'",
        "description: '1.0'",
        "- name: 'null'",
        "Tier: '1'",
        "'On': 'off'",
        "'0o17'",
    ):
        assert quoted in text
    assert "servers:\n      - s-0123456789abcdef0\n      - s-0123456789abcdef1\n" in text  # block style
    assert "depends_on: []" in text
    assert '"two\\nlines"' in text
    assert "&" not in text and "*" not in text
    assert text.startswith("# DRS Desktop recovery plan")
    assert yaml.safe_load(text)["name"] == "yes"  # other readers see strings too
    assert parse_plan_text(text, "p.yaml").plan == plan


def test_shared_objects_never_become_aliases() -> None:
    tags = {"App": "x"}
    servers = (A,)
    plan = RecoveryPlan(
        "P",
        protection_groups=(ProtectionGroup("g", tags=tags), ProtectionGroup("h", tags=tags)),
        waves=(Wave("W", groups=("g",), servers=servers, optional=servers),),
    )
    text = dump_plan(plan, "yaml")
    assert "&id" not in text and "*id" not in text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_plans())
def test_any_valid_plan_survives_export_and_import(plan: RecoveryPlan) -> None:
    assert validate_plan(plan) == []
    for fmt in ("yaml", "json"):
        loaded = parse_plan_text(dump_plan(plan, fmt), f"plan.{fmt}")
        assert loaded.plan == plan
        assert loaded.warnings == ()
        assert dump_plan(loaded.plan, fmt) == dump_plan(plan, fmt)  # stable output
    # Bundles without libyaml read the same document.
    assert parse_yaml(dump_plan(plan, "yaml"), use_libyaml=False).data == plan_to_document(plan)


def test_write_then_load(tmp_path: Path) -> None:
    plan = parse_plan_text(EXAMPLE, "p.yaml").plan
    for name in ("out.yaml", "out.json", "out.plan"):
        path = tmp_path / name
        write_plan_file(plan, path)
        assert load_plan_file(path).plan == plan
    assert (tmp_path / "out.json").read_text(encoding="utf-8").startswith("{")
    assert (tmp_path / "out.plan").read_text(encoding="utf-8").startswith("# DRS Desktop")
    write_plan_file(plan, tmp_path / "forced.yaml", "json")
    assert load_plan_file(tmp_path / "forced.yaml").format == "yaml"  # by extension... and JSON is YAML
    assert json.loads((tmp_path / "forced.yaml").read_text(encoding="utf-8"))["name"] == "Payments"


def test_overwriting_keeps_the_file_mode_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o600)
    plan = RecoveryPlan("P", waves=(Wave("W", servers=(A,)),))
    write_plan_file(plan, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_plan_file(path).plan == plan
    assert sorted(os.listdir(tmp_path)) == ["plan.yaml"]


def test_a_failed_write_leaves_the_existing_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(EXAMPLE, encoding="utf-8")
    unwritable = RecoveryPlan("bad \udc80 surrogate", waves=(Wave("W", servers=(A,)),))
    with pytest.raises(PlanFileError, match="cannot be written as UTF-8"):
        write_plan_file(unwritable, path)
    assert path.read_text(encoding="utf-8") == EXAMPLE
    target_is_a_folder = tmp_path / "folder.yaml"
    target_is_a_folder.mkdir()
    with pytest.raises(PlanFileError, match="cannot write the file"):
        write_plan_file(parse_plan_text(EXAMPLE, "p.yaml").plan, target_is_a_folder)
    assert sorted(os.listdir(tmp_path)) == ["folder.yaml", "plan.json"]  # the temporary file is gone
    with pytest.raises(PlanFileError, match="cannot write the file"):
        write_plan_file(parse_plan_text(EXAMPLE, "p.yaml").plan, tmp_path / "missing" / "plan.yaml")


# ------------------------------------------------------------------------------------- both YAML parsers


@pytest.mark.parametrize("use_libyaml", [True, False], ids=["libyaml", "pure-python"])
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: &x [1]\nb: *x\n", "anchors and aliases"),
        ("a: 1\na: 2\n", "duplicate key 'a' (first at line 1)"),
        ("a: " + "[" * 40 + "]" * 40 + "\n", "nested too deeply"),
        ("a: !!python/name:os.system x\n", "YAML tag"),
        ("<<: {a: 1}\n", "merge keys"),
        ("a: b: c\n", "YAML syntax error"),
        ("a: 1\n---\nb: 2\n", "single YAML document"),
        ("a: 2024-13-45\n", "invalid value"),
    ],
)
def test_both_yaml_parsers_refuse_the_same_things(use_libyaml: bool, text: str, words: str) -> None:
    with pytest.raises(SyntaxProblem) as caught:
        parse_yaml(text, use_libyaml=use_libyaml)
    _, line, message = caught.value.problems[0]
    assert words in message
    assert line is not None and line >= 1


@pytest.mark.parametrize("use_libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_both_yaml_parsers_read_the_example_with_lines(use_libyaml: bool) -> None:
    parsed = parse_yaml(EXAMPLE, use_libyaml=use_libyaml)
    assert parsed.data == yaml.safe_load(EXAMPLE)
    assert parsed.lines.line_of("waves[1].groups[0]") == 20
    assert parsed.lines.line_of("protection_groups[1].tags.Tier") == 10
    assert parsed.lines.line_of("") is None
