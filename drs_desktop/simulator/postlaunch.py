"""Post-launch actions: SSM runs on a recovery instance once its agent is seen after boot.

They run for recoveries; for drills only when the scenario says ``post_launch.run_on_drills: true``.
Runs start one after another in action order and keep updating the job's
``participatingServers[].launchActionsStatus`` after the job itself has COMPLETED.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from drs_desktop.simulator.entities import Instance, Job, Participant
from drs_desktop.simulator.ids import stable_hex
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)


def stable_uuid(*parts: object) -> str:
    value = stable_hex(*parts, length=32)
    value = value[:12] + "4" + value[13:16] + "89ab"[int(value[16], 16) % 4] + value[17:]
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


class PostLaunchRunner:
    def __init__(self, world: World) -> None:
        self.w = world

    def agent_seen(self, job: Job, p: Participant, instance: Instance, rng: random.Random) -> None:
        """The guest booted and its SSM agent registered: start the server's active actions."""
        w = self.w
        if instance.instance_id not in w.instances or instance.terminating:
            return
        p.ssm_discovery_ts = w.now
        server = w.servers[p.server_id]
        if job.is_drill and not w.scenario.post_launch.run_on_drills:
            return
        if not server.launch_config.post_launch_enabled:
            return
        actions = sorted(
            (a for a in server.launch_actions.values() if a.get("active", True)), key=lambda a: a["order"]
        )
        self._run_next(job, p, instance, rng, actions)

    def _run_next(
        self, job: Job, p: Participant, instance: Instance, rng: random.Random, actions: list[dict[str, Any]]
    ) -> None:
        if not actions:
            return
        w = self.w
        action, rest = actions[0], actions[1:]
        run: dict[str, Any] = {
            "action": dict(action),
            "runId": stable_uuid(w.seed, job.job_id, p.server_id, action["actionId"]),
            "status": "IN_PROGRESS",
        }
        p.runs.append(run)
        duration = rng.uniform(w.timings.post_launch_action.low, w.timings.post_launch_action.high)
        server = w.servers[p.server_id]

        def finish() -> None:
            if instance.instance_id not in w.instances:
                run["status"] = "FAILED"
                run["failureReason"] = "The recovery instance was terminated"
                return
            if w.faults.hits(
                "post_launch", f"{job.job_id}:{action['actionId']}", p.server_id, server.hostname
            ):
                run["status"] = "FAILED"
                run["failureReason"] = "SSM command failed with exit code 1"
            else:
                run["status"] = "SUCCEEDED"
            self._run_next(job, p, instance, rng, rest)

        w.schedule(w.now + duration, finish)


def install_scenario_actions(world: World) -> None:
    """Put the scenario's post-launch actions on every source server they apply to."""
    for server in world.servers.values():
        for spec in world.scenario.post_launch.actions:
            if any(server.tags.get(k) != v for k, v in spec.applies_to.items()):
                continue
            action_id = stable_uuid(world.seed, "action", spec.name)
            server.launch_actions[action_id] = {
                "actionId": action_id,
                "actionCode": spec.action_code,
                "type": spec.type,
                "name": spec.name,
                "active": spec.active,
                "order": spec.order,
                "actionVersion": "$DEFAULT",
                "optional": spec.optional,
                "parameters": {},
                "description": spec.description,
                "category": spec.category,
            }
