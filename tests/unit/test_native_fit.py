"""fit: every problem code with its words, the native steps of a plan that fits, and nearest plans that
themselves fit (generated plans, seeded)."""

from __future__ import annotations

import random

import pytest

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.native.fit import fit, native_name
from drs_desktop.domain.native.steps import MAX_STEPS, NativeStepKind
from drs_desktop.domain.plan.model import (
    ApprovalStep,
    PlanTarget,
    ProtectionGroup,
    RecoveryPlan,
    Step,
    WaitStep,
    Wave,
)
from drs_desktop.domain.plan.validation import Severity, validate_plan


def sid(n: int) -> str:
    return f"s-{n:017d}"


def ids(start: int, count: int) -> tuple[str, ...]:
    return tuple(sid(n) for n in range(start, start + count))


def codes(plan: RecoveryPlan, name: str | None = None) -> list[str]:
    return [p.code for p in fit(plan, plan_name=name or plan.name).problems]


def test_a_plan_that_fits_maps_waves_waits_and_impact() -> None:
    plan = RecoveryPlan(
        "Payments",
        waves=(
            Wave("DB", servers=ids(0, 2), optional=(sid(1),), before=(WaitStep(5),), after=(WaitStep(10),)),
            Wave("Web", servers=ids(2, 1), before=(WaitStep(3),), after=(WaitStep(1),)),
        ),
    )
    report = fit(plan, plan_name="Payments")
    assert report.fits and report.nearest is None and report.changes == ()
    assert [(s.name, s.kind, s.wait_minutes) for s in report.steps] == [
        ("Wait before DB", NativeStepKind.WAIT, 5),
        ("DB", NativeStepKind.SERVER, None),
        ("Wait after DB", NativeStepKind.WAIT, 10),
        ("Wait after DB 2", NativeStepKind.WAIT, 3),
        ("Web", NativeStepKind.SERVER, None),
        ("Wait after Web", NativeStepKind.WAIT, 1),
    ]
    db = report.steps[1]
    assert [(s.source_server_id, s.impact) for s in db.servers] == [
        (sid(0), "CRITICAL"),
        (sid(1), "OPTIONAL"),
    ]
    assert db.servers[0].arn == ""  # no target declared: the connected account gives it at wire time


def test_a_declared_target_gives_the_servers_arns() -> None:
    target = PlanTarget("a", account="111111111111", region="cn-north-1", profile="p")
    plan = RecoveryPlan("P", waves=(Wave("W", servers=ids(0, 1)),), targets=(target,))
    step = fit(plan, plan_name="P").steps[0]
    assert step.servers[0].arn == f"arn:aws-cn:drs:cn-north-1:111111111111:source-server/{sid(0)}"


def test_dependencies_in_wave_order_fit_and_the_lost_parallelism_is_said() -> None:
    plan = RecoveryPlan(
        "P",
        waves=(
            Wave("A", servers=ids(0, 1)),
            Wave("B", servers=ids(1, 1), depends_on=()),
            Wave("C", servers=ids(2, 1), depends_on=("A",)),
            Wave("D", servers=ids(3, 1), depends_on=("B", "C")),
        ),
    )
    report = fit(plan, plan_name="P")
    assert report.fits
    assert [s.name for s in report.steps] == ["A", "B", "C", "D"]
    assert len(report.changes) == 2  # D waits for all of A, B, C already
    assert report.changes[0].startswith("wave 2 'B' does not depend on 'A'")
    assert report.changes[1].startswith("wave 3 'C' does not depend on 'B'")


def test_a_dependency_on_a_later_wave_does_not_fit_and_has_no_nearest() -> None:
    plan = RecoveryPlan(
        "P", waves=(Wave("A", servers=ids(0, 1), depends_on=("B",)), Wave("B", servers=ids(1, 1)))
    )
    report = fit(plan, plan_name="P")
    assert [p.code for p in report.problems] == ["dependency_not_linear"]
    assert report.problems[0].where == "wave 1 'A'"
    assert "'B', which does not come before it" in report.problems[0].text
    assert report.nearest is None


