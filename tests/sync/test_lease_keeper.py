"""``services.lease_keeper.LeaseKeeper``: the driver's heartbeat on a thread of its own, against moto's
DynamoDB server with the real boto3 client (``aws.sync_lease.lease_client``: one attempt per call).

The keeper's clock and wait are a ``SteppedTime``: a wait advances the clock by what the keeper asked
for, once the test lets it (``step``) or freely (``let_go``); the test then waits on the condition the
keeper's thread signals when it comes back to wait. No wall-clock sleep anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from drs_desktop.aws import sync_lease
from drs_desktop.aws.sync_schema import SyncTableTarget
from drs_desktop.domain.lease import LeaseWatch
from drs_desktop.services.lease_keeper import KeeperReport, KeeperState, LeaseKeeper
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.lease_helpers import TABLE, lease_item, make_table
from tests.sync.refusing_proxy import RefusingProxy

EXECUTION = "5c0ffee0-1d2e-4f3a-8b9c-0d1e2f3a4b5c"
#: Seconds a test waits for the keeper's thread to do one thing (generous: a loaded CI machine).
PATIENCE = 30.0


class SteppedTime:
    """The keeper's monotonic clock and its ``wait``."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []
        self._steps = 0
        self._free = False
        self._cond = threading.Condition()

    def clock(self) -> float:
        with self._cond:
            return self.now

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        with self._cond:
            self.waits.append(seconds)
            self._cond.notify_all()
            while not (self._steps or self._free or stop.is_set()):
                self._cond.wait()
            if stop.is_set():
                return True
            if self._steps:
                self._steps -= 1
            self.now += seconds
            return False

    def step(self, count: int = 1) -> None:
        """Let the keeper wait ``count`` times (a beat after each), and return once it waits again."""
        with self._cond:
            target = len(self.waits) + count
            self._steps += count
            self._cond.notify_all()
            assert self._cond.wait_for(lambda: len(self.waits) >= target, PATIENCE)

    def let_go(self) -> None:
        """Every wait from now on returns at once (after advancing the clock), and a stopped keeper's
        wait sees its stop."""
        with self._cond:
            self._free = True
            self._cond.notify_all()


class Reports:
    """What the keeper reported, and an Event per state, set by the keeper's thread."""

    def __init__(self) -> None:
        self.all: list[KeeperReport] = []
        self.seen = {state: threading.Event() for state in KeeperState}
        self.errors = threading.Event()

    def __call__(self, report: KeeperReport) -> None:
        self.all.append(report)
        self.seen[report.state].set()
        if report.error:
            self.errors.set()

    def states(self) -> list[KeeperState]:
        return [report.state for report in self.all]


@pytest.fixture
def target(dynamodb: DynamoDbEmulator) -> SyncTableTarget:
    return make_table(dynamodb)


@pytest.fixture
def time_() -> SteppedTime:
    return SteppedTime()


@pytest.fixture
def keepers() -> Iterator[list[tuple[LeaseKeeper, SteppedTime]]]:
    """Keepers a test started: stopped and joined after it, whatever happened."""
    started: list[tuple[LeaseKeeper, SteppedTime]] = []
    yield started
    for keeper, time_ in started:
        keeper.stop(release=False)
        time_.let_go()
        assert keeper.join(PATIENCE)


def _keeper(
    target: SyncTableTarget,
    time_: SteppedTime,
    keepers: list[tuple[LeaseKeeper, SteppedTime]],
    reports: Reports,
    **options: Any,
) -> LeaseKeeper:
    lease = sync_lease.take(sync_lease.lease_client(target), TABLE, EXECUTION, "desk-a")
    keeper = LeaseKeeper.for_target(
        lease, target, on_report=reports, clock=time_.clock, wait=time_.wait, **options
    )
    keepers.append((keeper, time_))
    keeper.start()
    return keeper


