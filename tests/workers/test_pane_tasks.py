"""The panes' task threads (workers.pane_tasks) end to end: the inventory refresh on the ``aws`` thread
against the simulator over loopback (its steps, an MFA code asked by dialog, a cancelled one), and the
``local`` thread's readers, opened on it and closed on it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.connection import ConnectionSettings, MfaChallenge
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.server_usage import ServerUsage
from drs_desktop.secrets import SecretStore
from drs_desktop.services import connection
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.history import ExecutionHistory
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.workers.credential_prompts import CredentialPrompts
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks, LocalServices
from drs_desktop.workers.tasks import TaskThread
from tests.services import aws_stubs
from tests.services.settings_fixtures import (  # noqa: F401
    aws_files_fixture,
    db_fixture,
    memory_keyring_fixture,
    small_simulator_fixture,
)
from tests.ui.pane_tasks import pane_threads

TIMEOUT = 10_000


def dead_endpoint() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def quick_gateway(target: AwsTarget) -> DrsGateway:
    return DrsGateway(target, read_max_attempts=1, connect_timeout=2, read_timeout=5)


class Answers:
    """What one refresh said: its steps (with the thread each reached), then its answer or its error."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, bool]] = []
        self.done: list[Inventory] = []
        self.errors: list[str] = []

    def ask(self, aws: AwsTasks) -> None:
        aws.run_task(
            lambda s: s.inventory.refresh(aws.progress, s.mfa),
            self.done.append,
            self.errors.append,
            on_progress=lambda text: self.steps.append(
                (text, threading.current_thread() is threading.main_thread())
            ),
        )

    def wait(self, qtbot: QtBot, count: int = 1) -> None:
        qtbot.waitUntil(lambda: len(self.done) + len(self.errors) >= count, timeout=TIMEOUT)


@pytest.fixture
def resolver(db: Database, memory_keyring: object, small_simulator: EmbeddedSimulator) -> ConnectionResolver:
    return ConnectionResolver(
        db, SecretStore(), demo_endpoint=small_simulator.endpoint_url, demo_region="us-east-1"
    )


def test_refresh_reports_its_steps_then_the_inventory_and_the_cache_follows(
    db: Database, resolver: ConnectionResolver, qtbot: QtBot
) -> None:
    with pane_threads(db, resolver, inventory_gateways=quick_gateway) as threads:
        answers = Answers()
        answers.ask(threads.aws)
        answers.wait(qtbot)
        assert answers.errors == []
        (inventory,) = answers.done
        assert len(inventory.servers) == 10
        assert (inventory.account_id, inventory.region) == ("123456789012", "us-east-1")
        steps = [text for text, _ in answers.steps]
        assert steps[0] == "Checking the connection settings…"
        assert steps[1].startswith("Asking DRS for the source servers (us-east-1")
        assert steps[2].startswith("Saving 10 servers")
        assert all(on_gui for _, on_gui in answers.steps), "steps reach the caller on the GUI thread"
        cached: list[tuple[Inventory | None, dict[str, ServerUsage]]] = []
        threads.local.run_task(
            lambda s: (s.inventory.cached(), s.inventory.usage()), lambda answer: cached.append(answer)
        )
        qtbot.waitUntil(lambda: bool(cached), timeout=TIMEOUT)
        assert cached == [(inventory, {})]


def test_a_failed_refresh_is_one_line_and_the_cache_stays(
    db: Database, resolver: ConnectionResolver, qtbot: QtBot
) -> None:
    with pane_threads(db, resolver, inventory_gateways=quick_gateway) as threads:
        answers = Answers()
        answers.ask(threads.aws)
        answers.wait(qtbot)
        resolver.set_demo(dead_endpoint(), "us-east-1")
        answers.ask(threads.aws)
        answers.wait(qtbot, 2)
        (message,) = answers.errors
        assert "could not be reached" in message and "\n" not in message
        cached: list[Inventory | None] = []
        threads.local.run_task(lambda s: s.inventory.cached(), cached.append)
        qtbot.waitUntil(lambda: bool(cached), timeout=TIMEOUT)
        assert cached == answers.done


