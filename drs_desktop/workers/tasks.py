"""The one request/answer primitive of the GUI: ``TaskThread.run_task(fn, on_done, on_error)``.

Why one primitive (DESIGN §3.4): every pane needs the same three things from background work: the work
runs off the GUI thread, the answer (or the error) comes back on the GUI thread, and it comes back to the
caller that asked, not to every pane that listens to a shared worker signal. A per-verb worker class with
one signal per answer gave each pane a second copy of that plumbing and made two panes of one worker
receive each other's answers.

A ``TaskThread`` is a ``QThread`` whose ``run()`` is a plain Python loop over a queue, so the Python
thread state lives as long as the thread: the resources it builds there (a service holding its own
SQLite reader and boto3 clients as plain attributes) stay with it from one task to the next, with no
thread-locals and no interpreter tricks. Tasks run one at a time, in the order they were given, so the
answers of one thread come back in order too.

``fn`` gets the thread's resources (built on the thread by ``resources()`` before the first task, closed
there by ``close()`` after the last); it must not touch widgets. ``on_done(answer)`` and
``on_error(message)`` run on the GUI thread. A task that has something to say before its answer (a
refresh's steps, the code of a sign-in the operator must confirm) calls ``progress(value)`` on the task
thread; the caller's ``on_progress(value)`` gets it on the GUI thread, before the answer. With ``owner``,
a QObject that is deleted before the answer arrives (a dialog closed) gets nothing. ``stop()`` drops the
tasks not started, lets the running one end, and waits for the thread (a QThread destroyed while it runs
aborts the process). ``Requester`` is a pane's handle on one thread: requests named by operation.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from shiboken6 import Shiboken

from drs_desktop.domain.errors import DrsDesktopError, PlanFileError

logger = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T")


def error_message(exc: BaseException) -> str:
    """What the operator reads: every problem of a plan file, the one line of an expected error."""
    if isinstance(exc, PlanFileError):
        return "\n".join(exc.lines()) or str(exc)
    if isinstance(exc, DrsDesktopError):
        return str(exc)
    return f"unexpected error ({type(exc).__name__}): {exc}"


@dataclass(frozen=True)
class _Task:
    name: str
    fn: Callable[[Any], Any]
    on_done: Callable[[Any], None] | None
    on_error: Callable[[str], None] | None
    owner: QObject | None
    on_progress: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class _Answer:
    task: _Task
    value: Any = None
    error: str | None = None
    progress: bool = False  # a step reported by ``progress``, not the answer


class _Relay(QObject):
    """Lives on the GUI thread; a signal emitted on the task thread reaches it queued."""

    answered = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.answered.connect(self._deliver)

    @Slot(object)
    def _deliver(self, answer: _Answer) -> None:
        task = answer.task
        if task.owner is not None and not Shiboken.isValid(task.owner):
            logger.debug("task %s answered after its owner was deleted; dropped", task.name)
            return
        try:
            if answer.progress:
                if task.on_progress is not None:
                    task.on_progress(answer.value)
            elif answer.error is None:
                if task.on_done is not None:
                    task.on_done(answer.value)
            elif task.on_error is not None:
                task.on_error(answer.error)
        except Exception:  # an exception escaping a queued slot is lost: say it at least
            logger.exception("the answer of task %s could not be shown", task.name)


_STOP = object()


class TaskThread(QThread, Generic[R]):
    """One background thread that runs tasks one at a time against resources it owns."""

    def __init__(
        self,
        name: str,
        resources: Callable[[], R],
        *,
        close: Callable[[R], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._name = name
        self._make = resources
        self._close = close
        self._queue: queue.Queue[Any] = queue.Queue()
        # Created here, on the caller's (GUI) thread, and owned by the application, not by Python: a
        # garbage collection that runs on another thread must never delete a QObject of the GUI thread
        # (Qt forbids it, and it crashed a test run). ``stop()`` hands it to the GUI thread to delete.
        self._relay = _Relay(QCoreApplication.instance())
        self._stopping = False
        self._relay_released = False
        self._current: _Task | None = None  # the task running now (read and written on this thread)
        self._ident = 0  # this thread's, once it runs
        self.start()

    @property
    def name(self) -> str:
        return self._name

    def run_task(
        self,
        fn: Callable[[R], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        *,
        on_progress: Callable[[Any], None] | None = None,
        owner: QObject | None = None,
        name: str = "",
    ) -> None:
        """Run ``fn(resources)`` on this thread; ``on_done(answer)`` or ``on_error(message)`` on the GUI
        thread, after any ``on_progress(value)`` the task reported. Without ``on_error`` a failure is
        only logged. Ignored once the thread is stopping."""
        if self._stopping:
            logger.debug("task %s not run: %s is stopping", name or fn, self._name)
            return
        task_name = name or getattr(fn, "__name__", "task")
        self._queue.put(_Task(task_name, fn, on_done, on_error, owner, on_progress))

    def progress(self, value: Any) -> None:
        """Called by a task, on this thread: hand ``value`` to that task's ``on_progress`` (GUI thread)."""
        task = self._current
        if task is None or threading.get_ident() != self._ident:
            raise RuntimeError(f"progress() is for the task running on {self._name}, on that thread")
        self._relay.answered.emit(_Answer(task, value=value, progress=True))

    def run(self) -> None:  # the thread's whole life: Qt calls it once, on the new thread
        self._ident = threading.get_ident()
        try:
            resources = self._make()
        except Exception as exc:
            logger.exception("%s could not build its resources", self._name)
            self._fail_all(error_message(exc))
            return
        try:
            while (item := self._queue.get()) is not _STOP:
                self._run_one(item, resources)
        finally:
            if self._close is not None:
                try:
                    self._close(resources)
                except Exception:
                    logger.exception("%s could not close its resources", self._name)

    def _run_one(self, task: _Task, resources: R) -> None:
        self._current = task
        try:
            value = task.fn(resources)
        except Exception as exc:
            if isinstance(exc, DrsDesktopError):
                logger.warning("%s failed: %s", task.name, exc)
            else:
                logger.exception("%s failed unexpectedly", task.name)
            self._relay.answered.emit(_Answer(task, error=error_message(exc)))
            return
        finally:
            self._current = None
        self._relay.answered.emit(_Answer(task, value=value))

    def _fail_all(self, message: str) -> None:
        """Without resources no task can run: answer each one queued (and later ones) with the reason."""
        while (item := self._queue.get()) is not _STOP:
            self._relay.answered.emit(_Answer(item, error=message))

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Drop what has not started, let the running task end, wait; True once the thread has ended."""
        self._stopping = True
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(_STOP)
        ended = not self.isRunning() or bool(self.wait(timeout_ms))
        if not ended:
            logger.error("task thread %s did not stop within %d ms", self._name, timeout_ms)
            return False
        if not self._relay_released:
            # Answers the thread sent before it ended are delivered first (posted earlier), then the
            # relay is deleted on its own thread.
            self._relay_released = True
            self._relay.deleteLater()
        return True


class Requester(Generic[R]):
    """A pane's handle on one task thread: each request is named by its operation, and a failure comes
    back as ``on_failed(operation, message)``, so the pane says which request failed. Created with the
    pane, connected to its thread by the composition root (``connect``); answers to a pane deleted since
    are dropped (the pane is the tasks' ``owner``)."""

    def __init__(self, owner: QObject, on_failed: Callable[[str, str], None]) -> None:
        self._owner = owner
        self._on_failed = on_failed
        self._tasks: TaskThread[R] | None = None

    def connect(self, tasks: TaskThread[R]) -> None:
        self._tasks = tasks

    def __call__(
        self,
        operation: str,
        fn: Callable[[R], T],
        on_done: Callable[[T], None] | None = None,
        *,
        on_progress: Callable[[Any], None] | None = None,
    ) -> None:
        owner = self._owner.objectName() or type(self._owner).__name__
        if self._tasks is None:
            logger.warning("%s asked for %s before it was connected to a task thread", owner, operation)
            return
        self._tasks.run_task(
            fn,
            on_done,
            functools.partial(self._on_failed, operation),
            on_progress=on_progress,
            owner=self._owner,
            name=f"{owner}.{operation}",
        )
