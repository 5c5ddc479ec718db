"""The one way a worker slot fails: caught, logged, and reported as ``failed(operation, message)``.

An exception that escapes a Qt slot is lost to the operator and leaves the GUI waiting for an answer
that never comes (DESIGN §3.3). ``guarded`` wraps a slot of any worker that has a ``failed`` signal.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from drs_desktop.domain.errors import DrsDesktopError, PlanFileError

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., None])


def error_message(exc: BaseException) -> str:
    """What the operator reads: every problem of a plan file, the one line of an expected error."""
    if isinstance(exc, PlanFileError):
        return "\n".join(exc.lines()) or str(exc)
    if isinstance(exc, DrsDesktopError):
        return str(exc)
    return f"unexpected error ({type(exc).__name__}): {exc}"


def guarded(operation: str) -> Callable[[F], F]:
    """Run the slot; on any exception log it (expected errors briefly) and emit ``failed``."""

    def wrap(slot: F) -> F:
        @functools.wraps(slot)
        def run(self: Any, *args: Any, **kwargs: Any) -> None:
            try:
                slot(self, *args, **kwargs)
            except Exception as exc:
                if isinstance(exc, DrsDesktopError):
                    logger.warning("%s failed: %s", operation, exc)
                else:
                    logger.exception("%s failed unexpectedly", operation)
                self.failed.emit(operation, error_message(exc))

        return run  # type: ignore[return-value]

    return wrap
