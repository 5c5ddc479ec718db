"""InventoryWorker on a real QThread against the embedded simulator over loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QMetaObject, Qt
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.connection import ConnectionSettings, MfaChallenge
from drs_desktop.domain.inventory import Inventory
from drs_desktop.secrets import SecretStore
from drs_desktop.services import connection
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.inventory import InventoryService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.workers.credential_prompts import CredentialPrompts
from drs_desktop.workers.inventory_worker import InventoryWorker
from drs_desktop.workers.thread import WorkerThread
from tests.services import aws_stubs
from tests.services.settings_fixtures import (  # noqa: F401
    aws_files_fixture,
    db_fixture,
    memory_keyring_fixture,
    small_simulator_fixture,
)
from tests.workers.signal_log import SignalLog

SIGNALS = ("started", "progressed", "refreshed", "cache_loaded", "usage_loaded", "failed")


def dead_endpoint() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def quick_gateway(target: AwsTarget) -> DrsGateway:
    return DrsGateway(target, read_max_attempts=1, connect_timeout=2, read_timeout=5)


def request(worker: InventoryWorker, slot: str) -> None:
    """Invoke ``slot`` on the worker's own thread, as the pane's queued signals do."""
    QMetaObject.invokeMethod(worker, slot, Qt.ConnectionType.QueuedConnection)


@dataclass
class Rig:
    worker: InventoryWorker
    resolver: ConnectionResolver
    prompts: CredentialPrompts
    log: SignalLog


@pytest.fixture
def rig(db: Database, memory_keyring: object, small_simulator: EmbeddedSimulator) -> Iterator[Rig]:
    resolver = ConnectionResolver(
        db, SecretStore(), demo_endpoint=small_simulator.endpoint_url, demo_region="us-east-1"
    )
    prompts = CredentialPrompts(timeout_seconds=20)
    worker = InventoryWorker(InventoryService(db, resolver, gateway_factory=quick_gateway), prompts)
    log = SignalLog(worker, *SIGNALS)
    thread = WorkerThread(worker, "inventory-worker-test", on_stop=worker.close)
    thread.start()
    try:
        yield Rig(worker, resolver, prompts, log)
    finally:
        prompts.close()
        assert thread.stop()


def test_refresh_reports_progress_and_the_inventory(rig: Rig, qtbot: QtBot) -> None:
    on_worker_thread: list[bool] = []
    rig.worker.progressed.connect(
        lambda _t: on_worker_thread.append(threading.current_thread() is not threading.main_thread()),
        Qt.ConnectionType.DirectConnection,  # runs where the signal is emitted
    )
    request(rig.worker, "refresh")
    (inventory,) = rig.log.wait(qtbot, "refreshed")
    rig.log.wait(qtbot, "usage_loaded")
    assert isinstance(inventory, Inventory) and len(inventory.servers) == 10
    assert (inventory.account_id, inventory.region) == ("123456789012", "us-east-1")
    names = rig.log.names()
    assert names[0] == "started" and names.index("refreshed") < names.index("usage_loaded")
    progress = [args[0] for args in rig.log.all("progressed")]
    assert progress[0] == "Checking the connection settings…" and progress[-1] == "10 servers"
    assert any(step.startswith("Saving 10 servers") for step in progress)
    assert dict(rig.log.all("usage_loaded")[0][0]) == {}
    assert on_worker_thread and all(on_worker_thread)  # the refresh ran off the GUI thread


def test_failed_refresh_keeps_the_cache_available(rig: Rig, qtbot: QtBot) -> None:
    request(rig.worker, "refresh")
    (first,) = rig.log.wait(qtbot, "refreshed")
    rig.resolver.set_demo(dead_endpoint(), "us-east-1")
    request(rig.worker, "refresh")
    operation, message = rig.log.wait(qtbot, "failed")
    assert operation == "refresh" and "could not be reached" in message
    request(rig.worker, "load_cached")
    (cached,) = rig.log.wait(qtbot, "cache_loaded")
    assert cached == first


def test_mfa_profile_asks_through_the_prompts_then_refreshes(
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
    with aws_stubs.serve(sts=sts) as sts_url:
        resolver = ConnectionResolver(db, SecretStore(), sts_endpoint_url=sts_url)
        prompts = CredentialPrompts(timeout_seconds=20)
        asked = SignalLog(prompts, "mfa_code_requested")
        worker = InventoryWorker(InventoryService(db, resolver, gateway_factory=quick_gateway), prompts)
        log = SignalLog(worker, *SIGNALS)
        thread = WorkerThread(worker, "inventory-mfa-test", on_stop=worker.close)
        thread.start()
        try:
            request(worker, "refresh")
            (challenge,) = asked.wait(qtbot, "mfa_code_requested")
            assert isinstance(challenge, MfaChallenge) and challenge.profile == "mfa-role"
            qtbot.waitUntil(prompts.waiting)
            prompts.answer_mfa("246810")
            (inventory,) = log.wait(qtbot, "refreshed")
            assert len(inventory.servers) == 10
            assert [call["TokenCode"] for call in sts.calls] == ["246810"]
            # The next refresh reuses the role's credentials: no second question.
            request(worker, "refresh")
            log.wait(qtbot, "refreshed", count=2)
            assert len(sts.calls) == 1 and len(asked.all("mfa_code_requested")) == 1
        finally:
            prompts.close()
            assert thread.stop()


def test_cancelled_mfa_fails_the_refresh(
    db: Database, memory_keyring: object, aws_files: Path, qtbot: QtBot
) -> None:
    connection.save_connection_settings(db, ConnectionSettings(profile="mfa-role", region="us-east-1"))
    prompts = CredentialPrompts(timeout_seconds=20)
    worker = InventoryWorker(InventoryService(db, ConnectionResolver(db, SecretStore())), prompts)
    log = SignalLog(worker, *SIGNALS)
    thread = WorkerThread(worker, "inventory-mfa-cancel-test", on_stop=worker.close)
    thread.start()
    try:
        request(worker, "refresh")
        qtbot.waitUntil(prompts.waiting)
        prompts.cancel()
        operation, message = log.wait(qtbot, "failed")
        assert operation == "refresh" and "No MFA code" in message
        assert log.all("refreshed") == []
    finally:
        prompts.close()
        assert thread.stop()
