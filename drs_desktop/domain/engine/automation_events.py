"""Events of a wave's automation steps (``engine.automation``).

``AutomationRequested`` is journaled before an attempt sends anything (SendCommand, Invoke, a script's
start, a health check's first probe); then the facts as they come: ``AutomationSent`` (an SSM command's
ID, a script's process), ``HealthRoundSent`` (a probe round sent through SSM), ``HealthProbed`` (one
round of probes), ``SsmPolled`` (the invocations as read),
``SsmLooked`` (after a crash: the command found again by its comment, or not), ``AutomationAnswered``
(a Lambda function's answer, a script's exit, a send that DRS Desktop knows failed), ``AutomationLost``
(the answer of a call that may have run is lost). What they mean for the step (passed? retry? hold?) is
decided by the engine from these facts, never by the runner. The operator's control for a held step,
``StepDecided``, is in ``engine.events`` with the other controls. Frozen and JSON-serializable like
every event: add fields with defaults, never repurpose one. ``key``: ``automation_state.step_key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.engine.automation_state import TargetResult


@dataclass(frozen=True, kw_only=True)
class AutomationRequested:
    key: str
    attempt: int
    at: datetime
    #: What the attempt is about to act on: the recovered EC2 instances, "server=instance" each.
    instances: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AutomationSent:
    """The call went out and was accepted: ``ref`` is the SSM command ID or the script's process ID."""

    key: str
    attempt: int
    ref: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class HealthProbed:
    """One round of probes of a health check's targets."""

    key: str
    attempt: int
    results: tuple[TargetResult, ...]
    at: datetime


@dataclass(frozen=True, kw_only=True)
class HealthRoundSent:
    """A health check's probe round went out through SSM (``Reach.SSM``): ``command_id`` runs the probe
    script on the instance ``via``; ``SsmPolled`` paces its reads, ``HealthProbed`` is its answer. Not
    ``AutomationSent``: that names the attempt's one call (``ref``), while an attempt sends a round every
    interval, and a round under way is forgotten on a restart (``on_restarted``: probes only read)."""

    key: str
    attempt: int
    command_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class SsmPolled:
    """An SSM command's invocations as read (``results``: one per instance, with its output's tail). For
    a health check's probe round through SSM it only paces the next read (the round's invocation on
    ``via`` has not ended, or the read failed): the round's answer is ``HealthProbed``."""

    key: str
    attempt: int
    results: tuple[TargetResult, ...]
    at: datetime
    error: str = ""  # the read failed (the next read is paced); results are then empty


@dataclass(frozen=True, kw_only=True)
class SsmLooked:
    """After a crash cut off an SSM send: ListCommands looked for the attempt's comment. ``command_id``:
    found (the attempt follows it); "" not found (sent again only once the look is past the settle)."""

    key: str
    attempt: int
    command_id: str
    at: datetime
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class SsmWaiting:
    """An SSM attempt was not sent: the instances' agents are not online yet (a recovered instance boots,
    then its agent registers). Nothing went out; the same attempt is tried again, until its timeout."""

    key: str
    attempt: int
    reason: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class AutomationAnswered:
    """An attempt's end as its call answered: a Lambda function's answer, a script's exit, or a call
    refused outright (nothing ran: a missing function, an untrusted script, an SSM send refused)."""

    key: str
    attempt: int
    ok: bool
    at: datetime
    detail: str = ""
    output: str = ""


@dataclass(frozen=True, kw_only=True)
class AutomationLost:
    """The call may have run but its answer is lost (a read timeout, a connection cut after sending)."""

    key: str
    attempt: int
    reason: str
    at: datetime
