"""Names DRS takes for plans and steps, made from local names, and the names of WAIT steps.

DRS takes 1 to 256 characters of ``[a-zA-Z0-9][a-zA-Z0-9 _-]*``; a local name may hold any printable
character. ``native_name`` keeps what DRS takes and makes the rest readable rather than refusing it:
accents are dropped ("Café" -> "Cafe"), any other run of characters DRS refuses becomes one space.

A local wait has no name, so WAIT steps are named after where they stand: "Wait before FIRST" for the
waits ahead of the first wave, "Wait after WAVE" for those following a wave, numbered from the second
on ("Wait after WAVE 2"). Names depend only on the step sequence, so a plan imported from DRS and
published again gives its waits the same names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from drs_desktop.domain.native.steps import MAX_NAME, NAME_PATTERN

__all__ = ["native_name", "unique_name", "wait_step_names"]

_REFUSED = re.compile(r"[^a-zA-Z0-9 _-]+")
_SPACES = re.compile(r" {2,}")
_LEADING = re.compile(r"^[^a-zA-Z0-9]+")


def native_name(name: str) -> str:
    """A DRS-valid plan or step name made from ``name`` (``name`` itself when DRS takes it as it is);
    ValueError saying why when nothing of it is left (no ASCII letter or digit)."""
    if NAME_PATTERN.match(name) and len(name) <= MAX_NAME:
        return name
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    text = _SPACES.sub(" ", _REFUSED.sub(" ", folded))
    text = _LEADING.sub("", text)[:MAX_NAME].rstrip()
    if not text:
        raise ValueError(
            f"{name!r} holds no ASCII letter or digit; DRS names start with one and hold only letters, "
            "digits, spaces, '-' and '_'"
        )
    return text


def unique_name(base: str, taken: Iterable[str] | set[str]) -> str:
    """``base``, or ``base 2``, ``base 3``... whichever is free, cut to DRS's length."""
    used = taken if isinstance(taken, set) else set(taken)
    candidate = base[:MAX_NAME]
    number = 2
    while candidate in used:
        suffix = f" {number}"
        candidate = base[: MAX_NAME - len(suffix)].rstrip() + suffix
        number += 1
    return candidate


def wait_step_names(kinds: Sequence[str | None]) -> list[str | None]:
    """The names of a step sequence's waits. ``kinds``: a SERVER step's name, or None for a WAIT step;
    the result keeps SERVER names and names each WAIT, unique among all the names."""
    taken = {k for k in kinds if k is not None}
    first = next((k for k in kinds if k is not None), None)
    names: list[str | None] = []
    anchor: str | None = None
    count = 0
    for kind in kinds:
        if kind is not None:
            names.append(kind)
            anchor, count = kind, 0
            continue
        count += 1
        base = f"Wait after {anchor}" if anchor is not None else f"Wait before {first or 'start'}"
        base = base[:MAX_NAME].rstrip()
        if count > 1:
            suffix = f" {count}"
            base = base[: MAX_NAME - len(suffix)].rstrip() + suffix
        name = unique_name(base, taken)
        taken.add(name)
        names.append(name)
    return names
