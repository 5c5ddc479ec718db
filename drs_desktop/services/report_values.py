"""How values appear in the evidence report document: times, durations, and text with no secret in it.

The report is a contract (docs/evidence-report.md): times are UTC ISO-8601 with a ``Z``, durations are
seconds (whole when whole, else to the millisecond), a value not known is ``null``. And secrets never
reach it: every string goes through ``scrub`` (AWS access key IDs and ``secret=...``-style pairs become
``[redacted]``) as a last line of defence against a typed comment or a DRS error text, and an endpoint
loses any user:password and query string (``safe_endpoint``). Every section builder of the document
(``services.report_document`` and the modules it draws on) writes its values through these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Access key IDs (long-term AKIA, temporary ASIA) and the bearer-token kinds; other IAM unique-ID
#: prefixes (AIDA users, AROA roles) are identities, which a report may show.
_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")
_SECRET_PAIR = re.compile(
    r"(?i)\b(aws_secret_access_key|aws_session_token|secret_access_key|session_token|secretaccesskey"
    r"|sessiontoken|password|secret)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;]+)"
)
REDACTED = "[redacted]"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seconds(span: timedelta | None) -> float | int | None:
    if span is None:
        return None
    value = span.total_seconds()
    return int(value) if value == int(value) else round(value, 3)


def scrub_text(text: str) -> str:
    """``text`` without AWS access key IDs or ``secret=value`` pairs."""
    text = _ACCESS_KEY.sub(REDACTED, text)
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def scrub(value: Any) -> Any:
    """Every string inside ``value`` (keys included) through ``scrub_text``."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {scrub_text(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def safe_endpoint(url: str | None) -> str | None:
    """The endpoint without user:password or query string (where credentials could hide)."""
    if not url:
        return None
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:
        return REDACTED
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def number(value: object) -> float | int | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
