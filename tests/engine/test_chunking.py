"""Splitting waves into jobs and admitting jobs within DRS's quotas."""

from __future__ import annotations

import pytest

from drs_desktop.domain.engine.chunking import (
    Candidate,
    Limits,
    Load,
    admit,
    own_and_external_load,
    split_servers,
)

from .helpers import sids


def test_250_servers_split_into_100_100_50() -> None:
    chunks = split_servers(sids(1, 250), 100)
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert sum(chunks, ()) == sids(1, 250)


def test_split_of_nothing_is_nothing_and_size_must_be_positive() -> None:
    assert split_servers((), 100) == ()
    with pytest.raises(ValueError):
        split_servers(sids(1, 3), 0)


def test_limits_default_to_the_drs_quotas_and_reject_nonsense() -> None:
    limits = Limits()
    assert (limits.max_servers_per_job, limits.max_servers_in_active_jobs, limits.max_concurrent_jobs) == (
        100,
        500,
        20,
    )
    assert Limits(max_servers_per_job=100, max_servers_in_active_jobs=40).chunk_size == 40
    with pytest.raises(ValueError):
        Limits(max_concurrent_jobs=0)


def test_admission_stops_at_500_servers() -> None:
    candidates = [Candidate(f"c{i}", sids(i * 100, 100)) for i in range(7)]
    assert admit(candidates, Load(), Limits()) == ("c0", "c1", "c2", "c3", "c4")


def test_admission_stops_at_20_jobs() -> None:
    candidates = [Candidate(f"c{i}", sids(i, 1)) for i in range(25)]
    assert len(admit(candidates, Load(jobs=3), Limits())) == 17


def test_a_chunk_with_a_busy_server_waits_but_does_not_block_the_rest() -> None:
    busy = own_and_external_load([], 1, [sids(5, 1)[0]])
    candidates = [Candidate("a", sids(1, 10)), Candidate("b", sids(20, 10))]
    assert admit(candidates, busy, Limits()) == ("b",)


def test_a_big_chunk_waits_while_a_smaller_one_fits() -> None:
    load = own_and_external_load([sids(1000 + 100 * i, 100) for i in range(4)], 1, sids(2000, 50))
    assert (load.jobs, load.servers, len(load.busy)) == (5, 450, 450)
    candidates = [Candidate("big", sids(1, 100)), Candidate("small", sids(200, 50))]
    assert admit(candidates, load, Limits()) == ("small",)
