"""Properties: any valid plan survives the database unchanged, and the diff sees every change."""

from __future__ import annotations

import dataclasses
import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import get_plan, list_revisions, load_plan, save_plan
from tests.strategies import valid_plans

# One database per test function, shared by its examples: save_plan works by name, so later examples
# become new revisions of earlier ones, which is itself a case worth exercising.
_SHARED_DB = settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SHARED_DB
@given(plan=valid_plans())
def test_any_valid_plan_survives_save_and_get(db: Database, plan: RecoveryPlan) -> None:
    saved = save_plan(db, plan)
    assert get_plan(db, plan.name, saved.revision) == plan
    assert get_plan(db, plan.name) == plan
    assert save_plan(db, plan) == saved  # saving it again is not a new revision
    with db.open_reader() as reader:  # a worker thread's own read-only connection sees the same
        assert load_plan(reader, plan.name).plan == plan


_histories = itertools.count()


@_SHARED_DB
@given(plans=st.lists(valid_plans(), min_size=1, max_size=4))
def test_every_revision_reads_back_as_saved(db: Database, plans: list[RecoveryPlan]) -> None:
    name = f"history {next(_histories)}"  # a plan of its own for each example
    wanted = [dataclasses.replace(plan, name=name) for plan in plans]
    for plan in wanted:
        save_plan(db, plan)
    # A save identical to the latest revision adds none; every other save is the next revision.
    expected = [plan for i, plan in enumerate(wanted) if i == 0 or plan != wanted[i - 1]]
    revisions = list_revisions(db, name)
    assert [r.revision for r in revisions] == list(range(1, len(expected) + 1))
    assert [get_plan(db, name, r.revision) for r in revisions] == expected


@settings(max_examples=150, deadline=None)
@given(old=valid_plans(), new=valid_plans())
def test_diff_is_empty_exactly_when_plans_are_equal(old: RecoveryPlan, new: RecoveryPlan) -> None:
    assert diff_plans(old, old) == []
    lines = diff_plans(old, new)
    assert (lines == []) == (old == new)
    assert all("\n" not in line for line in lines)


@settings(max_examples=75, deadline=None)
@given(plan=valid_plans(), data=st.data())
def test_diff_sees_a_single_wave_change(plan: RecoveryPlan, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(plan.waves) - 1))
    wave = plan.waves[index]
    changed = data.draw(
        st.sampled_from(
            [
                dataclasses.replace(wave, servers=(*wave.servers, "s-zzzzzzzzzzzzzzzzz")),
                dataclasses.replace(wave, depends_on=() if wave.depends_on is None else None),
                dataclasses.replace(wave, optional=wave.optional[1:] if wave.optional else wave.servers[:1]),
                dataclasses.replace(wave, after=wave.before, before=wave.after),
            ]
        )
    )
    other = dataclasses.replace(plan, waves=(*plan.waves[:index], changed, *plan.waves[index + 1 :]))
    lines = diff_plans(plan, other)
    assert (lines == []) == (plan == other)
    # The change is reported on that wave (long names are shortened in the line, so match the form).
    assert all(re.match(r"wave ['\"]", line) for line in lines), lines
