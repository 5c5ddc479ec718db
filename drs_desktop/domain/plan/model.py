"""The recovery plan: protection groups and ordered waves of source servers, and the targets they are in.

Pure data, frozen dataclasses, no I/O. Every field added for plan format 2 (targets) has a default, so a
plan built as before means what it meant before: no ``targets``, every server in the connected target.
Validation lives in ``domain.plan.validation``; conversion to and from the versioned document form (the
plan file format, docs/plan-format.md) in ``domain.plan.document``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.launch.model import NO_SETTINGS, LaunchSettings
from drs_desktop.domain.plan.automation import AutomationStep
from drs_desktop.domain.plan_target import PlanTarget

#: DRS source server IDs, as the service validates them (``\Z``, not ``$``: "s-...\n" is no ID).
SERVER_ID_PATTERN = re.compile(r"^s-[0-9a-zA-Z]{17}\Z")
#: DRS starts at most this many servers in one StartRecovery job; bigger waves are split by the engine.
MAX_SERVERS_PER_JOB = 100


class Impact(StrEnum):
    """What a server's failure means for its wave."""

    CRITICAL = "CRITICAL"  # the wave fails, and the plan holds for the operator
    OPTIONAL = "OPTIONAL"  # a warning; the wave may still complete


@dataclass(frozen=True)
class ApprovalStep:
    """The execution stops until a person approves (or rejects) with this message shown."""

    message: str


@dataclass(frozen=True)
class WaitStep:
    """The execution waits this many minutes before going on."""

    minutes: int


#: What a wave runs before its launch or after it: approvals and waits (format 1), and the automation
#: steps of ``domain.plan.automation`` (health checks, SSM documents, Lambda functions, local scripts;
#: plan format 3).
Step = ApprovalStep | WaitStep | AutomationStep


@dataclass(frozen=True)
class ProtectionGroup:
    """A named set of source servers: explicit IDs, or every server carrying all of ``tags``.

    Exactly one of ``server_ids`` and ``tags`` is meant to be set; validation reports a group that has
    both or neither. ``target`` names the plan target the whole group is in (a tag selector is resolved
    in that target's inventory); None is the plan's default target (``domain.plan.targets``).
    ``launch_settings`` are the group's desired launch settings (``domain.launch``); the plan's win over
    them where both set a field as specifically (``domain.launch.resolve``).
    """

    name: str
    server_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] | None = None
    target: str | None = None
    launch_settings: LaunchSettings = NO_SETTINGS

    @property
    def is_tag_selector(self) -> bool:
        return self.tags is not None


@dataclass(frozen=True)
class Wave:
    """Servers launched together once the waves it depends on have completed.

    ``depends_on`` None means "the previous wave" (none for the first wave); an empty tuple means the
    wave depends on nothing and may start at once.

    ``target`` is the target of the wave's own ``servers`` (not of its groups, which name their own);
    ``server_targets`` maps the server IDs that are elsewhere to their target's name. Keyed by server ID,
    not by position, so that reordering or moving a server in the editor never gives it another target.
    """

    name: str
    groups: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    depends_on: tuple[str, ...] | None = None
    before: tuple[Step, ...] = ()
    after: tuple[Step, ...] = ()
    target: str | None = None
    server_targets: Mapping[str, str] = field(default_factory=dict, hash=False)

    def impact_of(self, server_id: str) -> Impact:
        return Impact.OPTIONAL if server_id in self.optional else Impact.CRITICAL


@dataclass(frozen=True)
class TestBrief:
    """What a test of the plan sets out to show, as an auditor reads it (issue 18): the plan's defaults,
    which the operator may edit before each run; the run records what it was run with."""

    scenario: str = ""
    objectives: tuple[str, ...] = ()
    success_criteria: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.scenario or self.objectives or self.success_criteria or self.participants)


NO_BRIEF = TestBrief()


@dataclass(frozen=True)
class Cadence:
    """How often the plan must be tested (issue 18): a drill every ``every_days``; after a failed one, a
    good one within ``retest_days``; and, with ``after_changes``, again once the plan's estate changed
    materially since its last good drill (servers added or removed, launch settings drifted, the native
    plan changed outside the app). None for a number: no such rule."""

    every_days: int | None = None
    retest_days: int | None = None
    after_changes: bool = False

    @property
    def empty(self) -> bool:
        return self.every_days is None and self.retest_days is None and not self.after_changes


NO_CADENCE = Cadence()


@dataclass(frozen=True)
class RecoveryPlan:
    """An ordered list of waves over protection groups and servers, with optional RTO/RPO targets.

    ``targets`` empty: every server is in the connected target, as in plan format 1.
    ``launch_settings``: the desired launch settings of the plan's servers (empty: none desired).
    """

    name: str
    description: str = ""
    rto_minutes: int | None = None
    rpo_minutes: int | None = None
    protection_groups: tuple[ProtectionGroup, ...] = ()
    waves: tuple[Wave, ...] = field(default_factory=tuple)
    targets: tuple[PlanTarget, ...] = ()
    launch_settings: LaunchSettings = NO_SETTINGS
    #: Where the plan's drills launch and the production networks they must not reach
    #: (``domain.launch.isolation``); None: drills launch as the launch templates say.
    drill_profile: DrillProfile | None = None
    #: The test's scenario, objectives, success criteria and participants, by default (plan format 4).
    brief: TestBrief = NO_BRIEF
    #: How often the plan must be tested (plan format 4).
    cadence: Cadence = NO_CADENCE

    def group(self, name: str) -> ProtectionGroup | None:
        for group in self.protection_groups:
            if group.name == name:
                return group
        return None

    def target(self, name: str) -> PlanTarget | None:
        for target in self.targets:
            if target.name == name:
                return target
        return None

    def wave(self, name: str) -> Wave | None:
        for wave in self.waves:
            if wave.name == name:
                return wave
        return None

    def dependencies(self, index: int) -> tuple[str, ...]:
        """Names of the waves that wave ``index`` waits for, with the default applied."""
        wave = self.waves[index]
        if wave.depends_on is not None:
            return wave.depends_on
        return (self.waves[index - 1].name,) if index > 0 else ()
