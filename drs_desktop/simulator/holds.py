"""Transport faults as the HTTP server applies them: the answers they give, and the requests they hold.

``fault_response`` turns a fault into what the client gets instead of the real answer (or None: the
connection is dropped). ``HeldRequests`` keeps count of requests held by ``hold`` faults, so a test can
wait on them instead of sleeping.

A held request sits in its own server thread until the virtual clock has moved far enough (see
``VirtualClock.wait_until``). Whoever moves the clock wants to know two things without guessing how long
a thread takes: that the request is held (so the clock is moved after its arrival), and that it has
been carried out (so the world already shows the action).
"""

from __future__ import annotations

import threading

from drs_desktop.simulator import protocol
from drs_desktop.simulator.contract import SimulatorError, TransportFault
from drs_desktop.simulator.model import DrsModel
from drs_desktop.simulator.protocol import HttpResponse

#: Fault kinds answered by ``fault_response`` (latency and hold are waits, not answers).
ANSWERING_FAULTS = frozenset({"throttle", "server_error", "drop", "server_error_after", "drop_after"})


def fault_response(model: DrsModel, fault: TransportFault, request_id: str) -> HttpResponse | None:
    """What the client gets for an answering fault; None means: close the connection, answer nothing.

    A 5xx after the action looks exactly like one before it: the client cannot tell them apart, which is
    the point.
    """
    if fault.kind == "throttle":
        error = SimulatorError(
            "ThrottlingException",
            "Rate exceeded",
            serviceCode="drs",
            retryAfterSeconds=str(max(0, int(fault.retry_after))),
        )
        return protocol.serialize_error(model, error, request_id)
    if fault.kind in ("server_error", "server_error_after"):
        status = fault.status if 500 <= fault.status <= 599 else 500
        error = SimulatorError(
            "InternalServerException",
            "Service encountered an internal error",
            status=status,
            retryAfterSeconds=max(0, int(fault.retry_after)),
        )
        return protocol.serialize_error(model, error, request_id)
    if fault.kind in ("drop", "drop_after"):
        return None
    raise ValueError(f"{fault.kind!r} faults do not answer")


class HeldRequests:
    """Counts of held requests, with waits bounded by a real-time ``timeout``."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holding = 0
        self._cancelled = 0
        self._carried_out = 0

    @property
    def holding(self) -> int:
        """Requests being held right now."""
        with self._changed:
            return self._holding

    @property
    def cancelled(self) -> int:
        """Held requests given up because the server stopped (their action never happened)."""
        with self._changed:
            return self._cancelled

    @property
    def total_carried_out(self) -> int:
        """Held requests released by the clock whose call the backend has since handled."""
        with self._changed:
            return self._carried_out

    def entered(self) -> None:
        with self._changed:
            self._holding += 1
            self._changed.notify_all()

    def left(self, released: bool) -> None:
        with self._changed:
            self._holding -= 1
            if not released:
                self._cancelled += 1
            self._changed.notify_all()

    def carried_out(self) -> None:
        with self._changed:
            self._carried_out += 1
            self._changed.notify_all()

    def wait_holding(self, count: int = 1, *, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` requests are held; False if ``timeout`` real seconds pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._holding >= count, timeout)

    def wait_carried_out(self, count: int = 1, *, timeout: float = 5.0) -> bool:
        """Wait until ``count`` held requests in all have been carried out; False after ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: self._carried_out >= count, timeout)
