"""The drill's part of the evidence report: its drill network and its cleanup.

A drill leaves things behind that a person must be able to check afterwards: the launch templates it
pointed at the drill network (each server's production and drill versions, when it was pointed and when
restored; ``engine.drill_net``) and the recovery instances it launched (each one's termination, with the
TERMINATE job's ID as the proof, and what is still running or was not ours to terminate). These are the
report document's ``drill_network`` and ``cleanup`` sections (``services.report_document``).
"""

from __future__ import annotations

from typing import Any

from drs_desktop.domain.engine.events import Cancel, CleanupRequested
from drs_desktop.domain.engine.state import ExecutionState, InstanceRecord
from drs_desktop.domain.views.report import ExecutionView
from drs_desktop.services.report_native import step_of_jobs
from drs_desktop.services.report_values import iso


def terminate_jobs(state: ExecutionState) -> dict[str, list[InstanceRecord]]:
    """Every TERMINATE job of the execution and its instances: those followed to their end (failed ones
    too), and, from older journals, those whose acceptance counted as the termination."""
    jobs: dict[str, list[InstanceRecord]] = {
        job.job_id: [state.instances[i] for i in job.instance_ids if i in state.instances]
        for job in state.terminate_jobs.values()
    }
    for instance in state.instances.values():
        job_id = instance.terminate_job_id
        if job_id and instance.terminated_at and job_id not in state.terminate_jobs:
            jobs.setdefault(job_id, []).append(instance)
    return jobs


def drill_network_document(view: ExecutionView) -> dict[str, Any] | None:
    """The drill network section: where the drill launched and, per server, its template's production
    and drill versions and when it was pointed and restored (None: the run had no drill network)."""
    found = view.evidence.drill_network
    if found is None:
        return None
    return {
        "subnet_id": found.subnet_id,
        "subnet_ids": list(found.subnet_ids),
        "security_group_ids": list(found.security_group_ids),
        "not_restored": [row.server_id for row in found.not_restored],
        "servers": [
            {
                "server_id": row.server_id,
                "template_id": row.template_id or None,
                "status": row.status.value,
                "production_version": row.production_version,
                "drill_version": row.drill_version,
                "subnet_id": row.subnet_id or None,
                "pointed_at": iso(row.pointed_at),
                "restored_at": iso(row.restored_at),
                "changed_to": row.changed_to,
                "error": row.error or None,
                # a drill version a failed point made (never the default), and whether it was deleted
                "unused_drill_version": row.unused_version,
                "unused_drill_version_deleted": row.unused_deleted if row.unused_version else None,
            }
            for row in found.rows
        ],
    }


def cleanup_document(view: ExecutionView) -> dict[str, Any]:
    state = view.state
    steps = step_of_jobs(view)
    requests = [
        {"at": iso(c.at), "by": c.by, "how": "cancel and terminate" if isinstance(c, Cancel) else "cleanup"}
        for c in view.controls
        if (isinstance(c, Cancel) and c.terminate_drill_instances) or isinstance(c, CleanupRequested)
    ]
    instances = [
        {
            "recovery_instance_id": proof.recovery_instance_id,
            "server_id": proof.server_id,
            "ec2_instance_id": state.instances[proof.recovery_instance_id].ec2_instance_id,
            "launched_by_job": proof.launched_by_job,
            "native_step": steps.get(proof.launched_by_job),  # a run in DRS: the step whose job it was
            "terminate_requested_at": iso(state.instances[proof.recovery_instance_id].terminate_requested_at),
            "terminated_at": iso(proof.terminated_at),
            "terminate_job_id": proof.terminate_job_id,
            "error": proof.error,
        }
        for proof in view.evidence.cleanup
    ]
    running = list(view.evidence.drill_instances_running)
    return {
        "applies": state.is_drill,
        "requested": requests,
        "terminate_job_ids": sorted(terminate_jobs(state)),
        "instances": instances,
        "still_running": running,
        "not_ours": [
            {
                "recovery_instance_id": f.recovery_instance_id,
                "server_id": f.server_id,
                "ec2_instance_id": f.ec2_instance_id,
                "launched_by_job": f.job_id,
                "reason": f.reason,
            }
            for f in sorted(state.foreign_instances.values(), key=lambda f: f.recovery_instance_id)
        ],
        "instance_problems": list(view.evidence.instance_problems),
        "complete": not running and not view.evidence.instance_problems if state.is_drill else None,
        "note": (
            "terminated_at is when DRS's TERMINATE job ended with the instance terminated; its job ID is the "
            "proof (in reports of older runs, when DRS accepted TerminateRecoveryInstances)"
            if state.is_drill
            else "a recovery's instances are production and are never terminated by the app"
        ),
    }
