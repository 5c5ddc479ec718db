"""The contract between the simulator's protocol layer and its world.

The protocol layer (``protocol``/``server``) turns HTTP requests into ``(operation, params)`` using
botocore's DRS service model, validates them against the model's input shapes, and serializes what the
backend returns against the output shapes. The world (``backend`` and friends) implements the
operations on plain Python values and knows nothing of HTTP.

Stdlib only, so both halves can import it without import cycles.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")


class SimulatorError(Exception):
    """A modeled DRS error, e.g. ``SimulatorError("ConflictException", "...", resourceId="s-...")``.

    ``code`` is the error shape name from the service model; the protocol layer looks up its HTTP
    status there (``status`` overrides it) and serializes ``members`` into the body, or into headers
    where the model binds a member to one (``retryAfterSeconds`` -> ``Retry-After``).
    """

    def __init__(self, code: str, message: str, *, status: int | None = None, **members: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.members = members


def validation_error(
    message: str, *, reason: str = "other", fields: Sequence[tuple[str, str]] = ()
) -> SimulatorError:
    """A 400 ValidationException with DRS's ``reason`` and ``fieldList``."""
    members: dict[str, Any] = {"reason": reason}
    if fields:
        members["fieldList"] = [{"name": name, "message": msg} for name, msg in fields]
    return SimulatorError("ValidationException", message, **members)


#: Faults that lose the answer of an action the backend did carry out.
AFTER_ACTION_FAULTS = frozenset({"drop_after", "server_error_after"})


@dataclass(frozen=True)
class TransportFault:
    """A fault the server applies around one call.

    Before the backend sees the call (the action does not happen):

    - ``throttle``: 429 ThrottlingException with ``Retry-After: retry_after`` seconds.
    - ``server_error``: ``status`` (5xx) InternalServerException.
    - ``latency``: sleep ``delay_seconds`` of real time, then serve normally.
    - ``drop``: close the connection without answering (after reading the request).

    After the backend carried the call out (the action happens, its answer is lost), which is what
    makes "did my StartRecovery launch?" a question a client has to answer by looking:

    - ``drop_after``: close the connection without answering.
    - ``server_error_after``: answer ``status`` (5xx) InternalServerException instead.
    - ``hold``: keep the request until the backend's virtual clock has moved ``hold_seconds`` past its
      arrival, then carry it out and answer; a client whose read timeout is shorter has given up.
    """

    kind: Literal["throttle", "server_error", "latency", "drop", "drop_after", "server_error_after", "hold"]
    status: int = 500
    retry_after: int = 1
    delay_seconds: float = 0.0
    hold_seconds: float = 0.0


class VirtualTime(Protocol):
    """The backend's clock as the server uses it: ``Date`` headers and held requests."""

    def now_ts(self) -> float:
        """Virtual time, POSIX seconds."""
        ...

    def wait_until(self, ts: float, *, cancelled: Callable[[], bool] = ...) -> bool:
        """Block until virtual time reaches ``ts``; False if ``cancelled()`` turned true first."""
        ...

    def wake(self) -> None:
        """Wake every ``wait_until`` so it checks ``cancelled`` again."""
        ...


class Backend(Protocol):
    """What the protocol layer needs from the world."""

    @property
    def clock(self) -> VirtualTime:
        """The world's virtual clock: every answer's ``Date`` header carries its time."""
        ...

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one DRS operation; ``params`` and the result use the model's member names."""
        ...

    def transport_fault(self, operation: str) -> TransportFault | None:
        """The fault to inject for this call, if any (deterministic under the scenario's seed)."""
        ...

    def caller_identity(self) -> dict[str, str]:
        """STS GetCallerIdentity: ``{"Account": ..., "Arn": ..., "UserId": ...}``."""
        ...


def paginate(
    items: Sequence[T],
    max_results: int | None,
    next_token: str | None,
    *,
    scope: str,
    default_page: int = 1000,
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the opaque token for the next page (None on the last one).

    Tokens encode the scope (operation and filter digest) and the offset, base64-wrapped so callers
    treat them as opaque; a token from another listing, or garbage, is a ValidationException as in DRS.
    """
    offset = 0
    if next_token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(next_token.encode("ascii")))
            if not isinstance(decoded, dict) or decoded.get("s") != scope:
                raise ValueError("scope")
            offset = int(decoded["o"])
            if offset < 0:
                raise ValueError("offset")
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
            raise validation_error(
                "Invalid pagination token",
                reason="fieldValidationFailed",
                fields=[("nextToken", "Invalid token")],
            ) from None
    size = max_results if max_results else default_page
    page = list(items[offset : offset + size])
    end = offset + len(page)
    if end >= len(items):
        return page, None
    token = base64.urlsafe_b64encode(json.dumps({"s": scope, "o": end}).encode()).decode("ascii")
    return page, token