def test_it_beats_every_interval_and_releases_on_stop(
    dynamodb: DynamoDbEmulator, target: SyncTableTarget, time_: SteppedTime, keepers: list[Any]
) -> None:
    reports, own = Reports(), dynamodb.client()
    keeper = _keeper(target, time_, keepers, reports)
    time_.step(3)
    assert (lease_item(own, EXECUTION) or {}).get("heartbeat") == {"N": "4"}  # the take, then three beats
    assert keeper.lease.heartbeat == 4 and keeper.report.state is KeeperState.HOLDING
    assert time_.waits == [5.0, 5.0, 5.0, 5.0]  # HEARTBEAT_INTERVAL between beats
    assert reports.all == []  # beats that land are not news

    keeper.stop()
    time_.let_go()
    assert keeper.join(PATIENCE)
    assert lease_item(own, EXECUTION) == {
        "pk": {"S": f"LEASE#{EXECUTION}"},
        "sk": {"S": "LEASE"},
        "heartbeat": {"N": "5"},  # released: no holder
    }
    assert reports.states() == [KeeperState.STOPPED] and reports.all[-1].released is True


def test_stopped_without_release_the_lease_stays(
    dynamodb: DynamoDbEmulator, target: SyncTableTarget, time_: SteppedTime, keepers: list[Any]
) -> None:
    reports = Reports()
    keeper = _keeper(target, time_, keepers, reports)
    time_.step()
    keeper.stop(release=False)
    time_.let_go()
    assert keeper.join(PATIENCE)
    assert (lease_item(dynamodb.client(), EXECUTION) or {}).get("holder") == {"S": "desk-a"}
    assert reports.all[-1].state is KeeperState.STOPPED and reports.all[-1].released is None


def test_an_observer_sees_it_alive_while_it_beats_and_expired_after(
    dynamodb: DynamoDbEmulator, target: SyncTableTarget, time_: SteppedTime, keepers: list[Any]
) -> None:
    keeper = _keeper(target, time_, keepers, Reports())
    observer, watch, observer_clock = dynamodb.client(), LeaseWatch(expiry=60.0), 0.0
    for _ in range(24):  # two minutes of beats
        time_.step()
        observer_clock += 5.0
        assert watch.observe_lease(observer_clock, sync_lease.read(observer, TABLE, EXECUTION)) is False
    # The keeper is held (a frozen desktop): the heartbeat stops moving in the observer's readings.
    frozen_at = observer_clock
    for _ in range(11):
        observer_clock += 5.0
        assert watch.observe_lease(observer_clock, sync_lease.read(observer, TABLE, EXECUTION)) is False
    assert watch.observe_lease(frozen_at + 60.0, sync_lease.read(observer, TABLE, EXECUTION)) is True
    assert watch.heartbeat == keeper.lease.heartbeat == 25


def test_taken_over_it_reports_lost_naming_the_new_holder_and_ends(
    dynamodb: DynamoDbEmulator, target: SyncTableTarget, time_: SteppedTime, keepers: list[Any]
) -> None:
    reports, desk_b = Reports(), dynamodb.client()
    keeper = _keeper(target, time_, keepers, reports)
    time_.step(2)
    seen = sync_lease.read(desk_b, TABLE, EXECUTION)
    assert seen is not None and seen.heartbeat == 3
    taken = sync_lease.take_over(desk_b, TABLE, EXECUTION, "desk-b", seen.heartbeat, seen.holder)

    time_.let_go()  # the keeper's next beat meets desk-b's lease; it ends on its own
    assert reports.seen[KeeperState.LOST].wait(PATIENCE)
    assert keeper.join(PATIENCE)
    assert keeper.lost and reports.states() == [KeeperState.LOST]
    assert reports.all[-1].new_holder == "desk-b" and "desk-b" in reports.all[-1].error
    assert sync_lease.read(desk_b, TABLE, EXECUTION) == taken  # not released, not beaten


def test_throttled_beats_are_retried_with_backoff_and_never_lose_the_lease(
    dynamodb: DynamoDbEmulator, time_: SteppedTime, keepers: list[Any]
) -> None:
    make_table(dynamodb)
    reports = Reports()
    with RefusingProxy(dynamodb.endpoint_url, {"UpdateItem"}, code="ThrottlingException") as proxy:
        through_proxy = SyncTableTarget(table=TABLE, region=REGION, endpoint_url=proxy.endpoint_url)
        lease = sync_lease.take(dynamodb.client(), TABLE, EXECUTION, "desk-a")
        keeper = LeaseKeeper.for_target(
            lease, through_proxy, on_report=reports, clock=time_.clock, wait=time_.wait
        )
        keepers.append((keeper, time_))
        keeper.start()
        time_.step(4)
        assert proxy.refused == {"UpdateItem": 4}  # one attempt per beat: the keeper does the retrying
        assert [r.state for r in reports.all] == [KeeperState.HOLDING] * 4
        assert all("throttled" in r.error for r in reports.all)
        assert time_.waits == [5.0, 0.5, 1.0, 2.0, 4.0]  # the interval, then backing off

        proxy.refuse = set()  # DynamoDB has capacity again
        time_.step()
    assert reports.all[-1] == KeeperReport(KeeperState.HOLDING, keeper.lease)  # error cleared
    assert keeper.lease.heartbeat == 2
    assert (lease_item(dynamodb.client(), EXECUTION) or {}).get("heartbeat") == {"N": "2"}
    assert time_.waits[-1] == 5.0  # back to the interval