def test_an_mfa_profile_asks_for_its_code_then_refreshes(
    db: Database,
    memory_keyring: object,
    aws_files: Path,
    small_simulator: EmbeddedSimulator,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real-AWS target (an MFA profile); DRS and STS endpoints redirected to the simulator by botocore's
    # own environment variables, AssumeRole answered by the STS stub.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", small_simulator.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", small_simulator.endpoint_url)
    connection.save_connection_settings(db, ConnectionSettings(profile="mfa-role", region="us-east-1"))
    sts = aws_stubs.StsBehaviour()
    prompts = CredentialPrompts(timeout_seconds=20)
    asked: list[MfaChallenge] = []
    prompts.mfa_code_requested.connect(asked.append)
    with aws_stubs.serve(sts=sts) as sts_url:
        resolver = ConnectionResolver(db, SecretStore(), sts_endpoint_url=sts_url)
        try:
            with pane_threads(db, resolver, inventory_gateways=quick_gateway, mfa=prompts.ask_mfa) as threads:
                answers = Answers()
                answers.ask(threads.aws)
                qtbot.waitUntil(lambda: bool(asked) and prompts.waiting(), timeout=TIMEOUT)
                assert asked[0].profile == "mfa-role"
                prompts.answer_mfa("246810")
                answers.wait(qtbot)
                assert answers.errors == [] and len(answers.done[0].servers) == 10
                assert [call["TokenCode"] for call in sts.calls] == ["246810"]
                # The next refresh reuses the role's credentials: no second question.
                answers.ask(threads.aws)
                answers.wait(qtbot, 2)
                assert len(answers.done) == 2 and len(sts.calls) == 1 and len(asked) == 1
        finally:
            prompts.close()


def test_a_cancelled_mfa_code_fails_the_refresh(
    db: Database, memory_keyring: object, aws_files: Path, qtbot: QtBot
) -> None:
    connection.save_connection_settings(db, ConnectionSettings(profile="mfa-role", region="us-east-1"))
    prompts = CredentialPrompts(timeout_seconds=20)
    try:
        with pane_threads(db, ConnectionResolver(db, SecretStore()), mfa=prompts.ask_mfa) as threads:
            answers = Answers()
            answers.ask(threads.aws)
            qtbot.waitUntil(prompts.waiting, timeout=TIMEOUT)
            prompts.cancel()
            answers.wait(qtbot)
            assert answers.done == [] and "No MFA code" in answers.errors[0]
    finally:
        prompts.close()


def test_shutdown_lets_a_refresh_waiting_for_a_code_go(
    db: Database, memory_keyring: object, aws_files: Path, qtbot: QtBot
) -> None:
    """DesktopApp.shutdown closes the prompts before it stops the aws thread: the waiting task ends."""
    connection.save_connection_settings(db, ConnectionSettings(profile="mfa-role", region="us-east-1"))
    prompts = CredentialPrompts(timeout_seconds=300)
    with pane_threads(db, ConnectionResolver(db, SecretStore()), mfa=prompts.ask_mfa) as threads:
        Answers().ask(threads.aws)
        qtbot.waitUntil(prompts.waiting, timeout=TIMEOUT)
        prompts.close()
        assert threads.aws.stop(timeout_ms=TIMEOUT)


@pytest.fixture
def local_thread(db: Database) -> Iterator[tuple[TaskThread[LocalServices], list[LocalServices], list[int]]]:
    made: list[LocalServices] = []
    closed_on: list[int] = []

    def build() -> LocalServices:
        made.append(
            LocalServices(
                PlanLibrary(db),
                ExecutionHistory(db),
                InventoryService(db, ConnectionResolver(db, SecretStore())),
            )
        )
        return made[-1]

    def close(services: LocalServices) -> None:
        closed_on.append(threading.get_ident())
        services.close()

    thread: TaskThread[LocalServices] = TaskThread("local-test", build, close=close)
    try:
        yield thread, made, closed_on
    finally:
        assert thread.stop()


def test_the_local_threads_readers_are_its_own_and_closed_on_it(
    local_thread: tuple[TaskThread[LocalServices], list[LocalServices], list[int]], qtbot: QtBot
) -> None:
    thread, made, closed_on = local_thread
    ran_on: list[int] = []

    def read_everything(s: LocalServices) -> int:
        s.plans.list_plans()
        s.history.executions()
        s.inventory.cached()
        return threading.get_ident()

    thread.run_task(read_everything, ran_on.append)
    qtbot.waitUntil(lambda: bool(ran_on), timeout=TIMEOUT)
    (services,) = made
    readers = [
        services.plans._reader.current,
        services.history._reader.current,
        services.inventory._reader.current,
    ]
    assert all(reader is not None for reader in readers), "each service opened its reader on first use"
    assert ran_on[0] != threading.get_ident()
    assert thread.stop()
    assert closed_on == ran_on, "closed on the thread that read"
    assert services.plans._reader.current is None and services.history._reader.current is None
    assert services.inventory._reader.current is None
    assert all(reader is not None and reader._conn is None for reader in readers)


def test_aws_services_close_every_service_even_when_one_fails(db: Database) -> None:
    class Broken(InventoryService):
        def close(self) -> None:
            raise RuntimeError("boom")

    history = ExecutionHistory(db)
    history.executions()  # opens its reader on this thread
    reader = history._reader.current
    AwsServices(Broken(db, ConnectionResolver(db, SecretStore())), history).close()
    assert history._reader.current is None and reader is not None and reader._conn is None
