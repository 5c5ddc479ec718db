"""Make a native plan's steps equal the desired ones: read back, compare, send, again (``Applier``).

``step_changes`` says what differs; this module decides the order the calls go out in, so that no call
asks DRS for a state it refuses on the way (a server in two steps at once, two steps of one name): deletes
first, then updates (an update waits until the servers and name it takes are free), then creates
(appended; the final reorder puts every step in its place). A swap that no order can make (step A takes
B's server while B takes A's) is broken by deleting one of them; the next round creates it again.

Any lost answer, throttle or outage ends the round: the next round reads DRS back and recomputes, so a
resent call never duplicates anything. A definite refusal (conflict, validation, not found, access
denied) is raised to the caller as it is, with ``actions`` saying what was done before it. A step
delete that DRS answers "not found" (a stale read, or a resend of a delete whose answer was lost) is
what was asked: the step is gone. Steps are equal by name, order and ``same_content`` (DRS need not
list a step's servers in the order they were sent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from drs_desktop.aws.native_plans import NativePlansGateway, NativeStepView
from drs_desktop.domain.drs.errors import (
    DrsNotFound,
    DrsOutcomeUnknown,
    DrsRejected,
    DrsThrottled,
    DrsUnavailable,
)
from drs_desktop.domain.native.drift import StepChange, same_steps, step_changes
from drs_desktop.domain.native.steps import NativeStep

logger = logging.getLogger(__name__)

_RETRYABLE = (DrsOutcomeUnknown, DrsUnavailable, DrsThrottled)


def server_arns(gateway: NativePlansGateway, steps: Iterable[NativeStep]) -> dict[str, str]:
    """Each source server of ``steps`` to its ARN (DescribeSourceServers); ``DrsRejected`` naming those
    this account and Region do not have, before anything is sent."""
    ids = sorted({s.source_server_id for step in steps for s in step.servers})
    if not ids:
        return {}
    found = {s.source_server_id: s.arn for s in gateway.drs.describe_source_servers(ids)}
    missing = [i for i in ids if not found.get(i)]
    if missing:
        raise DrsRejected(
            f"{len(missing)} source server(s) of the plan are not in this account and Region: "
            f"{', '.join(missing[:10])}",
            code="ClientValidation",
            operation="DescribeSourceServers",
        )
    return found


def describe_changes(changes: Sequence[StepChange]) -> tuple[str, ...]:
    """The calls ``changes`` stand for, one line each."""
    words = []
    for change in changes:
        step = change.step or change.before
        name = step.name if step is not None else "?"
        if change.op == "create":
            words.append(f"create step {name!r}")
        elif change.op == "update":
            before = change.before.name if change.before is not None else name
            words.append(f"update step {before!r}" + (f" (renamed {name!r})" if before != name else ""))
        elif change.op == "delete":
            words.append(f"delete step {name!r}")
        elif change.op == "reorder":
            words.append(f"move step {name!r}" + (f" to position {change.order}" if change.order else ""))
    return tuple(words)


class Applier:
    """Brings one native plan to the desired steps; ``actions`` lists the calls DRS accepted, in words."""

    def __init__(
        self,
        gateway: NativePlansGateway,
        plan_arn: str,
        server_arns: dict[str, str],
        *,
        token: Callable[[NativeStep], str],
    ) -> None:
        self.gateway = gateway
        self.plan_arn = plan_arn
        self.server_arns = server_arns
        self.token = token
        self.actions: list[str] = []

    def converge(
        self, desired: Sequence[NativeStep], *, sleep: Callable[[float], None], max_rounds: int
    ) -> tuple[list[NativeStepView], int]:
        """Rounds of read back and send until DRS's steps equal ``desired``; returns them as read back
        and how many rounds a lost answer, throttle or outage cut short."""
        lost = 0
        for _ in range(max_rounds):
            actual = self.gateway.list_steps(self.plan_arn)
            if same_steps([v.step for v in actual], desired):
                return actual, lost
            try:
                self._round(desired, actual)
            except _RETRYABLE as exc:
                lost += 1
                logger.info("%s: %s; reading the plan back before anything else", exc.operation, exc)
                sleep(exc.retry_after if exc.retry_after is not None else 2.0)
        actual = self.gateway.list_steps(self.plan_arn)
        if same_steps([v.step for v in actual], desired):
            return actual, lost
        raise DrsUnavailable(
            f"the native plan's steps still differ from the plan's after {max_rounds} rounds; publish again",
            code="PublishIncomplete",
            operation="ListRecoveryPlanSteps",
        )

    def _round(self, desired: Sequence[NativeStep], actual: list[NativeStepView]) -> None:
        changes = step_changes(desired, [(v.arn, v.step) for v in actual])
        by_name = {v.step.name: v for v in actual}
        current = {v.arn: v.step for v in actual}
        creates: list[NativeStep] = []
        updates: list[tuple[str, NativeStep]] = []
        for change in changes:
            if change.op == "delete":
                gone = change.before or change.step
                view = by_name.get(gone.name) if gone is not None else None
                if view is not None:
                    self._delete(view.arn, view.step, current)
            elif change.op == "update" and change.step is not None:
                old = by_name.get((change.before or change.step).name)
                if old is None or old.step.kind != change.step.kind:  # DRS keeps a step's type
                    if old is not None:
                        self._delete(old.arn, old.step, current)
                    creates.append(change.step)
                else:
                    updates.append((old.arn, change.step))
            elif change.op == "create" and change.step is not None:
                creates.append(change.step)
        self._apply_updates(updates, current)
        for step in creates:
            order = len(current) + 1
            view = self.gateway.create_step(
                self.plan_arn, step, order=order, server_arns=self.server_arns, client_token=self.token(step)
            )
            current[view.arn] = step
            self.actions.append(f"created step {step.name!r}")
        self._reorder(desired, current)

    def _delete(self, arn: str, step: NativeStep, current: dict[str, NativeStep]) -> None:
        try:
            self.gateway.delete_step(arn)
        except DrsNotFound:
            logger.info("step %r was gone already when deleted (%s)", step.name, arn)
        current.pop(arn, None)
        self.actions.append(f"deleted step {step.name!r}")

    def _apply_updates(self, updates: list[tuple[str, NativeStep]], current: dict[str, NativeStep]) -> None:
        pending = list(updates)
        while pending:
            ready = next((u for u in pending if _free(u, current)), None)
            if ready is None:  # a swap: delete one; the next round creates it again
                arn, _ = pending.pop(0)
                self._delete(arn, current[arn], current)
                continue
            pending.remove(ready)
            arn, step = ready
            self.gateway.update_step(arn, step, server_arns=self.server_arns)
            before = current[arn]
            current[arn] = step
            renamed = f" (was {before.name!r})" if before.name != step.name else ""
            self.actions.append(f"updated step {step.name!r}{renamed}")

    def _reorder(self, desired: Sequence[NativeStep], current: dict[str, NativeStep]) -> None:
        """One ReorderRecoveryPlanSteps when every desired step is there but not in the desired order."""
        arn_of = {step.name: arn for arn, step in current.items()}
        if len(current) != len(desired) or any(s.name not in arn_of for s in desired):
            return  # the next round reads back and finishes first
        wanted = [arn_of[s.name] for s in desired]
        if wanted == list(current):
            return
        self.gateway.reorder_steps(self.plan_arn, wanted)
        self.actions.append("reordered the steps")


def _free(update: tuple[str, NativeStep], current: dict[str, NativeStep]) -> bool:
    """Whether ``update`` takes no server and no name another current step holds."""
    arn, step = update
    others = [s for a, s in current.items() if a != arn]
    held = {srv.source_server_id for s in others for srv in s.servers}
    return step.name not in {s.name for s in others} and not any(
        s.source_server_id in held for s in step.servers
    )
