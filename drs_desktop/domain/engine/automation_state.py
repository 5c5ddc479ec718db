"""Where a wave's automation steps stand (``engine.automation`` says how they move).

A step (``domain.plan.automation``: a health check, an SSM document, a Lambda function, a local script)
runs in attempts. Each attempt is journaled before anything is sent (``AutomationRequested``), so after a
crash the engine knows an attempt may have gone out: an SSM command is found again by its comment; a
Lambda function or a script whose answer was lost is UNKNOWN and holds the run for the operator (retry,
mark done, or fail), since neither takes an idempotency token; a health check only reads, and probes
again. ``StepRun`` is one step's attempts and its outcome; ``ExecutionState.automation`` keeps them by
``step_key``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: How much of a command's, function's or script's output the journal and the evidence keep (its tail).
OUTPUT_TAIL = 2000


def step_key(wave_index: int, phase: str, step_index: int) -> str:
    """The key of a wave's step in ``ExecutionState.automation`` (and in its events): "0:AFTER:1".
    ``phase``: an ``events.StepPhase`` (a str)."""
    return f"{wave_index}:{phase}:{step_index}"


def parse_key(key: str) -> tuple[int, str, int]:
    wave, phase, step = key.split(":")
    return int(wave), phase, int(step)


def tail(text: str, limit: int = OUTPUT_TAIL) -> str:
    """The end of ``text`` (the last lines say how a command ended), marked when cut."""
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1) :]


class AttemptStatus(StrEnum):
    REQUESTED = "REQUESTED"  # journaled before the call: it may have gone out
    RUNNING = "RUNNING"  # sent (an SSM command ID known), or probing, or a call/script under way here
    UNKNOWN = "UNKNOWN"  # the outcome is lost (a crash, an answer that never came): a person decides
    PASSED = "PASSED"
    FAILED = "FAILED"


ATTEMPT_OPEN = frozenset({AttemptStatus.REQUESTED, AttemptStatus.RUNNING})


class StepOutcome(StrEnum):
    """How a step ended (None on ``StepRun`` while it runs or waits for the operator)."""

    PASSED = "PASSED"
    WARNED = "WARNED"  # failed, and its policy says warn: the wave went on
    FAILED = "FAILED"  # failed, and the wave failed with it (policy fail-wave, or the operator said fail)
    DONE = "DONE"  # the operator marked it done after it failed or its outcome was lost
    SKIPPED = "SKIPPED"  # not run in this mode (drill only / recovery only)


@dataclass(frozen=True, kw_only=True)
class TargetResult:
    """One target's (server's) result in an attempt: a probe's answer, an SSM invocation's."""

    server_id: str
    status: str  # health: PASS | FAIL; SSM: the invocation's status (Success, Failed, TimedOut...)
    detail: str = ""
    output: str = ""  # the output's tail (SSM)
    instance_id: str = ""


@dataclass(frozen=True, kw_only=True)
class StepAttempt:
    number: int  # 1, 2...
    status: AttemptStatus
    requested_at: datetime
    ended_at: datetime | None = None
    ref: str = ""  # the SSM command ID, the script's process ID
    detail: str = ""  # why it failed, or what it found
    output: str = ""  # the tail of a Lambda answer or a script's output
    targets: tuple[TargetResult, ...] = ()
    probes: int = 0  # health-check rounds made
    probed_at: datetime | None = None
    polls: int = 0  # SSM invocation reads made
    polled_at: datetime | None = None
    looks: int = 0  # after a crash: ListCommands looks for an SSM command by its comment
    looked_at: datetime | None = None  # the last look, answered or failed: paces the next one
    #: The last look that answered and did not list the command: only such a look, past the settle,
    #: says the attempt never went out (a failed look says nothing about it).
    unseen_at: datetime | None = None
    #: The last try of the send (``requested_at`` is the first: the attempt's timeout runs from it), and
    #: why an SSM send waits (agents not online yet: nothing was sent), since when.
    tried_at: datetime | None = None
    waiting: str = ""
    waited_at: datetime | None = None
    #: The servers the attempt's call was meant for (``AutomationRequested.instances``): an SSM step's
    #: servers with no recovered instance are not among them, and its end says so.
    sent_to: tuple[str, ...] = ()
    #: A health check probing through SSM (``Reach.SSM``): the command of the round under way ("" none),
    #: when it went out, and how many rounds went out (each read of it paces with ``polls``/``polled_at``).
    round_ref: str = ""
    round_sent_at: datetime | None = None
    rounds: int = 0


@dataclass(frozen=True, kw_only=True)
class StepRun:
    """One automation step of one wave in this run: its attempts, and how it ended."""

    key: str
    kind: str  # health-check | ssm | lambda | script
    name: str
    attempts: tuple[StepAttempt, ...] = ()
    outcome: StepOutcome | None = None
    ended_at: datetime | None = None
    #: Waiting for the operator: its last attempt failed (policy hold) or its outcome is unknown.
    held: bool = False
    extra_attempts: int = 0  # attempts the operator added (``StepDecided`` retry) beyond the policy's
    decided_by: str = ""  # the operator who retried, marked it done or failed it last
    comment: str = ""

    @property
    def last(self) -> StepAttempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def in_flight(self) -> bool:
        last = self.last
        return last is not None and last.status in ATTEMPT_OPEN


def wave_step_failed(runs: Mapping[str, StepRun], wave_index: int) -> bool:
    """Whether an automation step of the wave failed it (``queries.wave_failed`` asks)."""
    prefix = f"{wave_index}:"
    return any(r.outcome is StepOutcome.FAILED for key, r in runs.items() if key.startswith(prefix))


def held_steps(runs: Mapping[str, StepRun], skipped: Collection[int] = ()) -> tuple[StepRun, ...]:
    """Steps waiting for the operator: their failure, or their lost outcome, holds the run. A step of a
    wave in ``skipped`` (indexes) holds nothing: the operator went on without its wave."""
    return tuple(run for key, run in runs.items() if run.held and parse_key(key)[0] not in skipped)
