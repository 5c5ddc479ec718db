"""Hardened YAML and JSON parsing for plan files, with the line of every field path.

Plan files come from colleagues, tickets and chat windows, so the parsers refuse what a plan never needs
and an attacker or an accident might use: YAML anchors and aliases (the "billion laughs" bomb), tags
other than ``!!str``, merge keys, duplicate keys (in YAML and JSON: the second value would silently win),
nesting deeper than ``MAX_DEPTH`` and more than ``MAX_NODES`` values (a hang, or a RecursionError). Each
refusal is one ``SyntaxProblem`` with the line it concerns.

Integers are read as plain decimal digits only. YAML 1.1 (which PyYAML implements) also reads ``017`` as
octal 15, ``0x1F``, ``0b101``, ``1_000``, ``+5`` and the base-60 ``1:30`` (90), where YAML 1.2 readers
see 17 or a string; such a literal is handed over as ``AmbiguousNumber`` so that the document reader
refuses it with its field path instead of a plan silently meaning 15 minutes instead of 17. Booleans are
``true`` and ``false`` only: YAML 1.1's ``yes``, ``no``, ``on`` and ``off`` come as ``AmbiguousBoolean``.

Both parsers return a ``ParsedDocument``: the plain data and a ``LineIndex`` that maps a field path such
as ``waves[1].servers[0]`` to its 1-based line, so that a problem found later in the document or by
validation points at the right line. The index is built only when a problem needs it.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from drs_desktop.domain.plan.document import AmbiguousBoolean, AmbiguousNumber, join_path, quote

logger = logging.getLogger(__name__)

#: Deepest nesting accepted; a plan needs 6 levels.
MAX_DEPTH = 32
#: Most values (scalars, lists, mappings) accepted; a 3,000-server plan needs about 10,000.
MAX_NODES = 100_000

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_ALLOWED_TAGS = (None, "!", _STR_TAG)
_NO_ALIASES = "YAML anchors and aliases (&name, *name) are not allowed in plan files"
_LAST_COMPONENT = re.compile(r'(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\]|\["(?:[^"\\]|\\.)*"\])$')

Problem3 = tuple[str, int | None, str]


class SyntaxProblem(Exception):
    """The text cannot be read as a plan document; ``problems`` are ``(path, line, message)``."""

    def __init__(self, problems: list[Problem3]) -> None:
        super().__init__(problems[0][2])
        self.problems = problems

    @classmethod
    def at(cls, line: int | None, message: str, path: str = "") -> SyntaxProblem:
        return cls([(path, line, message)])


class LineIndex:
    """The line of each field path, built on first use by ``build``; unknown paths fall back to a parent."""

    def __init__(self, build: Callable[[], dict[str, int]]) -> None:
        self._build = build
        self._lines: dict[str, int] | None = None

    def line_of(self, path: str) -> int | None:
        """The line of ``path`` or its nearest parent in the file; None for the document as a whole."""
        if not path:
            return None
        if self._lines is None:
            self._lines = self._build()
        while True:
            if not path:
                return None
            if path in self._lines:
                return self._lines[path]
            match = _LAST_COMPONENT.search(path)
            path = path[: match.start()] if match else ""


@dataclass(frozen=True)
class ParsedDocument:
    data: object
    lines: LineIndex = field(compare=False)


# ------------------------------------------------------------------------------------------------ YAML


class _Refused(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None


class _Hardening:
    """Mixed into a SafeLoader (pure Python or libyaml): limits, and refusals with a line."""

    _depth: int
    _nodes: int

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(_NO_ALIASES, event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise _Refused(_NO_ALIASES, event.start_mark)
        tag = getattr(event, "tag", None)
        if tag not in _ALLOWED_TAGS:
            shown = "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag
            raise _Refused(f"YAML tag {quote(shown)} is not allowed in plan files", event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(f"too many values: a plan file holds at most {MAX_NODES}", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested too deeply (more than {MAX_DEPTH} levels)", event.start_mark)
            return Composer.compose_node(self, parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return SafeConstructor.construct_object(self, node, deep)  # type: ignore[arg-type]
        except (ValueError, OverflowError) as exc:
            shown = quote(node.value) if isinstance(node, yaml.ScalarNode) else "value"
            reason = "too many digits" if "digits" in str(exc) else f"{exc} (put it in quotes if it is text)"
            raise _Refused(f"invalid value {shown}: {reason}", node.start_mark) from None

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                raise _Refused("YAML merge keys (<<) are not allowed in plan files", key_node.start_mark)
        self.flatten_mapping(node)  # type: ignore[attr-defined]
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _Refused(
                    "a mapping key must be a single value, not a list or mapping", key_node.start_mark
                ) from None
            if key in first_line:
                raise _Refused(
                    f"duplicate key {quote(key)} (first at line {first_line[key]})", key_node.start_mark
                )
            first_line[key] = key_node.start_mark.line + 1
        return SafeConstructor.construct_mapping(self, node, deep)  # type: ignore[arg-type]


class _PyLoader(_Hardening, yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._depth = 0
        self._nodes = 0


_LOADERS: list[type[Any]] = [_PyLoader]
try:  # libyaml scans and parses in C (a 5 MiB file in well under a second); composing stays in Python.
    from yaml._yaml import CParser

    class _CLoader(_Hardening, Composer, CParser, SafeConstructor, Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._depth = 0
            self._nodes = 0

    _LOADERS.insert(0, _CLoader)
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    logger.debug("libyaml not available; parsing YAML plan files in pure Python")

_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


def _construct_int(loader: SafeConstructor, node: yaml.ScalarNode) -> int | AmbiguousNumber:
    """Plain decimal digits as an int; YAML 1.1's other integer notations as ``AmbiguousNumber``."""
    value = SafeConstructor.construct_yaml_int(loader, node)
    return value if _PLAIN_INT.match(node.value) else AmbiguousNumber(node.value, value)