@pytest.mark.parametrize(
    ("plan", "code", "where", "words"),
    [
        (
            RecoveryPlan("P", waves=(Wave("W", servers=ids(0, 101)),)),
            "server_step_too_large",
            "wave 1 'W'",
            "101",
        ),
        (
            RecoveryPlan("P", waves=(Wave("W", servers=ids(0, 1), after=(WaitStep(121),)),)),
            "wait_out_of_range",
            "wave 1 'W', after step 1",
            "121 minutes",
        ),
        (
            RecoveryPlan("P", waves=(Wave("W", servers=ids(0, 1), before=(WaitStep(0),)),)),
            "wait_out_of_range",
            "wave 1 'W', before step 1",
            "0 minutes",
        ),
        (
            RecoveryPlan("P", waves=(Wave("W", servers=ids(0, 1), before=(ApprovalStep("go?"),)),)),
            "approval_gate",
            "wave 1 'W', before step 1",
            "waits for a person",
        ),
        (
            RecoveryPlan("P", waves=tuple(Wave(f"W{i}", servers=ids(i, 1)) for i in range(21))),
            "too_many_steps",
            "plan",
            "21 native steps",
        ),
        (
            RecoveryPlan("P", waves=(Wave("W/x", servers=ids(0, 1)),)),
            "name_pattern",
            "wave 1 'W/x'",
            "characters",
        ),
        (
            RecoveryPlan("P", description="x" * 1025, waves=(Wave("W", servers=ids(0, 1)),)),
            "description_too_long",
            "plan",
            "1025",
        ),
        (RecoveryPlan("P"), "empty_plan", "plan", "no waves"),
        (RecoveryPlan("P", waves=(Wave("W"),)), "empty_wave", "wave 1 'W'", "no server"),
        (RecoveryPlan("P", waves=(Wave("W", servers=("s-1",)),)), "server_id", "wave 1 'W'", "'s-1'"),
        (
            RecoveryPlan("P", waves=(Wave("A", servers=ids(0, 1)), Wave("B", servers=ids(0, 1)))),
            "server_in_two_steps",
            "wave 2 'B'",
            "also in wave 1",
        ),
        (
            RecoveryPlan(
                "P",
                protection_groups=(ProtectionGroup("web", tags={"App": "x"}),),
                waves=(Wave("W", groups=("web",)),),
            ),
            "tag_selector",
            "wave 1 'W'",
            "select servers by tags",
        ),
        (
            RecoveryPlan(
                "P",
                targets=(
                    PlanTarget("a", account="111111111111", region="us-east-1", profile="a"),
                    PlanTarget("b", account="111111111111", region="eu-west-1", profile="b"),
                ),
                waves=(Wave("W", servers=ids(0, 2), server_targets={sid(0): "a", sid(1): "b"}),),
            ),
            "several_targets",
            "plan",
            "2 accounts or Regions",
        ),
        (
            RecoveryPlan(
                "P",
                targets=(PlanTarget("a", account="111111111111", region="us-east-1", profile="a"),),
                waves=(Wave("W", servers=ids(0, 1), target="nope"),),
            ),
            "unplaced_server",
            "plan",
            "no declared target",
        ),
    ],
)
def test_each_problem_has_its_code_place_and_words(
    plan: RecoveryPlan, code: str, where: str, words: str
) -> None:
    report = fit(plan, plan_name="P")
    found = [p for p in report.problems if p.code == code]
    assert found, report.problems
    assert found[0].where == where
    assert words in found[0].text
    assert not report.fits and report.steps == ()


def test_a_plan_name_drs_does_not_take_is_published_as_its_native_name_not_refused() -> None:
    plan = RecoveryPlan("P", waves=(Wave("W", servers=ids(0, 1)),))
    assert fit(plan, plan_name="Payments (EU)").fits  # published as "Payments EU" (native_name)
    assert fit(plan, plan_name="x" * 257).fits
    assert codes(plan, "((()))") == ["name_pattern"]  # nothing of it is left: that is a problem


def test_two_targets_in_one_account_and_region_fit() -> None:
    plan = RecoveryPlan(
        "P",
        targets=(
            PlanTarget("a", account="111111111111", region="us-east-1", profile="a"),
            PlanTarget("b", account="111111111111", region="us-east-1", profile="b"),
        ),
        waves=(Wave("W", servers=ids(0, 2), server_targets={sid(0): "a", sid(1): "b"}),),
    )
    assert fit(plan, plan_name="P").fits


def test_tag_groups_resolve_with_an_inventory_and_say_the_list_is_frozen() -> None:
    arn = f"arn:aws:drs:us-east-1:111111111111:source-server/{sid(7)}"
    inventory = Inventory(servers=(SourceServer(sid(7), tags={"App": "x"}, arn=arn),))
    plan = RecoveryPlan(
        "P",
        protection_groups=(ProtectionGroup("web", tags={"App": "x"}),),
        waves=(Wave("W", groups=("web",)),),
    )
    report = fit(plan, plan_name="P", inventory=inventory)
    assert report.fits
    assert report.steps[0].servers[0].arn == arn
    assert "publish again when the tags change" in report.changes[0]


def test_several_targets_have_no_nearest() -> None:
    plan = RecoveryPlan(
        "P",
        targets=(
            PlanTarget("a", account="111111111111", region="us-east-1", profile="a"),
            PlanTarget("b", account="222222222222", region="us-east-1", profile="b"),
        ),
        waves=(Wave("W", servers=ids(0, 2), server_targets={sid(0): "a", sid(1): "b"}),),
    )
    report = fit(plan, plan_name="P")
    assert report.nearest is None and report.changes == ()