def test_out_of_reach_it_keeps_the_lease_reports_at_risk_and_not_lost(
    dynamodb: DynamoDbEmulator, target: SyncTableTarget, time_: SteppedTime, keepers: list[Any]
) -> None:
    reports = Reports()
    keeper = _keeper(target, time_, keepers, reports)
    time_.step(2)
    held = keeper.lease
    assert held.heartbeat == 3

    dynamodb.stop()  # every connection refused from now on
    time_.let_go()
    assert reports.seen[KeeperState.AT_RISK].wait(PATIENCE)
    at_risk = next(r for r in reports.all if r.state is KeeperState.AT_RISK)
    assert at_risk.lease == held and "could not be reached" in at_risk.error
    # Failed beats retried after 0.5, 1, 2, 4, then every 5 s; at risk on the first one more than
    # LEASE_EXPIRY x AT_RISK_AFTER (15 s) after the last beat that landed was sent.
    before = reports.all[: reports.all.index(at_risk)]
    assert all(r.state is KeeperState.HOLDING and "could not be reached" in r.error for r in before)
    assert [r.unconfirmed_for for r in before] == [5.0, 5.5, 6.5, 8.5, 12.5]
    assert at_risk.unconfirmed_for == 17.5

    keeper.stop()
    assert keeper.join(PATIENCE)
    assert KeeperState.LOST not in reports.states() and not keeper.lost
    last = reports.all[-1]
    assert last.state is KeeperState.STOPPED and last.released is False  # the release could not go out
    assert last.lease == held and "could not be reached" in last.error


def test_an_interval_too_close_to_the_expiry_is_refused(target: SyncTableTarget) -> None:
    lease = sync_lease.take(sync_lease.lease_client(target), TABLE, EXECUTION, "desk-a")
    with pytest.raises(ValueError, match="interval"):
        LeaseKeeper.for_target(lease, target, interval=30.0, expiry=60.0)
    keeper = LeaseKeeper.for_target(lease, target)
    assert keeper.join(0) and keeper.report.state is KeeperState.HOLDING  # never started: nothing to wait for


def test_a_throttle_outlasting_the_warning_is_at_risk_until_a_beat_lands(
    dynamodb: DynamoDbEmulator, time_: SteppedTime, keepers: list[Any]
) -> None:
    make_table(dynamodb)
    reports = Reports()
    with RefusingProxy(
        dynamodb.endpoint_url, {"UpdateItem"}, code="ProvisionedThroughputExceededException"
    ) as proxy:
        through_proxy = SyncTableTarget(table=TABLE, region=REGION, endpoint_url=proxy.endpoint_url)
        lease = sync_lease.take(dynamodb.client(), TABLE, EXECUTION, "desk-a")
        keeper = LeaseKeeper.for_target(
            lease, through_proxy, on_report=reports, clock=time_.clock, wait=time_.wait
        )
        keepers.append((keeper, time_))
        keeper.start()
        time_.step(5)  # 12.5 s without a beat landing: failing, not yet at risk
        assert reports.states() == [KeeperState.HOLDING] * 5
        time_.step()  # 17.5 s
        assert reports.all[-1].state is KeeperState.AT_RISK and reports.all[-1].unconfirmed_for == 17.5
        assert "throttled" in reports.all[-1].error

        proxy.refuse = set()
        time_.step()
    assert reports.all[-1] == KeeperReport(KeeperState.HOLDING, keeper.lease)
    assert keeper.lease.heartbeat == 2 and proxy.refused == {"UpdateItem": 6}
    assert KeeperState.LOST not in reports.states()
