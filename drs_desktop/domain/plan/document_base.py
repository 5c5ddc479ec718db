"""Shapes shared by the plan document readers: field paths, quoting, type names and ``ShapeReader``.

Split from ``domain.plan.document`` so that the format-2 parts (``domain.plan.document_v2``) read with
the same strict helpers: every problem collected with its field path, never the first one only.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drs_desktop.domain.safe_text import surrogate_problem

__all__ = [
    "AmbiguousBoolean",
    "AmbiguousNumber",
    "ShapeReader",
    "join_path",
    "quote",
    "type_name",
    "unknown_key_message",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHORT = 60


@dataclass(frozen=True, repr=False)
class AmbiguousNumber:
    """A number written in a notation other than plain decimal digits: ``017``, ``0x1F``, ``1_000``, ``+5``,
    ``1:30``. YAML 1.1 readers (PyYAML among them) read ``017`` as octal 15 and ``1:30`` as 90 (base 60),
    YAML 1.2 readers as 17 and a string: a plan that means different things to different tools must not
    be read silently, so the YAML loader hands these over as this type and the document reader refuses
    them, naming the field and the literal. ``yaml11`` is what YAML 1.1 makes of ``text``.
    """

    text: str
    yaml11: int

    def __repr__(self) -> str:
        return self.text

    def problem(self) -> str:
        """Why the literal is refused where a number of minutes is expected, and what to write."""
        text, value = self.text, self.yaml11
        digits = text.lstrip("+-")
        if ":" in text:
            return f"{text} is a base-60 number to YAML 1.1 ({value}); write plain digits: {value}"
        if digits[:2].lower() in ("0x", "0b"):
            kind = "hexadecimal" if digits[:2].lower() == "0x" else "binary"
            return f"{text} is a {kind} number ({value}); write minutes as plain decimal digits: {value}"
        if len(digits) > 1 and digits.startswith("0"):
            decimal = digits.replace("_", "").lstrip("0") or "0"
            return (
                f"{text} has a leading zero: YAML 1.1 reads it as octal {value}, other readers as {decimal}; "
                "write the number without leading zeros"
            )
        if "_" in text:
            return f"{text} holds digit separators (_), which YAML 1.1 drops ({value}); write {value}"
        return f"{text} is not written as plain decimal digits (YAML 1.1 reads it as {value}); write {value}"


@dataclass(frozen=True, repr=False)
class AmbiguousBoolean:
    """A YAML 1.1 boolean word other than true and false: ``yes``, ``no``, ``on``, ``off`` (any case).

    YAML 1.1 readers (PyYAML among them) read ``copy_private_ip: no`` as false, YAML 1.2 readers as the
    string "no": the YAML loader hands these over as this type, and the document reader refuses them
    where it expects a boolean (write true or false) or a string (put it in quotes).
    """

    text: str
    yaml11: bool

    def __repr__(self) -> str:
        return self.text

    def problem(self) -> str:
        word = "true" if self.yaml11 else "false"
        return f"{self.text} is {word} to YAML 1.1 readers but a string to YAML 1.2 ones; write {word}"


def join_path(base: str, key: str | int) -> str:
    """The field path of ``key`` inside ``base``: ``waves[2]``, ``waves[2].servers``, ``tags["a:b"]``.

    Keys that are not plain identifiers (tag keys such as ``aws:cloudformation:stack-name``) are quoted in
    brackets so that a path always stays one unambiguous line.
    """
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{base}.{key}" if base else key
    shown = json.dumps(key, ensure_ascii=True)
    if len(shown) > _SHORT:
        shown = shown[: _SHORT - 4] + '..."'
    return f"{base}[{shown}]"


def quote(value: object) -> str:
    """A short, one-line, quoted rendering of ``value`` for messages (long values are cut)."""
    text = repr(value)
    if len(text) > _SHORT:
        text = text[: _SHORT - 3] + "..."
    return text.replace("\n", "\\n").replace("\r", "\\r")


def type_name(value: object) -> str:
    """How a value's type reads in a message ("a string", "a list", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, AmbiguousNumber):
        return f"{value.text}, which YAML 1.1 reads as the number {value.yaml11}"
    if isinstance(value, AmbiguousBoolean):
        return f"a boolean to YAML 1.1 ({value.text}) that YAML 1.2 reads as a string"
    return f"a {type(value).__name__}"


class ShapeReader:
    """Reads values of a given shape, collecting ``(path, message)`` problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    # -- shapes

    def mapping(
        self,
        value: object,
        path: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...],
        what: str,
        unknown: Callable[[str], str | None] | None = None,
    ) -> dict[str, Any] | None:
        """``value`` as a mapping with only ``allowed`` string keys; None (and a problem) if not a mapping.

        Unknown and non-string keys are reported and left out of the result, so the caller can keep
        checking the known fields. ``unknown`` may give a better message for some unknown keys (a key
        of a newer format version, a key that looks like a secret).
        """
        if not isinstance(value, Mapping):
            self.add(path, f"{what} must be a mapping, got {type_name(value)}")
            return None
        known: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {type_name(key)} {quote(key)}")
            elif key not in allowed:
                special = unknown(key) if unknown is not None else None
                self.add(join_path(path, key), special or unknown_key_message(key, allowed))
            else:
                known[key] = item
        for key in required:
            if known.get(key) is None:
                if key in value:
                    self.add(join_path(path, key), "must not be empty")
                else:
                    self.add(path, f"missing required key {key!r}")
        return known

    def string(self, value: object, path: str) -> str | None:
        if isinstance(value, str):
            # JSON's "\ud800" escape gives a lone surrogate, which no UTF-8 file or database can hold.
            problem = surrogate_problem(value)
            if problem is None:
                return value
            self.add(path, problem)
            return None
        quotable = isinstance(value, int | float | bool | AmbiguousNumber | AmbiguousBoolean) or value is None
        hint = " (put it in quotes)" if quotable else ""
        self.add(path, f"must be a string, got {type_name(value)}{hint}")
        return None

    def integer(self, value: object, path: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, AmbiguousNumber):
            self.add(path, value.problem())
        elif isinstance(value, str):
            self.add(path, f"must be a whole number of minutes, got a string ({quote(value)})")
        else:
            self.add(path, f"must be a whole number of minutes, got {type_name(value)}")
        return None

    def string_list(self, value: object, path: str, what: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            self.add(path, f"must be a list of {what}, got {type_name(value)}")
            return ()
        items: list[str] = []
        for index, item in enumerate(value):
            text = self.string(item, join_path(path, index))
            if text is not None:
                items.append(text)
        return tuple(items)

    def list_of(self, value: object, path: str, what: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            self.add(path, f"must be a list of {what}, got {type_name(value)}")
            return []
        return list(value)


def unknown_key_message(key: str, allowed: tuple[str, ...]) -> str:
    lowered = {candidate.lower(): candidate for candidate in allowed}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    hint = f" (did you mean {lowered[close[0]]!r}?)" if close else f" (expected one of: {', '.join(allowed)})"
    return f"unknown key {quote(key)}{hint}"
