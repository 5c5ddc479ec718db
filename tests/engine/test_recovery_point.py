"""Point-in-time recovery: the newest finished snapshot at or before T, per server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drs_desktop.domain.engine.recovery_point import RecoverySnapshot, choose_snapshots

from .helpers import T0, sid


def snap(n: int, server: int, offset_minutes: float | None) -> RecoverySnapshot:
    stamp = None if offset_minutes is None else T0 + timedelta(minutes=offset_minutes)
    return RecoverySnapshot(snapshot_id=f"pit-{n:017d}", server_id=sid(server), timestamp=stamp)


def test_picks_the_newest_snapshot_not_after_the_point_in_time() -> None:
    snapshots = [snap(1, 1, -60), snap(2, 1, -10), snap(3, 1, 5), snap(4, 2, -30)]
    choice = choose_snapshots(T0, [sid(1), sid(2)], snapshots)
    assert choice.ok
    assert choice.snapshot_ids == {sid(1): "pit-00000000000000002", sid(2): "pit-00000000000000004"}
    assert choice.data_age(sid(1)) == timedelta(minutes=10)


def test_a_snapshot_exactly_at_t_counts() -> None:
    choice = choose_snapshots(T0, [sid(1)], [snap(1, 1, -5), snap(2, 1, 0)])
    assert choice.snapshot_ids == {sid(1): "pit-00000000000000002"}


def test_in_progress_snapshots_are_never_chosen() -> None:
    """DRS lists a snapshot being taken without a timestamp (reference §12.9)."""
    choice = choose_snapshots(T0, [sid(1)], [snap(1, 1, -20), snap(2, 1, None)])
    assert choice.snapshot_ids == {sid(1): "pit-00000000000000001"}


def test_every_server_without_a_snapshot_is_reported_at_once() -> None:
    snapshots = [snap(1, 1, -5), snap(2, 2, 15), snap(3, 3, None)]
    choice = choose_snapshots(T0, [sid(1), sid(2), sid(3), sid(4)], snapshots)
    assert not choice.ok
    assert choice.snapshot_ids == {sid(1): "pit-00000000000000001"}
    by_server = {p.server_id: p for p in choice.problems}
    assert set(by_server) == {sid(2), sid(3), sid(4)}
    assert by_server[sid(2)].earliest_after == T0 + timedelta(minutes=15)
    assert "no recovery snapshot at or before" in by_server[sid(2)].message
    assert "still being taken" in by_server[sid(3)].message
    assert by_server[sid(4)].message == "has no finished recovery snapshot"


def test_naive_point_in_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        choose_snapshots(T0.replace(tzinfo=None), [sid(1)], [])


@given(offsets=st.lists(st.one_of(st.none(), st.integers(-500, 500)), max_size=12), data=st.data())
def test_choice_is_the_max_eligible_whatever_the_order(
    offsets: list[int | None], data: st.DataObject
) -> None:
    snapshots = [snap(i, 1, offset) for i, offset in enumerate(offsets)]
    shuffled = data.draw(st.permutations(snapshots))
    choice = choose_snapshots(T0, [sid(1)], shuffled)
    eligible = [s for s in snapshots if s.timestamp is not None and s.timestamp <= T0]
    if not eligible:
        assert not choice.ok and choice.chosen == {}
    else:
        best = max(eligible, key=lambda s: (s.timestamp, s.snapshot_id))
        assert choice.chosen[sid(1)] == best


def test_a_snapshot_without_timestamp_but_with_ebs_snapshots_is_finished() -> None:
    """DRS's published example lists a finished snapshot with ``expectedTimestamp`` and ``ebsSnapshots``
    but no ``timestamp`` (reference §12.9): it is chosen at its expected time."""
    untimed = RecoverySnapshot(
        snapshot_id="pit-00000000000000009",
        server_id=sid(1),
        timestamp=None,
        expected_timestamp=T0 - timedelta(minutes=3),
        ebs_snapshots=("snap-0123456789abcdef0",),
    )
    choice = choose_snapshots(T0, [sid(1)], [snap(1, 1, -20), untimed])
    assert choice.ok and choice.snapshot_ids == {sid(1): "pit-00000000000000009"}
    assert choice.data_age(sid(1)) == timedelta(minutes=3)
    # One expected after T is not at or before it, finished or not.
    later = RecoverySnapshot("pit-00000000000000008", sid(1), None, T0 + timedelta(minutes=1), ("snap-1",))
    assert choose_snapshots(T0, [sid(1)], [later]).problems[0].earliest_after == T0 + timedelta(minutes=1)


def test_without_timestamp_and_without_ebs_snapshots_it_is_still_being_taken() -> None:
    taking = RecoverySnapshot("pit-00000000000000007", sid(1), None, T0 - timedelta(minutes=3))
    choice = choose_snapshots(T0, [sid(1)], [taking])
    assert not choice.ok and choice.chosen == {}
    assert "still being taken" in choice.problems[0].message
