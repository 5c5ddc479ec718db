"""run_task: work off the GUI thread, the answer or the error back to the caller alone, on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread
from pytestqt.qtbot import QtBot

from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.workers.tasks import TaskThread


class Resources:
    """What a task thread owns: built and closed on that thread."""

    def __init__(self) -> None:
        self.built_on = threading.get_ident()
        self.closed_on: int | None = None
        self.calls = 0


@pytest.fixture
def made() -> list[Resources]:
    return []


@pytest.fixture
def tasks(made: list[Resources]) -> Iterator[TaskThread[Resources]]:
    def build() -> Resources:
        made.append(Resources())
        return made[-1]

    def close(resources: Resources) -> None:
        resources.closed_on = threading.get_ident()

    thread: TaskThread[Resources] = TaskThread("test-tasks", build, close=close)
    yield thread
    assert thread.stop()


def test_answer_comes_back_on_the_gui_thread_from_the_threads_own_resources(
    qtbot: QtBot, tasks: TaskThread[Resources], made: list[Resources]
) -> None:
    answers: list[tuple[int, int, bool]] = []
    gui = QThread.currentThread()

    def work(resources: Resources) -> int:
        resources.calls += 1
        return threading.get_ident()

    for _ in range(3):
        tasks.run_task(
            work, lambda ident: answers.append((ident, made[0].calls, QThread.currentThread() is gui))
        )
    qtbot.waitUntil(lambda: len(answers) == 3)
    assert len(made) == 1  # one set of resources for every task, kept as plain attributes
    assert {ident for ident, _, _ in answers} == {made[0].built_on}
    assert made[0].built_on != threading.get_ident()
    assert all(on_gui for _, _, on_gui in answers)


def test_error_goes_to_the_caller_that_asked_only(qtbot: QtBot, tasks: TaskThread[Resources]) -> None:
    first: list[str] = []
    second: list[object] = []

    def fails(_: Resources) -> None:
        raise DrsDesktopError("plan 'x' does not exist")

    tasks.run_task(fails, on_done=lambda _: first.append("done"), on_error=first.append)
    tasks.run_task(lambda _: 42, on_done=second.append, on_error=second.append)
    qtbot.waitUntil(lambda: bool(first) and bool(second))
    assert first == ["plan 'x' does not exist"]
    assert second == [42]


def test_unexpected_error_names_its_type(qtbot: QtBot, tasks: TaskThread[Resources]) -> None:
    errors: list[str] = []
    tasks.run_task(lambda _: 1 / 0, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert errors[0].startswith("unexpected error (ZeroDivisionError)")


def test_a_deleted_owner_gets_no_answer(qtbot: QtBot, tasks: TaskThread[Resources]) -> None:
    gate = threading.Event()
    answers: list[object] = []
    owner = QObject()
    tasks.run_task(lambda _: gate.wait(5), on_done=answers.append, owner=owner)
    tasks.run_task(lambda _: "later", on_done=answers.append)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _valid(owner))
    gate.set()
    qtbot.waitUntil(lambda: answers == ["later"])


def test_stop_closes_resources_on_their_thread_and_refuses_new_work(
    qtbot: QtBot, made: list[Resources]
) -> None:
    thread: TaskThread[Resources] = TaskThread("stop-test", Resources, close=lambda r: made.append(r))
    seen: list[int] = []
    thread.run_task(lambda r: r.built_on, on_done=seen.append)
    qtbot.waitUntil(lambda: bool(seen))
    assert thread.stop()
    assert not thread.isRunning()
    assert made[0].built_on == seen[0]
    thread.run_task(lambda r: 1, on_done=seen.append)  # ignored: the thread has stopped
    QCoreApplication.processEvents()
    assert seen == [made[0].built_on]


def test_resources_that_cannot_be_built_fail_every_task(qtbot: QtBot) -> None:
    def broken() -> Resources:
        raise DrsDesktopError("database is locked")

    thread: TaskThread[Resources] = TaskThread("broken", broken)
    errors: list[str] = []
    thread.run_task(lambda r: r.calls, on_error=errors.append)
    qtbot.waitUntil(lambda: errors == ["database is locked"])
    assert thread.stop()


def test_progress_reaches_its_caller_before_the_answer(qtbot: QtBot, tasks: TaskThread[Resources]) -> None:
    seen: list[tuple[str, object, bool]] = []
    others: list[object] = []
    gui = QThread.currentThread()

    def steps(_: Resources) -> str:
        for step in ("one", "two"):
            tasks.progress(step)
        return "done"

    tasks.run_task(lambda _: "other", on_done=others.append, on_progress=others.append)
    tasks.run_task(
        steps,
        on_done=lambda v: seen.append(("done", v, QThread.currentThread() is gui)),
        on_progress=lambda v: seen.append(("step", v, QThread.currentThread() is gui)),
    )
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert seen == [("step", "one", True), ("step", "two", True), ("done", "done", True)]
    assert others == ["other"], "another task's steps went to its own caller only"


def test_progress_outside_a_running_task_is_refused(qtbot: QtBot, tasks: TaskThread[Resources]) -> None:
    with pytest.raises(RuntimeError, match="on that thread"):
        tasks.progress("from the GUI thread")
    errors: list[str] = []
    tasks.run_task(
        lambda _: tasks.progress("fine"), on_error=errors.append, on_done=lambda _: errors.append("ok")
    )
    qtbot.waitUntil(lambda: bool(errors))
    assert errors == ["ok"]


def _valid(obj: QObject) -> bool:
    from shiboken6 import Shiboken

    return bool(Shiboken.isValid(obj))


def test_error_message_lists_every_plan_file_problem() -> None:
    from drs_desktop.domain.errors import PlanFileError, StorageError
    from drs_desktop.workers.tasks import error_message

    error = PlanFileError("p.yaml", [("name", 2, "the plan needs a name"), ("waves", None, "x")])
    assert error_message(error) == "p.yaml:2: name: the plan needs a name\np.yaml: waves: x"
    assert error_message(StorageError("disk full")) == "disk full"
    assert error_message(KeyError("k")) == "unexpected error (KeyError): 'k'"


def test_the_thread_and_its_relay_belong_to_qt_and_are_deleted_on_the_gui_thread(qtbot: QtBot) -> None:
    """A garbage collection on another thread must never delete a GUI-thread QObject: the relay is the
    application's child, not Python's, and ``stop()`` hands it to the GUI thread's deferred delete, after
    the answers the thread sent before it ended."""
    thread: TaskThread[Resources] = TaskThread("relay-owner", Resources)
    relay = thread._relay
    assert relay.parent() is thread and thread.parent() is QCoreApplication.instance()
    answers: list[int] = []
    started, gate = threading.Event(), threading.Event()

    def running(_: Resources) -> int:
        started.set()
        gate.wait(5)
        return 7

    thread.run_task(running, on_done=answers.append)
    qtbot.waitUntil(started.is_set)  # running: stop() does not drop it
    gate.set()
    assert thread.stop()
    assert _valid(relay), "deleted later, on the GUI thread, not by stop()"
    qtbot.waitUntil(lambda: not _valid(relay))
    assert answers == [7], "the answer sent before the thread ended came first"


def test_rebuild_comes_after_the_tasks_already_asked_and_before_the_later_ones(
    qtbot: QtBot, tasks: TaskThread[Resources], made: list[Resources]
) -> None:
    """A change of target: tasks asked before it run on the old resources, tasks asked after it on new
    ones; the old ones are closed on the thread, before the new ones are built."""
    seen: list[tuple[str, int]] = []
    release = threading.Event()

    def held(resources: Resources) -> int:
        release.wait(5)  # the rebuild is asked while this task still runs
        return id(resources)

    tasks.run_task(held, lambda answer: seen.append(("before", answer)))
    tasks.run_task(lambda r: id(r), lambda answer: seen.append(("queued before", answer)))
    tasks.rebuild()
    tasks.run_task(lambda r: id(r), lambda answer: seen.append(("after", answer)))
    release.set()
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert len(made) == 2, "built once more, not per task"
    old, new = made
    assert seen == [("before", id(old)), ("queued before", id(old)), ("after", id(new))]
    assert old.closed_on == old.built_on == new.built_on, "closed and built again on the task thread"
    assert new.closed_on is None


def test_a_rebuild_that_fails_answers_each_later_task_with_why_until_one_succeeds(qtbot: QtBot) -> None:
    attempts: list[int] = []

    def build() -> int:
        attempts.append(len(attempts))
        if len(attempts) == 2:
            raise DrsDesktopError("the new target's settings cannot be read")
        return len(attempts)

    thread: TaskThread[int] = TaskThread("test-rebuild", build)
    try:
        answers: list[object] = []
        thread.rebuild()
        thread.run_task(lambda r: r, answers.append, answers.append)
        thread.rebuild()
        thread.run_task(lambda r: r, answers.append, answers.append)
        qtbot.waitUntil(lambda: len(answers) == 2)
        assert answers == ["the new target's settings cannot be read", 3]
    finally:
        assert thread.stop()
