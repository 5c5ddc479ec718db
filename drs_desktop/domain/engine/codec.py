"""JSON for the engine's frozen dataclasses: events, commands and execution specs.

The execution journal stores every event as JSON and rebuilds the state by replaying it, so the mapping
must be exact and boring: a dataclass becomes an object with a ``"type"`` field (its class name) plus one
key per field; datetimes become ISO-8601 strings with their offset, timedeltas seconds, enums their value,
tuples lists. Decoding is driven by the dataclass's type hints, so adding a field with a default keeps old
journals readable. Pure and stdlib only.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

#: Decoders for the classes a tagged object may name, keyed by class name.
Registry = Mapping[str, type[Any]]


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data: dict[str, Any] = {"type": type(value).__name__}
        for item in dataclasses.fields(value):
            data[item.name] = to_json(getattr(value, item.name))
        return data
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the journal only stores aware times")
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple | list | frozenset | set):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def from_json(expected: Any, data: Any) -> Any:
    """Rebuild a value of type ``expected`` (a class or a typing form) from ``to_json`` output."""
    origin = typing.get_origin(expected)
    if expected is Any:
        return data
    if origin is typing.Union or origin is types.UnionType:
        return _union(typing.get_args(expected), data)
    if origin is tuple:
        return _tuple(typing.get_args(expected), data)
    if origin in (Mapping, dict) or expected in (Mapping, dict):
        args = typing.get_args(expected)
        value_type = args[1] if args else Any
        return {str(key): from_json(value_type, item) for key, item in _expect(dict, data).items()}
    if isinstance(expected, type):
        return _plain(expected, data)
    raise TypeError(f"cannot decode JSON into {expected!r}")


def decode_tagged(data: Mapping[str, Any], registry: Registry) -> Any:
    """The registered dataclass named by ``data["type"]``, decoded from ``data``."""
    name = data.get("type")
    cls = registry.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown type {name!r}; expected one of {sorted(registry)}")
    return from_json(cls, data)


def _plain(expected: type[Any], data: Any) -> Any:
    if dataclasses.is_dataclass(expected):
        return _dataclass(expected, _expect(dict, data))
    if issubclass(expected, Enum):
        return expected(data)
    if expected is datetime:
        value = datetime.fromisoformat(_expect(str, data))
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {data!r} in the journal")
        return value
    if expected is timedelta:
        return timedelta(seconds=_expect((int, float), data))
    if expected is float:
        return float(_expect((int, float), data))
    if expected is type(None):
        if data is not None:
            raise ValueError(f"expected null, got {data!r}")
        return None
    if expected in (str, int, bool):
        if expected is int and isinstance(data, bool):
            raise ValueError(f"expected int, got {data!r}")
        return _expect(expected, data)
    raise TypeError(f"cannot decode JSON into {expected.__name__}")


def _dataclass(cls: type[Any], data: dict[str, Any]) -> Any:
    tag = data.get("type")
    if tag is not None and tag != cls.__name__:
        raise ValueError(f"expected a {cls.__name__}, got a {tag}")
    hints = _hints(cls)
    kwargs = {
        item.name: from_json(hints[item.name], data[item.name])
        for item in dataclasses.fields(cls)
        if item.name in data
    }
    return cls(**kwargs)


def _union(options: tuple[Any, ...], data: Any) -> Any:
    if data is None and type(None) in options:
        return None
    candidates = [option for option in options if option is not type(None)]
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        for option in candidates:
            if isinstance(option, type) and option.__name__ == data["type"]:
                return from_json(option, data)
    if len(candidates) == 1:
        return from_json(candidates[0], data)
    errors = []
    for option in candidates:
        try:
            return from_json(option, data)
        except (TypeError, ValueError) as error:
            errors.append(str(error))
    raise ValueError(f"{data!r} matches none of {candidates}: {errors}")


def _tuple(args: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    items = _expect(list, data)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(from_json(args[0], item) for item in items)
    if len(args) != len(items):
        raise ValueError(f"expected {len(args)} items, got {len(items)}")
    return tuple(from_json(arg, item) for arg, item in zip(args, items, strict=True))


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """Resolved field types, cached: replaying a long journal decodes the same classes many times."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _expect(kind: type[Any] | tuple[type[Any], ...], data: Any) -> Any:
    if not isinstance(data, kind):
        raise ValueError(f"expected {kind}, got {type(data).__name__}: {data!r}")
    return data
