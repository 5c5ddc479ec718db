"""Small HTTP helpers of the simulator's server: the loopback check, request targets, HTTP-level errors."""

from __future__ import annotations

import ipaddress
from http import HTTPStatus
from urllib.parse import urlsplit

from drs_desktop.simulator.protocol import ProtocolError


def loopback_host(host: str) -> str:
    """``host`` if it is an IPv4 loopback address (``localhost`` maps to 127.0.0.1); else ValueError."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"The simulator binds a loopback IP address only, not {host!r}") from None
    if address.version != 4 or not address.is_loopback:
        raise ValueError(f"The simulator binds IPv4 loopback only (127.0.0.0/8), not {host}")
    return host


def error_type_for(status: int) -> str:
    """``x-amzn-ErrorType`` for HTTP-level errors: the status phrase, e.g. RequestEntityTooLargeException."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "HttpException"
    return "".join(word.capitalize() for word in phrase.replace("-", " ").split()) + "Exception"


def split_target(target: str) -> tuple[str, str]:
    """Raw (still percent-encoded) path and query of a request target; absolute-form is accepted."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path, query.partition("#")[0]


def http_error(status: int, message: str, *, close: bool = False) -> ProtocolError:
    return ProtocolError(error_type_for(status), message, status=status, close=close)
