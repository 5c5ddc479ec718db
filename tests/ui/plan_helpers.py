"""Plans and inventories shared by the plan editor's UI tests and benchmark."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QAbstractItemModel, QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QAbstractItemModelTester

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, WaitStep, Wave


def sid(n: int) -> str:
    """A well-formed DRS source server ID, distinct for each ``n``."""
    return f"s-{n:017d}"


A, B, C, D, E, F = (sid(n) for n in range(1, 7))


def sample_plan() -> RecoveryPlan:
    """Three waves, a group by IDs and one by tags, an optional server, dependencies and a step."""
    return RecoveryPlan(
        name="Payroll",
        rto_minutes=60,
        protection_groups=(
            ProtectionGroup("net", server_ids=(E,)),
            ProtectionGroup("dbs", tags={"tier": "db"}),
        ),
        waves=(
            Wave("Net", groups=("net",), depends_on=()),
            Wave("DB", servers=(A, B), optional=(B,)),
            Wave("Web", servers=(C, D), depends_on=("Net", "DB"), after=(WaitStep(5),)),
        ),
    )


def sample_inventory(extra: int = 0) -> Inventory:
    """The sample plan's servers plus F (unplaced) and ``extra`` more, with hostnames and tags."""
    servers = [
        SourceServer(A, hostname="db-01", replication_state="CONTINUOUS", tags={"tier": "db"}, os="Linux"),
        SourceServer(B, hostname="db-02", replication_state="CONTINUOUS", tags={"tier": "db"}, os="Linux"),
        SourceServer(
            C, hostname="web-01", replication_state="CONTINUOUS", tags={"tier": "web"}, os="Windows"
        ),
        SourceServer(D, hostname="web-02", replication_state="STALLED", tags={"tier": "web"}, os="Windows"),
        SourceServer(E, hostname="fw-01", replication_state="CONTINUOUS", tags={"tier": "net"}, os="Linux"),
        SourceServer(
            F, hostname="app-01", replication_state="INITIAL_SYNC", tags={"tier": "app"}, os="Linux"
        ),
    ]
    servers += [SourceServer(sid(100 + n), hostname=f"host-{n:04d}") for n in range(extra)]
    return Inventory(servers=tuple(servers), account_id="111122223333", region="eu-west-1")


def big_plan(servers: int = 1000, waves: int = 10) -> tuple[RecoveryPlan, Inventory]:
    """A valid plan of ``servers`` servers in ``waves`` waves (some optional), and its inventory."""
    per_wave = servers // waves
    plan_waves = []
    inventory = []
    for w in range(waves):
        ids = tuple(sid(10_000 + w * per_wave + n) for n in range(per_wave))
        plan_waves.append(Wave(f"Wave {w + 1}", servers=ids, optional=ids[::10]))
        inventory += [
            SourceServer(
                i, hostname=f"host-{w}-{n:03d}", replication_state="CONTINUOUS", tags={"wave": str(w)}
            )
            for n, i in enumerate(ids)
        ]
    plan = RecoveryPlan("Big", rto_minutes=240, waves=tuple(plan_waves))
    return plan, Inventory(servers=tuple(inventory), account_id="111122223333", region="eu-west-1")


@contextmanager
def watched(model: QAbstractItemModel) -> Iterator[list[str]]:
    """Qt's QAbstractItemModelTester on ``model`` for the block; asserts it reported no failure.

    The tester reports through Qt warnings, which this collects with its own message handler (pytest-qt's
    ``qtmodeltester`` fixture leaves the C++ tester's warnings unchecked).
    """
    failures: list[str] = []

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if "FAIL" in message:
            failures.append(message)

    previous = qInstallMessageHandler(handler)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    try:
        yield failures
    finally:
        qInstallMessageHandler(previous)
        del tester
    assert not failures, failures