def _construct_bool(loader: SafeConstructor, node: yaml.ScalarNode) -> bool | AmbiguousBoolean:
    """true and false (any case YAML 1.2 allows) as a bool; YAML 1.1's yes/no/on/off as
    ``AmbiguousBoolean``, which YAML 1.2 readers take for strings."""
    value = SafeConstructor.construct_yaml_bool(loader, node)
    return value if node.value.lower() in ("true", "false") else AmbiguousBoolean(node.value, value)


for _loader in _LOADERS:
    # A plain ``=`` is YAML 1.1's "value" key; read it as the string it looks like, not an error.
    _loader.add_constructor("tag:yaml.org,2002:value", SafeConstructor.construct_yaml_str)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    _loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def parse_yaml(text: str, *, use_libyaml: bool = True) -> ParsedDocument:
    """The data of a single-document YAML text; raises ``SyntaxProblem``.

    ``use_libyaml=False`` forces the pure-Python parser (the fallback when PyYAML lacks libyaml; tests
    run both).
    """
    loader = (_LOADERS[0] if use_libyaml else _PyLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SyntaxProblem.at(None, "the file is empty: there is no plan in it")
        data = loader.construct_document(node)
    except _Refused as exc:
        raise SyntaxProblem.at(exc.line, exc.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "cannot parse"
        if "expected a single document" in str(exc.context) or "but found another document" in str(what):
            what = "a plan file holds a single YAML document; remove the '---' separated extra ones"
        raise SyntaxProblem.at(line, f"YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise SyntaxProblem.at(None, f"YAML syntax error: {str(exc).splitlines()[0]}") from None
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise SyntaxProblem.at(None, "nested too deeply") from None
    finally:
        loader.dispose()
    return ParsedDocument(data, LineIndex(lambda: _yaml_lines(node)))


def _yaml_lines(root: yaml.Node) -> dict[str, int]:
    lines: dict[str, int] = {"": root.start_mark.line + 1}
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG:
                    child = join_path(path, key_node.value)
                    lines.setdefault(child, key_node.start_mark.line + 1)
                    stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = join_path(path, index)
                lines.setdefault(child, item.start_mark.line + 1)
                stack.append((item, child))
    return lines


# ------------------------------------------------------------------------------------------------ JSON

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


class _Duplicates:
    """``object_pairs_hook`` that notices duplicate keys; ``_json_lines`` then finds where they are."""

    def __init__(self) -> None:
        self.found = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            self.found = True
        return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str) -> ParsedDocument:
    """The data of a JSON text; raises ``SyntaxProblem`` (duplicate keys included, each with its line)."""
    if not text.strip():
        raise SyntaxProblem.at(None, "the file is empty: there is no plan in it")
    duplicates = _Duplicates()
    try:
        data = json.loads(text, object_pairs_hook=duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise SyntaxProblem.at(exc.lineno, f"JSON syntax error: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise SyntaxProblem.at(None, f"nested too deeply (more than {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # NaN/Infinity, or an integer with thousands of digits
        reason = "a number has too many digits" if "digits" in str(exc) else str(exc)
        raise SyntaxProblem.at(None, f"JSON error: {reason}") from None
    _check_shape(data)
    if duplicates.found:
        raise SyntaxProblem(_json_lines(text)[1])
    return ParsedDocument(data, LineIndex(lambda: _json_lines(text)[0]))


def _check_shape(data: object) -> None:
    """Applies ``MAX_DEPTH`` and ``MAX_NODES`` to parsed JSON, iteratively (no line: too costly to find)."""
    count = 0
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise SyntaxProblem.at(None, f"too many values: a plan file holds at most {MAX_NODES}")
        if depth > MAX_DEPTH:
            raise SyntaxProblem.at(None, f"nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _json_lines(text: str) -> tuple[dict[str, int], list[Problem3]]:
    """Line of each field path of a syntactically valid JSON text, and its duplicate keys as problems."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    lines: dict[str, int] = {}
    duplicates: list[Problem3] = []
    # Each frame: [is_object, path, next index or current key, expecting a key, keys seen]
    stack: list[list[Any]] = []
    value_path = ""
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        line = bisect.bisect_left(newlines, match.start()) + 1
        frame = stack[-1] if stack else None
        if frame is not None and frame[0] and frame[3] and token.startswith('"'):
            key = json.loads(token)
            path = join_path(frame[1], key)
            if key in frame[4]:
                duplicates.append((path, line, f"duplicate key {quote(key)} (first at line {frame[4][key]})"))
            else:
                frame[4][key] = line
            lines.setdefault(path, line)
            frame[3] = False
            value_path = path
            continue
        if token == ":":
            continue
        if token == ",":
            if frame is not None:
                if frame[0]:
                    frame[3] = True
                else:
                    frame[2] += 1
            continue
        if token in "]}":
            stack.pop()
            continue
        if frame is not None and not frame[0]:
            value_path = join_path(frame[1], frame[2])
            lines.setdefault(value_path, line)
        elif frame is None:
            value_path = ""
            lines.setdefault("", line)
        if token == "{":
            stack.append([True, value_path, None, True, {}])
        elif token == "[":
            stack.append([False, value_path, 0, False, {}])
    return lines, duplicates
