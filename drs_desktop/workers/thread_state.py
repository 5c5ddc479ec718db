"""Keep a worker thread's Python thread state alive from one slot call to the next.

Why: PySide6 runs a slot queued to a QThread (whose ``run`` is Qt's own event loop) under a Python
thread state it creates for that one call and deletes right after (``PyGILState_Ensure``/``Release``).
Everything Python keeps per thread dies with it between two calls: ``threading.local`` data, hence
``DrsGateway``'s per-thread boto3 clients (about 100 ms to build, so every DescribeJobs of an execution
paid for a new client) and a service's per-thread SQLite read connection (reopened, and the old one
never closed). Measured with PySide6 6.11: a value stored in a ``threading.local`` by one slot call is
gone in the next.

``ThreadStatePin.pin()``, called on the worker's thread, takes one extra ``PyGILState_Ensure``, so the
thread state's counter never drops to zero and the state (and its thread-locals) lives on; ``unpin()``,
on the same thread before it ends (``WorkerThread(on_stop=...)``), gives it back so the state is freed
with the thread. Outside CPython it does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading

logger = logging.getLogger(__name__)

_API = getattr(ctypes, "pythonapi", None) if sys.implementation.name == "cpython" else None
if _API is not None:
    _ensure = _API.PyGILState_Ensure
    _ensure.restype = ctypes.c_int
    _ensure.argtypes = []
    _release = _API.PyGILState_Release
    _release.restype = None
    _release.argtypes = [ctypes.c_int]


class ThreadStatePin:
    """Pins the Python thread state of one thread (the first that calls ``pin``)."""

    def __init__(self) -> None:
        self._thread: int | None = None
        self._token: int | None = None

    @property
    def pinned(self) -> bool:
        return self._token is not None

    def pin(self) -> None:
        """Pin the calling thread's state; does nothing if pinned already (on any thread)."""
        if _API is None or self._token is not None:
            return
        self._token = int(_ensure())
        self._thread = threading.get_ident()
        logger.debug("python thread state of thread %d pinned", self._thread)

    def unpin(self) -> None:
        """Give the pin back; only on the pinned thread (elsewhere it would release another state)."""
        if _API is None or self._token is None:
            return
        if threading.get_ident() != self._thread:
            logger.warning("thread state pin not released: unpin() called on another thread")
            return
        token, self._token, self._thread = self._token, None, None
        _release(token)
