"""What an operator types for a run's annotations (issue 18), checked before anything is journaled.

A finding's text, severity, owner, due date and status, a comment and a review come from a dialog or the
command line; each is checked here and either comes back clean or raises ``AnnotationInputError`` with one
line that names the field and says what is expected, so nothing half-read reaches the journal (which is
kept and synced for good). Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from datetime import date

from drs_desktop.domain.engine.annotation_events import FindingStatus, Severity
from drs_desktop.domain.errors import DrsDesktopError

__all__ = [
    "MAX_LINE",
    "MAX_TEXT",
    "AnnotationInputError",
    "check_due",
    "check_line",
    "check_severity",
    "check_status",
    "check_text",
    "new_finding_id",
]

#: The longest finding text, comment or review (characters): a paragraph or a few, never a file.
MAX_TEXT = 4000
#: The longest one-line value (an owner, a profile name).
MAX_LINE = 200

_DUE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: Control characters other than a newline or a tab: they would act on a terminal or break a report.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


class AnnotationInputError(DrsDesktopError):
    """An operator's entry cannot be journaled as typed (the message names the field and the rule)."""


def check_text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """``value`` trimmed, one line or several; refused when empty (``required``), longer than ``limit`` or
    carrying control characters. Windows line ends become ``\\n``."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not text:
        raise AnnotationInputError(f"{field} is empty: type what it should say")
    if len(text) > limit:
        raise AnnotationInputError(f"{field} is {len(text)} characters long: at most {limit}")
    if _CONTROL.search(text):
        raise AnnotationInputError(f"{field} contains a control character: type plain text")
    return text


def check_line(value: str, field: str, *, limit: int = MAX_LINE) -> str:
    """A one-line value (an owner): trimmed, possibly empty, no line break."""
    text = value.strip()
    if "\n" in text or "\r" in text:
        raise AnnotationInputError(f"{field} must be one line")
    return check_text(text, field, required=False, limit=limit)


def check_severity(value: str | Severity) -> Severity:
    """A ``Severity`` from its name, any case."""
    if isinstance(value, Severity):
        return value
    try:
        return Severity(value.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in Severity)
        raise AnnotationInputError(f"severity {value!r} is not one of {names}") from None


def check_status(value: str | FindingStatus) -> FindingStatus:
    """A ``FindingStatus`` from its name, any case (``in-progress``, ``in_progress``: ``in progress``)."""
    if isinstance(value, FindingStatus):
        return value
    try:
        return FindingStatus(re.sub(r"[-_\s]+", " ", value.strip().lower()))
    except ValueError:
        names = ", ".join(s.value for s in FindingStatus)
        raise AnnotationInputError(f"status {value!r} is not one of {names}") from None


def check_due(value: str) -> str:
    """A due date as ``YYYY-MM-DD`` (a real date), or "" for none."""
    text = value.strip()
    if not text:
        return ""
    if not _DUE.match(text):
        raise AnnotationInputError(f"due date {value!r} is not a date as YYYY-MM-DD")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise AnnotationInputError(f"due date {value!r} is not a real date") from None
    return text


def new_finding_id(taken: Collection[str]) -> str:
    """A short finding ID (``F-`` and 6 hex digits), unique in the run: random rather than counted, so
    two operators adding findings to one live run at once (through its driver's inbox) never pick the
    same one from the same journal."""
    while True:
        candidate = f"F-{secrets.token_hex(3).upper()}"
        if candidate not in taken:
            return candidate
