"""A health check's probe rounds (``engine.commands.ProbeHealth``), from wherever its ``Reach`` says.

- ``PRIVATE`` / ``PUBLIC``: from this desktop (``health_probe``), every target at once, to its private
  address (DRS's recovery instance) or its public one (EC2 DescribeInstances); one call, one
  ``HealthProbed``.
- ``LAMBDA``: the function ``via`` (in the VPC) probes the private addresses and answers; one call.
- ``SSM``: the instance ``via`` (in the VPC, with an SSM agent) runs the probe script
  (``engine.health_script``). A round is asynchronous, so it is two commands apart: the first sends the
  script (AWS-RunShellScript, retries off) and journals ``HealthRoundSent``; a later one reads the
  invocation (``SsmPolled`` while it runs) and, once it ended, journals its lines as ``HealthProbed``
  (a Failed, TimedOut or Undeliverable invocation fails the round for every target with SSM's status).
  The script only reads, so a round whose send is lost, or that a crash cut off, is simply sent again.

Addresses are read here (EC2 DescribeInstances) each round: a recovered instance may get its address late.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from drs_desktop.domain.automation_calls import LambdaResult
from drs_desktop.domain.drs.errors import DrsError, DrsOutcomeUnknown
from drs_desktop.domain.engine.automation import SSM_ENDED
from drs_desktop.domain.engine.automation_events import HealthProbed, HealthRoundSent, SsmPolled
from drs_desktop.domain.engine.automation_state import TargetResult
from drs_desktop.domain.engine.commands import ProbeHealth, StepTarget
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.health_script import (
    probe_script,
    probe_timeout,
    read_probe_output,
    round_failed,
    round_seconds,
)
from drs_desktop.domain.plan.automation import HealthCheckStep, Reach
from drs_desktop.services.automation_gateways import InstanceReads, LambdaCalls, SsmCalls, judge_lambda
from drs_desktop.services.health_probe import ProbeAnswer, probe_address

#: The SSM document a probe round runs (Linux: the instance ``via`` runs sh).
PROBE_DOCUMENT = "AWS-RunShellScript"


class HealthProbes:
    """The runner's health-check rounds. ``ssm``, ``lambdas`` and ``ec2`` give the runner thread's
    gateways by target (``AutomationCalls``' own: the rounds run on the runner's thread)."""

    def __init__(
        self,
        *,
        ssm: Callable[[str], SsmCalls],
        lambdas: Callable[[str], LambdaCalls],
        ec2: Callable[[str], InstanceReads],
        record: Callable[[Event], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._ssm, self._lambdas, self._ec2 = ssm, lambdas, ec2
        self._record, self._clock = record, clock

    def probe(self, command: ProbeHealth) -> None:
        step = command.step
        if step.reach is Reach.SSM and command.round_ref:
            self._read_round(command)
            return
        addresses, why = self._addresses(command.target, command.targets, step.reach)
        answers: list[TargetResult] = []
        jobs: list[tuple[StepTarget, str]] = []
        for target in command.targets:
            address = addresses.get(target.server_id, "")
            if not address:
                reason = why.get(target.server_id, "no recovered instance")
                answers.append(TargetResult(server_id=target.server_id, status="FAIL", detail=reason))
            else:
                jobs.append((target, address))
        if step.reach is Reach.SSM and jobs:
            results = self._send_round(command, jobs)
            if results is None:
                return  # out: its answer is read by a later command; the targets without address wait
            answers.extend(results)
        elif step.reach is Reach.LAMBDA and jobs:
            answers.extend(self._probe_through_lambda(step, jobs))
        else:
            answers.extend(self._probe_here(step, jobs))
        self._probed(command, answers)

    # -- through SSM

    def _send_round(
        self, command: ProbeHealth, jobs: Sequence[tuple[StepTarget, str]]
    ) -> list[TargetResult] | None:
        """Send the round's script to ``via``: None once sent (``HealthRoundSent``), else every target's
        FAIL (refused, or its answer lost: the next round goes out after the interval)."""
        step = command.step
        triples = [(t.server_id, t.instance_id, a) for t, a in jobs]
        via = step.via or ""
        try:
            lines = probe_script(step, [(t.server_id, a) for t, a in jobs])
            command_id = self._ssm(command.target).send_command(
                command.comment, PROBE_DOCUMENT, [via], {"commands": list(lines)}, round_seconds(step)
            )
        except ValueError as error:
            return list(round_failed(triples, f"no probe script: {error}"))
        except DrsOutcomeUnknown as error:
            detail = f"the probe round's SendCommand to {via} got no answer ({error}); the next round follows"
            return list(round_failed(triples, detail))
        except DrsError as error:
            return list(round_failed(triples, f"SendCommand of the probe to {via} refused: {error}"))
        self._record(
            HealthRoundSent(key=command.key, attempt=command.attempt, command_id=command_id, at=self._clock())
        )
        return None

    def _read_round(self, command: ProbeHealth) -> None:
        """Read the round's invocation on ``via``: still running (``SsmPolled``), or its answer."""
        via = command.step.via or ""
        try:
            runs = self._ssm(command.target).invocations(command.round_ref)
        except DrsError as error:
            self._record(
                SsmPolled(
                    key=command.key, attempt=command.attempt, results=(), at=self._clock(), error=str(error)
                )
            )
            return
        run = next((r for r in runs if r.instance_id == via), None)
        if run is None or run.status not in SSM_ENDED:
            status = run.status if run is not None else "not listed yet"
            seen = (TargetResult(server_id="", instance_id=via, status=status),)
            self._record(SsmPolled(key=command.key, attempt=command.attempt, results=seen, at=self._clock()))
            return
        # The round's targets are the command's (their addresses as the script named them: the output's
        # lines carry them); a target without an address then failed as in any round.
        triples = [(t.server_id, t.instance_id, "") for t in command.targets if t.instance_id]
        answers: tuple[TargetResult, ...] = tuple(
            TargetResult(server_id=t.server_id, status="FAIL", detail="no recovered instance")
            for t in command.targets
            if not t.instance_id
        )
        if run.status == "Success":
            answers += read_probe_output(run.output, triples, error_output=run.error_output)
        else:
            details = f" ({run.details})" if run.details and run.details != run.status else ""
            code = f", exit {run.response_code}" if run.response_code not in (-1, 0) else ""
            answers += round_failed(
                triples, f"the probe on {via} through SSM ended {run.status}{details}{code}"
            )
        self._probed(command, list(answers))

    def _probed(self, command: ProbeHealth, answers: list[TargetResult]) -> None:
        order = {t.server_id: n for n, t in enumerate(command.targets)}
        answers.sort(key=lambda r: order.get(r.server_id, len(order)))
        self._record(
            HealthProbed(key=command.key, attempt=command.attempt, results=tuple(answers), at=self._clock())
        )

    # -- addresses

    def _addresses(
        self, target: str, targets: Sequence[StepTarget], reach: Reach
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Per server, the address to probe (private, or public for Reach.PUBLIC), and why none where none."""
        ids = [t.instance_id for t in targets if t.instance_id]
        why: dict[str, str] = {}
        if not ids:
            return {}, why
        try:
            views = {v.instance_id: v for v in self._ec2(target).instances(ids)}
        except DrsError as error:
            return {}, {t.server_id: f"its address could not be read: {error}" for t in targets}
        out: dict[str, str] = {}
        for t in targets:
            view = views.get(t.instance_id)
            if view is None:
                why[t.server_id] = (
                    "no recovered instance" if not t.instance_id else f"EC2 does not list {t.instance_id}"
                )
                continue
            address = view.public_ip if reach is Reach.PUBLIC else view.private_ip
            if address:
                out[t.server_id] = address
            else:
                kind = "public" if reach is Reach.PUBLIC else "private"
                why[t.server_id] = f"{t.instance_id} ({view.state}) has no {kind} address"
        return out, why

    # -- from here, through Lambda

    def _probe_here(
        self, step: HealthCheckStep, jobs: Sequence[tuple[StepTarget, str]]
    ) -> list[TargetResult]:
        """Probe every target from this desktop, concurrently, each within the step's interval."""
        timeout = float(probe_timeout(step))
        answers: dict[str, ProbeAnswer] = {}

        def one(target: StepTarget, address: str) -> None:
            answers[target.server_id] = probe_address(step, address, timeout)

        threads = [threading.Thread(target=one, args=job, daemon=True) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 5)
        out: list[TargetResult] = []
        for target, address in jobs:
            answer = answers.get(target.server_id) or ProbeAnswer(False, "the probe did not end")
            out.append(
                TargetResult(
                    server_id=target.server_id,
                    instance_id=target.instance_id,
                    status="PASS" if answer.ok else "FAIL",
                    detail=f"{address}: {answer.detail}",
                )
            )
        return out

    def _probe_through_lambda(
        self, step: HealthCheckStep, jobs: Sequence[tuple[StepTarget, str]]
    ) -> list[TargetResult]:
        """Reach.LAMBDA: the function ``via`` (in the VPC) probes and answers
        ``{"results": [{"serverId", "ok", "detail"}]}``."""
        payload = {
            "probe": {
                "kind": step.probe.value,
                "port": step.port,
                "path": step.path,
                "expectStatus": step.expect_status,
                "expectBody": step.expect_body,
                "timeoutSeconds": probe_timeout(step),
            },
            "targets": [
                {"serverId": t.server_id, "instanceId": t.instance_id, "address": a} for t, a in jobs
            ],
        }
        try:
            answer = self._lambdas("").invoke(step.via or "", payload, timeout=max(30, step.interval_seconds))
        except DrsError as error:
            return [
                TargetResult(
                    server_id=t.server_id, status="FAIL", detail=f"the probe function failed: {error}"
                )
                for t, _ in jobs
            ]
        return self.lambda_probe_results(answer, jobs)

    @staticmethod
    def lambda_probe_results(
        answer: LambdaResult, jobs: Sequence[tuple[StepTarget, str]]
    ) -> list[TargetResult]:
        ok, detail = judge_lambda(answer)
        if not ok:
            return [TargetResult(server_id=t.server_id, status="FAIL", detail=detail) for t, _ in jobs]
        try:
            data = json.loads(answer.body)
            rows = data.get("results") if isinstance(data, dict) else None
        except ValueError:
            rows = None
        by_server = (
            {str(r.get("serverId")): r for r in rows if isinstance(r, dict)} if isinstance(rows, list) else {}
        )
        out: list[TargetResult] = []
        for target, address in jobs:
            row = by_server.get(target.server_id)
            if row is None:
                out.append(
                    TargetResult(
                        server_id=target.server_id,
                        status="FAIL",
                        detail="the probe function did not answer for it",
                    )
                )
                continue
            out.append(
                TargetResult(
                    server_id=target.server_id,
                    instance_id=target.instance_id,
                    status="PASS" if row.get("ok") is True else "FAIL",
                    detail=f"{address}: {str(row.get('detail', ''))[:300]}",
                )
            )
        return out