def test_nearest_turns_approvals_into_stated_waits_and_splits_long_waits_and_big_waves() -> None:
    plan = RecoveryPlan(
        "P",
        waves=(
            Wave("Big", servers=ids(0, 250), optional=(sid(150),), before=(ApprovalStep("DB ok?"),)),
            Wave("Next", servers=ids(300, 1), depends_on=("Big",), after=(WaitStep(300),)),
        ),
    )
    report = fit(plan, plan_name="P", approval_wait_minutes=20)
    nearest = report.nearest
    assert nearest is not None
    assert [w.name for w in nearest.waves] == ["Big part 1", "Big part 2", "Big part 3", "Next"]
    assert [len(w.servers) for w in nearest.waves] == [100, 100, 50, 1]
    assert nearest.waves[0].before == (WaitStep(20),)
    assert nearest.waves[1].optional == (sid(150),)
    assert nearest.waves[3].depends_on == ("Big part 3",)
    assert nearest.waves[3].after == (WaitStep(120), WaitStep(120), WaitStep(60))
    text = "\n".join(report.changes)
    assert "approval ('DB ok?') becomes a wait of 20 minutes" in text
    assert "300 minutes becomes 3 waits (120, 120, 60 minutes)" in text
    assert "(250 servers) becomes 3 waves" in text
    assert fit(nearest, plan_name="P").fits
    assert not [p for p in validate_plan(nearest) if p.severity is Severity.ERROR]


def test_too_many_steps_merges_neighbouring_waits_when_that_is_enough() -> None:
    waves = tuple(
        Wave(f"W{i}", servers=ids(i, 1), after=(WaitStep(5),), before=(WaitStep(5),) if i else ())
        for i in range(7)
    )  # 7 waves + 13 waits = 20 steps... plus one more wait after the last is 21
    plan = RecoveryPlan(
        "P",
        waves=(
            *waves[:-1],
            Wave("W6", servers=ids(6, 1), before=(WaitStep(5),), after=(WaitStep(5), WaitStep(5))),
        ),
    )
    report = fit(plan, plan_name="P")
    assert [p.code for p in report.problems] == ["too_many_steps"]
    assert report.nearest is not None
    nearest_report = fit(report.nearest, plan_name="P")
    assert nearest_report.fits and len(nearest_report.steps) <= MAX_STEPS
    assert "become 10 minutes before 'W1'" in report.changes[0]


def test_too_many_waves_have_no_nearest() -> None:
    plan = RecoveryPlan("P", waves=tuple(Wave(f"W{i}", servers=ids(i, 1)) for i in range(21)))
    assert fit(plan, plan_name="P").nearest is None


def test_native_name() -> None:
    assert native_name("Payments") == "Payments"
    assert native_name("Café (EU) / tier-1") == "Cafe EU tier-1"
    assert native_name("  _x") == "x"
    assert len(native_name("a" * 300)) == 256
    with pytest.raises(ValueError, match="no ASCII letter or digit"):
        native_name("日本")


def _random_steps(rng: random.Random) -> tuple[Step, ...]:
    return tuple(
        ApprovalStep("ok?") if rng.random() < 0.3 else WaitStep(rng.choice([1, 5, 90, 120, 121, 300, 700]))
        for _ in range(rng.choice([0, 0, 1, 2]))
    )


def _random_plan(rng: random.Random) -> RecoveryPlan:
    waves: list[Wave] = []
    next_id = 0
    for i in range(rng.randint(1, 9)):
        size = rng.choice([1, 3, 100, 101, 230])
        servers = ids(next_id, size)
        next_id += size
        earlier = [w.name for w in waves]
        deps = None if rng.random() < 0.5 else tuple(rng.sample(earlier, rng.randint(0, len(earlier))))
        name = rng.choice([f"Wave {i}", f"Wave/{i}", f"wave {i} (EU)", f"W{i}"])
        optional = tuple(s for s in servers if rng.random() < 0.1)
        waves.append(
            Wave(
                name,
                servers=servers,
                optional=optional,
                depends_on=deps,
                before=_random_steps(rng),
                after=_random_steps(rng),
            )
        )
    return RecoveryPlan(rng.choice(["Plan", "Plan (x)"]), waves=tuple(waves))


def test_every_nearest_plan_fits_and_is_valid() -> None:
    rng = random.Random(1515)
    offered = 0
    for _ in range(400):
        plan = _random_plan(rng)
        report = fit(plan, plan_name=plan.name)
        if report.fits:
            assert report.nearest is None and len(report.steps) <= MAX_STEPS
            continue
        assert report.problems and report.steps == ()
        if report.nearest is None:
            assert any(p.code == "too_many_steps" for p in report.problems)
            continue
        offered += 1
        again = fit(report.nearest, plan_name=report.nearest.name)
        assert again.fits, (plan, again.problems)
        assert not [p for p in validate_plan(report.nearest) if p.severity is Severity.ERROR]
        assert report.changes
        before = {s for w in plan.waves for s in w.servers}
        assert {s.source_server_id for st in again.steps for s in st.servers} == before
        optional = {s for w in plan.waves for s in w.optional}
        assert {
            s.source_server_id for st in again.steps for s in st.servers if s.impact == "OPTIONAL"
        } == optional
    assert offered > 50


def test_when_the_nearest_form_needs_too_many_steps_the_problem_says_so() -> None:
    plan = RecoveryPlan("P", waves=tuple(Wave(f"W{i}", servers=ids(i * 300, 250)) for i in range(7)))
    report = fit(plan, plan_name="P")
    assert report.nearest is None
    assert report.problems[-1].code == "too_many_steps"
    assert "would make 21 native steps" in report.problems[-1].text
