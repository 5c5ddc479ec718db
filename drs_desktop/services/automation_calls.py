"""The calls of a wave's automation steps (``engine.automation``), for the runner.

Every command journals its intent first (``AutomationRequested``), then the facts as they come. SSM sends
and reads, and a health check's rounds (``health_reach``), run on the runner's thread (each probe round
is bounded by the step's interval). A Lambda function and a local script run beside the runner's loop,
on a thread of their own, because they may take the step's whole timeout: their end is put on
``results`` (and the loop woken) for the runner to journal on its own thread (``drain``). Neither
SendCommand nor Invoke takes an idempotency token: their clients send once (retries off, a read timeout
above the step's), and an answer lost after sending is ``AutomationLost`` (``engine.automation``
decides what that means).
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from drs_desktop.domain.automation_calls import SsmInvocation
from drs_desktop.domain.drs.errors import DrsError, DrsOutcomeUnknown
from drs_desktop.domain.engine.automation import comment_of
from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
    AutomationLost,
    AutomationRequested,
    AutomationSent,
    SsmLooked,
    SsmPolled,
    SsmWaiting,
)
from drs_desktop.domain.engine.automation_state import TargetResult, parse_key, tail
from drs_desktop.domain.engine.commands import FindSsm, PollSsm, ProbeHealth, RunAutomation
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.plan.automation import LambdaStep, ScriptStep, SsmStep
from drs_desktop.domain.script_trust import ScriptTrustError, code_variable_problem
from drs_desktop.services.automation_gateways import (
    InstanceReads,
    LambdaCalls,
    SsmCalls,
    judge_lambda,
)
from drs_desktop.services.health_reach import HealthProbes
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)


#: ``trust(path)``: "TRUSTED" when this desktop trusts the file as it is now, else why not.
TrustCheck = Callable[[str], str]


class AutomationCalls:
    """The runner's side of automation steps: one per runner, for its whole life."""

    def __init__(
        self,
        *,
        ssm: Callable[[str], SsmCalls],
        lambdas: Callable[[str], LambdaCalls],
        ec2: Callable[[str], InstanceReads],
        own_lambda: Callable[[str], LambdaCalls],
        trust: TrustCheck,
        record: Callable[[Event], None],
        clock: Callable[[], datetime],
        wake: Callable[[], None],
    ) -> None:
        self._ssm, self._lambdas, self._ec2, self._trust = ssm, lambdas, ec2, trust
        #: A new Lambda gateway for one step's thread alone: the one ``lambdas`` keeps is the runner
        #: thread's (DESIGN §3.5: a boto3 session is not thread-safe, and the runner closes its own).
        self._own_lambda = own_lambda
        self._record, self._clock, self._wake = record, clock, wake
        self._results: queue.Queue[Event] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._health = HealthProbes(ssm=ssm, lambdas=lambdas, ec2=ec2, record=record, clock=clock)

    # -- the commands

    def run(self, command: RunAutomation) -> None:
        step = command.step
        instances = tuple(f"{t.server_id}={t.instance_id}" for t in command.targets if t.instance_id)
        self._record(
            AutomationRequested(
                key=command.key, attempt=command.attempt, at=self._clock(), instances=instances
            )
        )
        if isinstance(step, SsmStep):
            self._send_ssm(command, step)
        elif isinstance(step, LambdaStep | ScriptStep):
            self._beside(command)
        # A health check: its first round of probes is the next command.

    def probe(self, command: ProbeHealth) -> None:
        """A health check's round, from where its reach says (``health_reach``)."""
        self._health.probe(command)

    def poll(self, command: PollSsm) -> None:
        by_instance = {t.instance_id: t.server_id for t in command.targets if t.instance_id}
        try:
            invocations = self._ssm(command.target).invocations(command.command_id)
        except DrsError as error:
            self._record(
                SsmPolled(
                    key=command.key, attempt=command.attempt, results=(), at=self._clock(), error=str(error)
                )
            )
            return
        results = tuple(
            TargetResult(
                server_id=by_instance.get(i.instance_id, ""),
                instance_id=i.instance_id,
                status=i.status,
                detail=_ssm_detail(i),
                output=tail(i.output + (f"\n[stderr]\n{i.error_output}" if i.error_output else "")),
            )
            for i in invocations
        )
        self._record(SsmPolled(key=command.key, attempt=command.attempt, results=results, at=self._clock()))

    def find(self, command: FindSsm) -> None:
        try:
            found = self._ssm(command.target).find_commands_by_comment(command.comment, command.since)
        except DrsError as error:
            self._record(
                SsmLooked(
                    key=command.key,
                    attempt=command.attempt,
                    command_id="",
                    at=self._clock(),
                    error=str(error),
                )
            )
            return
        command_id = found[0] if found else ""
        self._record(
            SsmLooked(key=command.key, attempt=command.attempt, command_id=command_id, at=self._clock())
        )

    # -- the ends of what runs beside the loop

    def drain(self) -> None:
        """Journal (on the runner's thread) what the Lambda functions and scripts that ended reported."""
        while True:
            try:
                event = self._results.get_nowait()
            except queue.Empty:
                return
            self._record(event)

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the threads beside the loop to end; whether none runs now."""
        deadline = time.monotonic() + seconds
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]
        return not self._threads

    def close(self) -> None:
        """Threads still running are left to end by their own timeouts; their results are dropped (the next
        runner finds their attempts cut off, and the operator decides)."""
        self._threads = [t for t in self._threads if t.is_alive()]

    def _answered(
        self, command: RunAutomation, ok: bool, detail: str, output: str = ""
    ) -> AutomationAnswered:
        """The attempt's end as its call answered (or as a call refused outright), stamped now."""
        return AutomationAnswered(
            key=command.key,
            attempt=command.attempt,
            ok=ok,
            at=self._clock(),
            detail=detail,
            output=tail(output),
        )

    def _lost(self, command: RunAutomation, reason: str) -> AutomationLost:
        """The attempt's call may have run, and its answer is lost, stamped now."""
        return AutomationLost(key=command.key, attempt=command.attempt, reason=reason, at=self._clock())

    # -- SSM

    def _send_ssm(self, command: RunAutomation, step: SsmStep) -> None:
        instance_ids = [t.instance_id for t in command.targets if t.instance_id]
        missing = [t.server_id for t in command.targets if not t.instance_id]
        at = self._clock
        if not instance_ids:
            detail = "no recovered instance to run it on" + (f" ({', '.join(missing)})" if missing else "")
            self._record(self._answered(command, False, detail))
            return
        places = sorted({t.target for t in command.targets if t.instance_id})
        if len(places) > 1:  # one SendCommand reaches one account and Region: nothing is sent
            where = ", ".join(p or "the connected target" for p in places)
            detail = f"its servers are in several DRS targets ({where}): an SSM step runs in one; split it"
            self._record(self._answered(command, False, detail))
            return
        ssm = self._ssm(command.target)
        try:
            online = ssm.agent_online(instance_ids)
        except DrsError as error:
            online = {}
            logger.info("SSM agents of %s not read: %s", command.key, error)
        offline = [i for i in instance_ids if online and not online.get(i, False)]
        if offline:  # SendCommand would refuse them (InvalidInstanceId) while they boot: wait, not fail
            reason = f"the SSM agent of {', '.join(offline)} is not online yet"
            self._record(SsmWaiting(key=command.key, attempt=command.attempt, reason=reason, at=at()))
            return
        try:
            command_id = ssm.send_command(
                command.comment,
                step.document,
                instance_ids,
                {k: list(v) for k, v in step.parameters.items()},
                step.policy.timeout_seconds,
                document_version=step.document_version,
            )
        except DrsOutcomeUnknown as error:
            self._record(self._lost(command, str(error)))
            return
        except DrsError as error:
            self._record(self._answered(command, False, f"SendCommand refused: {error}"))
            return
        self._record(AutomationSent(key=command.key, attempt=command.attempt, ref=command_id, at=at()))

    # -- Lambda functions and scripts, beside the loop

    def _beside(self, command: RunAutomation) -> None:
        step = command.step
        if isinstance(step, ScriptStep):
            trusted = self._trust(step.path)
            if trusted != "TRUSTED":
                detail = f"not run: this desktop does not trust {step.path} ({trusted})"
                self._record(self._answered(command, False, detail))
                return
            # Checked here too: a plan may reach the runner without the editor's validation (a sync).
            refused = [p for name in step.environment if (p := code_variable_problem(name)) is not None]
            if refused:
                self._record(self._answered(command, False, f"not run: {refused[0]}"))
                return
        if isinstance(step, ScriptStep):
            work: Callable[[RunAutomation], None] = self._run_script
        else:
            # Made here (its target is the runner thread's to resolve), then used and closed by the
            # step's thread alone: its boto3 session and clients are made on that thread's first call.
            client = self._own_lambda("")

            def work(command: RunAutomation) -> None:
                try:
                    self._invoke(command, client)
                finally:
                    closing = getattr(client, "close", None)
                    if closing is not None:
                        closing()

        thread = threading.Thread(
            target=self._guarded, args=(work, command), name=f"automation-{command.key}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _guarded(self, work: Callable[[RunAutomation], None], command: RunAutomation) -> None:
        try:
            work(command)
        except Exception as error:  # a thread's error must reach the journal, never vanish
            logger.exception("automation step %s failed to run", command.key)
            self._put(self._lost(command, f"{type(error).__name__}: {error}"))

    def _put(self, event: Event) -> None:
        self._results.put(event)
        self._wake()

    def _invoke(self, command: RunAutomation, client: LambdaCalls) -> None:
        step = command.step
        assert isinstance(step, LambdaStep)
        payload = {**step.payload, "drsDesktop": facts_of(command)}
        try:
            answer = client.invoke(step.function, payload, timeout=step.policy.timeout_seconds)
        except DrsOutcomeUnknown as error:
            self._put(self._lost(command, str(error)))
            return
        except DrsError as error:
            detail = f"Invoke refused: {error}"
            self._put(self._answered(command, False, detail))
            return
        ok, detail = judge_lambda(answer)
        self._put(self._answered(command, ok, detail, answer.body))

    def _run_script(self, command: RunAutomation) -> None:
        step = command.step
        assert isinstance(step, ScriptStep)
        facts = facts_of(command)
        env = {**os.environ, **step.environment, **script_environment(facts)}
        try:
            process = subprocess.Popen(  # a trusted script (``_beside``), path and arguments as the plan says
                [step.path, *step.arguments],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: killed with whatever it started
            )
        except OSError as error:
            detail = f"could not start {step.path}: {error.strerror or error}"
            self._put(self._answered(command, False, detail))
            return
        self._put(
            AutomationSent(key=command.key, attempt=command.attempt, ref=str(process.pid), at=self._clock())
        )
        try:
            output, _ = process.communicate(timeout=step.policy.timeout_seconds)
        except subprocess.TimeoutExpired:
            output, held_open = _kill(process)
            text = output.decode("utf-8", "replace") if output else ""
            detail = f"killed after {step.policy.timeout_seconds} s (the step's timeout)" + (
                "; a process it started still held its output open" if held_open else ""
            )
            self._put(self._answered(command, False, detail, text))
            return
        text = output.decode("utf-8", "replace") if output else ""
        ok = process.returncode == 0
        detail = "exit 0" if ok else f"exit {process.returncode}"
        self._put(self._answered(command, ok, detail, text))


#: Seconds to read the rest of a killed script's output: a process it started that escaped the kill
#: may hold the pipe open for ever, and the attempt must end.
KILL_GRACE = 5.0


def _kill(process: subprocess.Popen[bytes]) -> tuple[bytes, bool]:
    """Kill a script that outlived its timeout, and every process of its group (``sleep &``, a daemon it
    started: they inherit its output, and reading it to the end would wait for them); its output so far,
    and whether the pipe was still held open after ``KILL_GRACE``."""
    killpg = getattr(os, "killpg", None)  # POSIX; on Windows only the script itself is killed
    try:
        if killpg is not None:
            killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass
    try:
        output, _ = process.communicate(timeout=KILL_GRACE)
        return output or b"", False
    except subprocess.TimeoutExpired:
        if process.stdout is not None:
            process.stdout.close()
        process.wait()
        return b"", True


def facts_of(command: RunAutomation) -> dict[str, Any]:
    """What a Lambda payload (``drsDesktop``) and a script's environment say of the run."""
    wave_index, phase, step_index = parse_key(command.key)
    return {
        "executionId": command.execution_id,
        "plan": command.plan_name,
        "mode": command.mode,
        "wave": wave_index + 1,
        "phase": phase,
        "step": step_index + 1,
        "stepName": command.step.name,
        "attempt": command.attempt,
        "comment": command.comment,
        "instances": [
            {"serverId": t.server_id, "instanceId": t.instance_id} for t in command.targets if t.instance_id
        ],
    }


def script_environment(facts: Mapping[str, Any]) -> dict[str, str]:
    return {
        "DRS_EXECUTION_ID": str(facts["executionId"]),
        "DRS_PLAN": str(facts["plan"]),
        "DRS_MODE": str(facts["mode"]),
        "DRS_WAVE": str(facts["wave"]),
        "DRS_PHASE": str(facts["phase"]),
        "DRS_STEP": str(facts["step"]),
        "DRS_STEP_NAME": str(facts["stepName"]),
        "DRS_ATTEMPT": str(facts["attempt"]),
        "DRS_INSTANCES": " ".join(f"{i['serverId']}={i['instanceId']}" for i in facts["instances"]),
    }


def trust_check(db: Database) -> TrustCheck:
    """This desktop's trust in a script, looked at now (``services.script_trust``): "TRUSTED", or why not."""
    service = ScriptTrustService(db)

    def check(path: str) -> str:
        try:
            look = service.status(path)
        except ScriptTrustError as error:
            return str(error)
        if look.runnable:
            return "TRUSTED"
        return f"{look.status.value}: {look.detail}" if look.detail else look.status.value

    return check


def _ssm_detail(run: SsmInvocation) -> str:
    """What an operator reads of an invocation's end: SSM's detail, and the exit code when it failed."""
    detail = run.details if run.details and run.details != run.status else ""
    if run.finished and run.response_code not in (-1, 0):
        detail = f"{detail} exit {run.response_code}".strip()
    return detail


__all__ = [
    "AutomationCalls",
    "InstanceReads",
    "LambdaCalls",
    "SsmCalls",
    "comment_of",
    "judge_lambda",
    "trust_check",
]
