"""Native steps: wire/from_wire, step_changes (checked by applying them), describe_drift, import."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from drs_desktop.domain.native.drift import StepChange, describe_drift, step_changes
from drs_desktop.domain.native.fit import fit
from drs_desktop.domain.native.importing import plan_from_native
from drs_desktop.domain.native.steps import NativeServer, NativeStep, NativeStepKind, with_arns
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan, WaitStep, Wave

ACCOUNT, REGION = "111111111111", "us-east-1"


def sid(n: int) -> str:
    return f"s-{n:017d}"


def server_step(name: str, *numbers: int, optional: tuple[int, ...] = ()) -> NativeStep:
    servers = tuple(NativeServer(sid(n), "OPTIONAL" if n in optional else "CRITICAL") for n in numbers)
    return NativeStep(name, NativeStepKind.SERVER, servers)


def wait_step(name: str, minutes: int) -> NativeStep:
    return NativeStep(name, NativeStepKind.WAIT, wait_minutes=minutes)


def item(step: NativeStep) -> dict[str, object]:
    return {
        "recoveryPlanStepArn": "arn:x",
        "stepOrder": 1,
        "stepName": step.name,
        "configuration": step.wire(account=ACCOUNT, region=REGION),
    }


def test_wire_round_trip() -> None:
    for step in (server_step("DB", 1, 2, optional=(2,)), wait_step("Pause", 120)):
        back = NativeStep.from_wire(item(step))
        assert back == step
    wired = server_step("DB", 1).wire(account=ACCOUNT, region=REGION)
    arn = f"arn:aws:drs:{REGION}:{ACCOUNT}:source-server/{sid(1)}"
    assert wired == {"serverStepConfiguration": {"servers": [{"serverArn": arn, "impactLevel": "CRITICAL"}]}}
    assert NativeStep.from_wire(item(server_step("DB", 1))).servers[0].arn == arn
    assert with_arns([server_step("DB", 1)], ACCOUNT, REGION)[0].wire() == wired


def test_wire_refuses_what_drs_would() -> None:
    with pytest.raises(ValueError, match="has no ARN"):
        server_step("DB", 1).wire()
    with pytest.raises(ValueError, match="outside 1 to 120"):
        wait_step("W", 121).wire()
    with pytest.raises(ValueError, match="outside 1 to 100"):
        NativeStep("E", NativeStepKind.SERVER).wire(account=ACCOUNT, region=REGION)


GOOD_SERVER = {"serverArn": f"arn:aws:drs:{REGION}:{ACCOUNT}:source-server/{sid(1)}"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "a mapping"),
        ({"configuration": {}}, "stepName"),
        ({"stepName": "A"}, "configuration of step 'A'"),
        ({"stepName": "A", "configuration": {}}, "exactly one of"),
        (
            {"stepName": "A", "configuration": {"waitStepConfiguration": {}, "serverStepConfiguration": {}}},
            "exactly one of",
        ),
        (
            {"stepName": "A", "configuration": {"waitStepConfiguration": {"waitDurationMinutes": "5"}}},
            "waitDurationMinutes",
        ),
        (
            {"stepName": "A", "configuration": {"waitStepConfiguration": {"waitDurationMinutes": True}}},
            "waitDurationMinutes",
        ),
        (
            {"stepName": "A", "configuration": {"serverStepConfiguration": {"servers": "x"}}},
            "servers of step",
        ),
        ({"stepName": "A", "configuration": {"serverStepConfiguration": {"servers": [1]}}}, "servers[0]"),
        (
            {
                "stepName": "A",
                "configuration": {"serverStepConfiguration": {"servers": [{"serverArn": "s-1"}]}},
            },
            "serverArn",
        ),
        (
            {
                "stepName": "A",
                "configuration": {
                    "serverStepConfiguration": {"servers": [{**GOOD_SERVER, "impactLevel": "LOW"}]}
                },
            },
            "impactLevel",
        ),
    ],
)
def test_from_wire_names_the_malformed_field(raw: object, field: str) -> None:
    with pytest.raises(ValueError) as caught:
        NativeStep.from_wire(raw)  # type: ignore[arg-type]
    assert field in str(caught.value)


def test_from_wire_takes_drs_default_impact() -> None:
    raw = {"stepName": "A", "configuration": {"serverStepConfiguration": {"servers": [GOOD_SERVER]}}}
    assert NativeStep.from_wire(raw).servers[0].impact == "CRITICAL"


def apply(
    changes: tuple[StepChange, ...], actual: list[tuple[str, NativeStep]]
) -> list[tuple[str, NativeStep]]:
    """A tiny DRS: applies the changes as the service would, refusing what DRS refuses."""
    steps = list(actual)
    created = 0
    reordered = False
    for change in changes:
        arns = [a for a, _ in steps]
        if change.op == "delete":
            steps.pop(arns.index(change.arn or ""))
        elif change.op == "update":
            assert change.step is not None and change.before is not None
            index = arns.index(change.arn or "")
            assert steps[index][1].kind == change.step.kind, "DRS cannot change a step's kind"
            assert change.step.name not in [s.name for a, s in steps if a != change.arn], "name held"
            steps[index] = (change.arn or "", change.step)
        elif change.op == "reorder":
            if not reordered:
                assert sorted(change.ordered_arns) == sorted(arns)
                steps = [steps[arns.index(a)] for a in change.ordered_arns]
                reordered = True
        else:
            assert change.op == "create" and change.step is not None and change.order is not None
            assert change.step.name not in [s.name for _, s in steps], "name held"
            assert 1 <= change.order <= len(steps) + 1
            created += 1
            steps.insert(change.order - 1, (f"new-{created}", change.step))
        assert len(steps) <= 20
    return steps


def random_steps(rng: random.Random, count: int) -> list[NativeStep]:
    out: list[NativeStep] = []
    for i in range(count):
        if rng.random() < 0.6:
            out.append(server_step(f"S{rng.randint(0, 30)}x{i}", *rng.sample(range(40), rng.randint(1, 3))))
        else:
            out.append(wait_step(f"W{rng.randint(0, 30)}x{i}", rng.randint(1, 120)))
    return out


def edit(rng: random.Random, steps: list[NativeStep]) -> tuple[list[NativeStep], set[str]]:
    """A random edit; also the names of the steps that only moved."""
    steps = list(steps)
    untouched = {s.name for s in steps}
    for _ in range(rng.randint(1, 4)):
        what = rng.choice(["add", "remove", "rename", "move", "servers", "wait"])
        if what == "add" and len(steps) < 20:
            steps.insert(rng.randint(0, len(steps)), random_steps(rng, 1)[0])
        elif not steps:
            continue
        elif what == "remove":
            untouched.discard(steps.pop(rng.randrange(len(steps))).name)
        elif what == "rename":
            i = rng.randrange(len(steps))
            untouched.discard(steps[i].name)
            steps[i] = replace(steps[i], name=f"renamed {rng.random():.6f}")
        elif what == "move":
            steps.insert(rng.randint(0, len(steps) - 1), steps.pop(rng.randrange(len(steps))))
        elif what == "servers" and steps[i := rng.randrange(len(steps))].kind is NativeStepKind.SERVER:
            untouched.discard(steps[i].name)
            steps[i] = server_step(steps[i].name, *rng.sample(range(40, 60), 2), optional=(41, 45))
        elif what == "wait" and steps[i := rng.randrange(len(steps))].kind is NativeStepKind.WAIT:
            untouched.discard(steps[i].name)
            steps[i] = replace(steps[i], wait_minutes=(steps[i].wait_minutes or 1) % 120 + 1)
    names = [s.name for s in steps]
    steps = [s for k, s in enumerate(steps) if s.name not in names[:k]]  # names unique
    return steps, untouched


def test_step_changes_applied_give_the_desired_steps() -> None:
    rng = random.Random(15)
    for _ in range(500):
        before = random_steps(rng, rng.randint(0, 20))
        before = [s for k, s in enumerate(before) if s.name not in [b.name for b in before[:k]]]
        actual = [(f"arn-{k}", s) for k, s in enumerate(before)]
        desired, untouched = edit(rng, before)
        changes = step_changes(desired, actual)
        result = apply(changes, actual)
        assert [s for _, s in result] == desired
        recreated = {c.step.name for c in changes if c.op == "create" and c.step is not None}
        assert not recreated & untouched, "a step that only moved was created again"
        gone = {c.before.name for c in changes if c.op == "delete" and c.before is not None}
        assert not gone & untouched
        assert step_changes(desired, [(f"x{k}", s) for k, s in enumerate(desired)]) == ()


def test_a_moved_step_is_one_reorder_and_a_rename_one_update() -> None:
    a, b, c = server_step("A", 1), wait_step("B", 5), server_step("C", 2)
    actual = [("arn-a", a), ("arn-b", b), ("arn-c", c)]
    changes = step_changes([c, a, b], actual)
    assert [(ch.op, ch.arn, ch.order) for ch in changes] == [("reorder", "arn-c", 1)]
    assert changes[0].ordered_arns == ("arn-c", "arn-a", "arn-b")
    renamed = replace(b, name="Pause")
    assert [(ch.op, ch.arn) for ch in step_changes([a, renamed, c], actual)] == [("update", "arn-b")]
    reversed_servers = replace(a, servers=tuple(reversed(a.servers)))
    assert step_changes([reversed_servers, b, c], actual) == ()


def test_describe_drift_per_step_and_server() -> None:
    linked = [server_step("A", 1, 2), wait_step("B", 5), server_step("C", 3), wait_step("D", 9)]
    actual = [
        server_step("C", 3),
        server_step("A", 1, 4, optional=(1,)),
        wait_step("B", 7),
        wait_step("E", 2),
    ]
    lines = describe_drift(linked, actual)
    text = "\n".join(lines)
    assert "Step 'D' (a wait of 9 minutes) was removed in DRS." in text
    assert "Step 'A': server s-00000000000000004 was added in DRS (CRITICAL)." in text
    assert "Step 'A': server s-00000000000000002 was removed in DRS." in text
    assert "Step 'A': server s-00000000000000001 is OPTIONAL in DRS, not CRITICAL." in text
    assert "Step 'B' waits 7 minutes in DRS, not 5." in text
    assert "'C' is step 1 (was 3)" in text
    assert "Step 'E' (a wait of 2 minutes) was added in DRS, as step 4." in text
    assert describe_drift(linked, linked) == ()


def test_plan_from_native_is_a_straight_line_and_keeps_impact() -> None:
    steps = [
        wait_step("W0", 3),
        server_step("DB", 1, 2, optional=(2,)),
        wait_step("W1", 10),
        wait_step("W2", 20),
        server_step("Web", 3),
        wait_step("W3", 4),
    ]
    target = PlanTarget("imported", account=ACCOUNT, region=REGION, profile="p")
    plan = plan_from_native("Pay", "desc", steps, target=target)
    assert [w.name for w in plan.waves] == ["DB", "Web"]
    assert plan.waves[0].before == (WaitStep(3),) and plan.waves[0].optional == (sid(2),)
    assert plan.waves[1].before == (WaitStep(10), WaitStep(20)) and plan.waves[1].after == (WaitStep(4),)
    assert all(w.depends_on is None for w in plan.waves)
    assert plan.targets == (target,) and plan.description == "desc"
    back = fit(plan, plan_name="Pay")
    assert back.fits and back.changes == ()
    assert [(s.kind, s.servers, s.wait_minutes) for s in back.steps] == [
        (s.kind, s.servers, s.wait_minutes) for s in steps
    ]
    with pytest.raises(ValueError, match="only wait steps"):
        plan_from_native("P", "", [wait_step("W", 1)])


def test_fit_then_import_then_fit_gives_the_same_steps() -> None:
    rng = random.Random(7)
    checked = 0
    for _ in range(300):
        waves = []
        for i in range(rng.randint(1, 6)):
            waits = lambda: tuple(WaitStep(rng.randint(1, 120)) for _ in range(rng.choice([0, 0, 1, 2])))  # noqa: E731
            servers = tuple(sid(i * 10 + k) for k in range(rng.randint(1, 3)))
            waves.append(
                Wave(
                    f"Wave {i}",
                    servers=servers,
                    optional=servers[1:2],
                    before=waits(),
                    after=waits(),
                    depends_on=rng.choice([None, ()]),
                )
            )
        plan = RecoveryPlan("P", waves=tuple(waves))
        first = fit(plan, plan_name="P")
        if not first.fits:
            continue
        checked += 1
        again = fit(plan_from_native("P", "", first.steps), plan_name="P")
        assert again.steps == first.steps
        assert [s.name for s in again.steps] == [s.name for s in first.steps]
    assert checked > 100
