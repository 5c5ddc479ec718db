"""Fuzzed plan files: every input either loads or gives a one-line PlanFileError naming the file.

Nothing else may escape (no yaml.YAMLError, ValueError, RecursionError, KeyError...): an operator who
imports a broken file gets a sentence, never a traceback.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drs_desktop.domain.errors import PlanFileError
from drs_desktop.domain.plan.document import plan_to_document
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import Severity, validate_plan
from drs_desktop.storage.planfile import LoadedPlan, dump_plan, parse_plan_text
from tests.strategies import TRICKY_STRINGS, valid_plans

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
FILENAMES = st.sampled_from(["plan.yaml", "plan.yml", "plan.json", "plan", "C:\\plans\\p.txt"])


def load_or_explain(data: str | bytes, filename: str) -> LoadedPlan | PlanFileError:
    """Parse ``data``; a refusal must be a PlanFileError whose message is one line naming the file."""
    try:
        loaded = parse_plan_text(data, filename)
    except PlanFileError as error:
        text = str(error)
        assert text.startswith(filename), text
        assert len(text.splitlines()) == 1, text
        assert error.problems
        for line in error.lines():
            assert line.startswith(filename) and len(line.splitlines()) == 1, line
        return error
    assert all(p.severity is not Severity.ERROR for p in validate_plan(loaded.plan))  # what loads is valid
    return loaded


# ------------------------------------------------------------------------------------- raw input


@FUZZ
@given(st.binary(max_size=2000), FILENAMES)
def test_random_bytes(data: bytes, filename: str) -> None:
    load_or_explain(data, filename)


@FUZZ
@given(
    st.text(max_size=500) | st.text(st.sampled_from(["\udc80", "\ud800", "a", ":", "\n", "-", " "])),
    FILENAMES,
)
def test_random_text(text: str, filename: str) -> None:
    load_or_explain(text, filename)


YAML_PIECES = st.sampled_from(
    [
        "format: drs-desktop/plan@1\n",
        "name: P\n",
        "waves:\n",
        "  - name: W\n",
        "    servers: [s-0123456789abcdef0]\n",
        "    depends_on: []\n",
        "    before: [{approval: ok}]\n",
        "- ",
        ": ",
        "&a ",
        "*a",
        "!!str ",
        "!!binary ",
        "!!set ",
        "? ",
        "<<: ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "'",
        '"',
        "|\n",
        ">-\n",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "#",
        "\t",
        "  ",
        "\n",
        "2024-02-30",
        "1e999",
        ".nan",
        "0x",
        "~",
        "\\",
        "\ufeff",
        "\x85",
        "\u2028",
    ]
)


@FUZZ
@given(st.lists(YAML_PIECES, max_size=40).map("".join), st.sampled_from(["plan.yaml", "plan"]))
def test_yaml_shaped_noise(text: str, filename: str) -> None:
    load_or_explain(text, filename)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | st.sampled_from(TRICKY_STRINGS)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "format",
                    "name",
                    "waves",
                    "servers",
                    "groups",
                    "depends_on",
                    "tags",
                    "before",
                    "approval",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=30,
)


@FUZZ
@given(JSON_VALUES, st.booleans())
def test_random_structures_as_json_and_yaml(value: Any, with_format: bool) -> None:
    if with_format and isinstance(value, dict):
        value = {"format": "drs-desktop/plan@1", **value}
    load_or_explain(json.dumps(value), "plan.json")
    load_or_explain(yaml.safe_dump(value, allow_unicode=True), "plan.yaml")


# ------------------------------------------------------------------------ mutations of a valid file


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@FUZZ
@given(valid_plans(max_waves=3, max_groups=2), st.data())
def test_a_valid_document_with_one_value_replaced(plan: RecoveryPlan, data: st.DataObject) -> None:
    doc = plan_to_document(plan)
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = data.draw(JSON_VALUES)
    for fmt in ("json", "yaml"):
        text = json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True)
        outcome = load_or_explain(text, f"plan.{fmt}")
        if isinstance(outcome, PlanFileError):
            assert any(problem_path for problem_path, _, _ in outcome.problems) or outcome.problems[0][2]


MUTATIONS = st.sampled_from(["delete", "insert", "duplicate_line", "swap_lines", "replace", "truncate"])


@FUZZ
@given(valid_plans(max_waves=3, max_groups=2), st.sampled_from(["yaml", "json"]), st.data())
def test_mutations_of_a_valid_file(plan: RecoveryPlan, fmt: str, data: st.DataObject) -> None:
    text = dump_plan(plan, fmt)  # type: ignore[arg-type]
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(MUTATIONS)
        at = data.draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 20)) :]
        elif kind == "insert":
            text = text[:at] + data.draw(YAML_PIECES | st.text(max_size=5)) + text[at:]
        elif kind == "replace":
            text = text[:at] + data.draw(st.characters()) + text[at + 1 :]
        elif kind == "truncate":
            text = text[:at]
        else:
            lines = text.splitlines(keepends=True)
            if len(lines) >= 2:
                i = data.draw(st.integers(0, len(lines) - 2))
                if kind == "duplicate_line":
                    lines.insert(i, lines[i])
                else:
                    lines[i], lines[i + 1] = lines[i + 1], lines[i]
                text = "".join(lines)
    load_or_explain(text, f"plan.{fmt}")
    load_or_explain(text.encode("utf-8", "surrogatepass"), f"plan.{fmt}")
