"""The reader under scenario loading: a mapping with typed getters that names the key path in every error.

Shared by ``scenario_schema`` (the single-account document) and ``scenario_accounts`` (the ``accounts:``
list), so neither has to import the other's parsers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from drs_desktop.simulator.scenario import OsRange, Range, ScenarioError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$")
SERVER_ID_RE = re.compile(r"^s-[0-9a-f]{17}$")
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
_MISSING = object()


class Node:
    """A mapping being read: typed getters, and ``finish()`` rejects keys nobody asked for."""

    def __init__(self, data: Any, source: str, path: str) -> None:
        self.source = source
        self.path = path
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise self.error("", f"must be a mapping, got {type(data).__name__}")
        self.data: Mapping[Any, Any] = data
        self.read: set[str] = set()

    def key_path(self, key: str) -> str:
        if not key:
            return self.path
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(self.source, self.key_path(key), message)

    def raw(self, key: str) -> Any:
        self.read.add(key)
        return self.data.get(key, _MISSING)

    def text(
        self, key: str, default: str | None = None, *, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        value = self.raw(key)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(key, f"must be a string, got {value!r}")
        text: str = str(value)
        if pattern is not None and not pattern.match(text):
            raise self.error(key, f"{text!r} does not match {pattern.pattern}")
        return text

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        assert value is not None
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def integer(self, key: str, default: int, *, low: int = 0, high: int | None = None) -> int:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise self.error(key, f"must be an integer {bound}, got {value!r}")
        return value

    def number(self, key: str, default: float, *, low: float = 0.0, high: float | None = None) -> float:
        value = self.raw(key)
        if value is _MISSING:
            return default
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise self.error(key, f"must be a number {bound}, got {value!r}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def child(self, key: str) -> Node:
        value = self.raw(key)
        return Node(None if value is _MISSING else value, self.source, self.key_path(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def items(self, key: str) -> list[Node]:
        value = self.raw(key)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, got {type(value).__name__}")
        return [Node(v, self.source, f"{self.key_path(key)}[{i}]") for i, v in enumerate(value)]

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if value is _MISSING or value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, "must be a list of strings")
        return tuple(value)

    def tags(self, key: str) -> dict[str, str]:
        value = self.raw(key)
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a mapping of tag keys to values")
        out: dict[str, str] = {}
        for k, v in value.items():
            if not isinstance(k, str) or not isinstance(v, str | int | float) or isinstance(v, bool):
                raise self.error(key, f"tag {k!r} must map a string to a string")
            if len(k) > 128 or len(str(v)) > 256:
                raise self.error(key, f"tag {k!r} is too long (key <= 128, value <= 256 characters)")
            out[k] = str(v)
        return out

    def range(self, key: str, default: Range) -> Range:
        value = self.raw(key)
        if value is _MISSING:
            return default
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        )
        if not ok or value[0] < 0 or value[0] > value[1]:
            raise self.error(key, f"must be [low, high] with 0 <= low <= high, got {value!r}")
        return Range(float(value[0]), float(value[1]))

    def os_range(self, key: str, default: OsRange) -> OsRange:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if isinstance(value, list):
            same = self.range(key, default.linux)
            return OsRange(same, same)
        node = self.child(key)
        result = OsRange(node.range("linux", default.linux), node.range("windows", default.windows))
        node.finish()
        return result

    def weights(self, key: str, default: Mapping[str, float], allowed: tuple[str, ...]) -> dict[str, float]:
        value = self.raw(key)
        if value is _MISSING:
            return dict(default)
        if isinstance(value, str):
            value = {value: 1.0}
        if not isinstance(value, Mapping) or not value:
            raise self.error(key, "must be a non-empty mapping of names to weights")
        out: dict[str, float] = {}
        for name, weight in value.items():
            if name not in allowed:
                raise self.error(key, f"unknown name {name!r}; expected one of {', '.join(allowed)}")
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise self.error(key, f"weight of {name!r} must be a number >= 0")
            out[name] = float(weight)
        if sum(out.values()) <= 0:
            raise self.error(key, "weights must not all be zero")
        return out

    def finish(self) -> None:
        unknown = [str(k) for k in self.data if k not in self.read]
        if unknown:
            raise self.error(
                unknown[0], "unknown key" + (f" (also: {', '.join(unknown[1:])})" if unknown[1:] else "")
            )
