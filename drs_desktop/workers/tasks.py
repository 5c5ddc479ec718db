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
there by ``close()`` after the last, and built again in between by ``rebuild()``, queued like a task,
when the application moves to another DRS target); it must not touch widgets. ``on_done(answer)`` and
``on_error(message)`` run on the GUI thread. A task that has something to say before its answer (a
refresh's steps, the code of a sign-in the operator must confirm) calls ``progress(value)`` on the task
thread; the caller's ``on_progress(value)`` gets it on the GUI thread, before the answer. With ``owner``,
a QObject that is deleted before the answer arrives (a dialog closed) gets nothing. ``stop()`` drops the
tasks not started, lets the running one end, and waits for the thread (a QThread destroyed while it runs
aborts the process). ``Requester`` is a pane's handle on one thread: requests named by operation.
"""

from __future__ import annotations

import functools
import inspect
import logging
import queue
import threading
import weakref
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
    """Lives on the GUI thread. A task thread ``post``s answers into a thread-safe queue and emits a
    signal that carries nothing; the GUI thread drains the queue. No Python object travels inside a Qt
    event across threads, so a relay deleted with events pending (or a collection on another thread)
    never frees an answer twice: the answers are plain Python, owned by the queue."""

    ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._answers: queue.SimpleQueue[_Answer] = queue.SimpleQueue()
        self.ready.connect(self._deliver_all)

    def post(self, answer: _Answer) -> None:
        """From any thread: queue ``answer`` for the GUI thread and wake it."""
        self._answers.put(answer)
        self.ready.emit()

    @Slot()
    def _deliver_all(self) -> None:
        while True:
            try:
                answer = self._answers.get_nowait()
            except queue.Empty:
                return
            self._deliver(answer)

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
_REBUILD = object()  # a queue item: close the resources and build them again


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
        # Owned by Qt (the application, or ``parent``), never by Python: a garbage collection may run on
        # any thread, and a QObject of the GUI thread deleted from another thread corrupts the GUI
        # thread's event loop (it crashed test runs: panes and their Requesters form reference cycles
        # that a worker thread's allocation can collect). ``stop()`` hands the thread and its relay to
        # the GUI thread's deferred delete once it has ended.
        super().__init__(parent if parent is not None else QCoreApplication.instance())
        self.setObjectName(name)
        self._name = name
        self._make = resources
        self._close = close
        self._queue: queue.Queue[Any] = queue.Queue()
        self._relay = _Relay(self)  # the GUI thread's, like this object (not the thread it starts)
        self._stopping = False
        self._released = False
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
        self._relay.post(_Answer(task, value=value, progress=True))

    def progress_hook(self) -> Callable[[Any], None]:
        """For a task that hands its work to threads of its own (an apply's workers): ``progress`` bound to
        the task running now, callable from any thread until that task returns (the relay is thread-safe).
        Called by the task, on this thread."""
        task = self._current
        if task is None or threading.get_ident() != self._ident:
            raise RuntimeError(f"progress_hook() is for the task running on {self._name}, on that thread")
        relay = self._relay
        return lambda value: relay.post(_Answer(task, value=value, progress=True))

    def rebuild(self) -> None:
        """Close the thread's resources and build them again, on the thread, after the tasks already
        asked and before any asked later. Why: the application moved to another DRS target, and what a
        thread built for the old one (a gateway that resolved its target once, a service's cached
        checks) must not answer for the new one. Ignored once the thread is stopping."""
        if not self._stopping:
            self._queue.put(_REBUILD)

    def run(self) -> None:  # the thread's whole life: Qt calls it once, on the new thread
        self._ident = threading.get_ident()
        resources, broken = self._build()
        try:
            while (item := self._queue.get()) is not _STOP:
                if item is _REBUILD:
                    if broken is None:
                        self._release(resources)
                    resources, broken = self._build()
                elif broken is not None:  # without resources no task can run: each says why
                    self._relay.post(_Answer(item, error=broken))
                else:
                    self._run_one(item, resources)
        finally:
            if broken is None:
                self._release(resources)

    def _build(self) -> tuple[Any, str | None]:
        """(resources, None), or (None, why they could not be built)."""
        try:
            return self._make(), None
        except Exception as exc:
            logger.exception("%s could not build its resources", self._name)
            return None, error_message(exc)

    def _release(self, resources: R) -> None:
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
            self._relay.post(_Answer(task, error=error_message(exc)))
            return
        finally:
            self._current = None
        self._relay.post(_Answer(task, value=value))

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
        if not self._released:
            # Answers the thread sent before it ended are delivered first (posted earlier); then this
            # object and its relay are deleted on the GUI thread.
            self._released = True
            self.deleteLater()
        return True


class Requester(Generic[R]):
    """A pane's handle on one task thread: each request is named by its operation, and a failure comes
    back as ``on_failed(operation, message)``, so the pane says which request failed. Created with the
    pane, connected to its thread by the composition root (``connect``); answers to a pane deleted since
    are dropped (the pane is the tasks' ``owner``).

    It holds the pane weakly (the pane holds it): a pane and its Requester in a reference cycle would be
    freed by the cyclic garbage collector, which may run on a worker thread, and a widget deleted from a
    worker thread crashes the GUI thread. Without the cycle, the pane goes when its last reference does,
    on the GUI thread."""

    def __init__(self, owner: QObject, on_failed: Callable[[str, str], None]) -> None:
        self._owner = weakref.ref(owner)
        self._on_failed = _weak_callable(on_failed)
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
        pane = self._owner()
        if pane is None:
            return  # the pane is gone: nobody to answer
        owner = pane.objectName() or type(pane).__name__
        if self._tasks is None:
            logger.warning("%s asked for %s before it was connected to a task thread", owner, operation)
            return
        on_failed = self._on_failed()
        self._tasks.run_task(
            fn,
            on_done,
            functools.partial(on_failed, operation) if on_failed is not None else None,
            on_progress=on_progress,
            owner=pane,
            name=f"{owner}.{operation}",
        )


def _weak_callable(
    callback: Callable[[str, str], None],
) -> Callable[[], Callable[[str, str], None] | None]:
    """A bound method held weakly (it would hold its object); any other callable as it is."""
    if inspect.ismethod(callback):
        return weakref.WeakMethod(callback)
    return lambda: callback
