"""The one way a duration is written for people, in every view: the CLI, the GUI, preflight messages,
errors and the evidence report, so that the same span reads the same everywhere.

Two precisions of one notation (``s``, ``min``, ``h``, ``d``): the default is for amounts that are
approximate anyway (a replication lag, the age of a read, a throttling budget) and keeps the two largest
units from hours up; ``exact`` is for measured spans (an execution, an RTO, a clock skew) and keeps
every unit down to the second. Pure, stdlib only.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = ["format_duration"]

_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def format_duration(span: float | timedelta, *, exact: bool = False) -> str:
    """``span`` (seconds or a timedelta, rounded to the second; a negative one reads as 0 s) for people.

    Default: 20 s, 14 min, 2 h 5 min, 3 d 4 h. ``exact``: 20 s, 14 min 30 s, 2 h 5 min 7 s, 1 h 30 min
    (zero parts left out).
    """
    seconds = span.total_seconds() if isinstance(span, timedelta) else float(span)
    rest = max(0, round(seconds))
    parts = []
    for unit, size in _UNITS:
        amount, rest = divmod(rest, size)
        parts.append((amount, unit))
    if exact:
        shown = [f"{amount} {unit}" for amount, unit in parts if amount]
        return " ".join(shown) or "0 s"
    days, hours, minutes, secs = (amount for amount, _ in parts)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{secs} s"
