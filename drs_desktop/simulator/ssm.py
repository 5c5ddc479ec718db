"""SSM Run Command in the simulator: the subset DRS Desktop's automation steps use, in the DRS world.

Served (JSON 1.1, ``X-Amz-Target: AmazonSSM.<Operation>``, ``ssm_protocol``): SendCommand, ListCommands,
GetCommandInvocation, ListCommandInvocations, DescribeInstanceInformation, DescribeDocument. Anything
else is refused, so a new call the app makes shows up here rather than passing unseen.

A recovery instance is a managed node once its agent was seen after boot (the same moment DRS records
``ssmAgentDiscoveryDatetime``); SendCommand to an instance SSM does not know (none such, or still
booting, or launched STOPPED) is refused with InvalidInstanceId, as SSM refuses it. Each invocation then
runs on the virtual clock: Pending, InProgress a second later, then Success or Failed (exit code), or
TimedOut when it outlasts the document's ``executionTimeout`` (ExecutionTimedOut) or is not delivered
within the command's TimeoutSeconds (DeliveryTimedOut), or Failed / Undeliverable. How a run behaves is
``automation_spec.RunBehaviour``, per document and/or server, from the scenario or ``set_run``. DRS
Desktop's health probe script (AWS-RunShellScript, ``# drs-desktop health probe v1``) is run as the
instance in the VPC would run it: its probes are real, to the listeners (``ssm_probe``).

SSM shows the first 24,000 characters of stdout in GetCommandInvocation and the first 2,500 in
ListCommandInvocations' plugin output (``Details``); both are kept as SSM keeps them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from collections.abc import Mapping
from typing import Any

from drs_desktop.simulator.automation_spec import DocumentSpec, RunBehaviour
from drs_desktop.simulator.json_model import InputError
from drs_desktop.simulator.postlaunch import stable_uuid
from drs_desktop.simulator.ssm_probe import (
    ProbeScriptError,
    is_probe_script,
    parse_probe_script,
    run_probe_script,
)
from drs_desktop.simulator.ssm_views import (
    DEFAULT_DELIVERY_TIMEOUT,
    DEFAULT_EXECUTION_TIMEOUT,
    DELIVERY_SECONDS,
    GET_OUTPUT_LIMIT,
    PLUGIN,
    TERMINAL,
    Command,
    Invocation,
    command_status,
    command_view,
    invocation_view,
    page,
)
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)

#: Documents every account has (``Owner: Amazon``).
AWS_DOCUMENTS = (
    DocumentSpec(
        "AWS-RunShellScript", ("Linux", "MacOS"), ("commands", "workingDirectory", "executionTimeout")
    ),
    DocumentSpec(
        "AWS-RunPowerShellScript", ("Windows",), ("commands", "workingDirectory", "executionTimeout")
    ),
)


def _iso(ts: float) -> str:
    """SSM's StringDateTime. The model's pattern allows at most one fractional digit, so whole seconds
    (the console shows milliseconds; the app reads neither form)."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(text: str, key: str) -> float:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError("InvalidFilterValue", f"{key} must be an ISO 8601 time, got {text!r}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


class SsmService:
    """The SSM side of one world; called under the backend's lock, the world already brought up to now."""

    OPERATIONS = (
        "SendCommand",
        "ListCommands",
        "GetCommandInvocation",
        "ListCommandInvocations",
        "DescribeInstanceInformation",
        "DescribeDocument",
    )

    def __init__(self, world: World) -> None:
        self.w = world
        spec = world.scenario.automation
        self.documents: dict[str, DocumentSpec] = {d.name: d for d in (*AWS_DOCUMENTS, *spec.documents)}
        self.runs: list[RunBehaviour] = list(spec.runs)
        self.commands: dict[str, Command] = {}
        self._order: list[str] = []  # command IDs, oldest first

    # -- the scenario's and the tests' hands ---------------------------------------------------------

    def register_document(self, document: DocumentSpec) -> None:
        self.documents[document.name] = document

    def set_run(self, behaviour: RunBehaviour) -> None:
        """Runs matching ``behaviour``'s document/server behave so from now on (a later one wins)."""
        self.runs.append(behaviour)

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_{operation}", None)
        if operation not in self.OPERATIONS or handler is None:
            raise InputError("InvalidAction", f"The simulator does not serve SSM {operation}")
        result: dict[str, Any] = handler(params)
        return result

    # -- managed nodes -------------------------------------------------------------------------------

    def managed(self) -> dict[str, tuple[float, str, str]]:
        """Instances SSM knows: instance ID -> (registration time, platform, EC2 state), terminated ones
        excluded (SSM deregisters them)."""
        w = self.w
        out: dict[str, tuple[float, str, str]] = {}
        for job in w.jobs.values():
            for p in job.participants:
                iid = p.recovery_instance_id
                if iid is None or p.ssm_discovery_ts is None:
                    continue
                instance = w.instances.get(iid)
                if instance is None or instance.state == "TERMINATED":
                    continue
                platform = "Windows" if w.servers[p.server_id].os_family == "windows" else "Linux"
                out[iid] = (p.ssm_discovery_ts, platform, instance.state)
        return out

    def _behaviour(self, document: str, instance_id: str) -> RunBehaviour:
        names = self._names(instance_id)
        best: tuple[int, RunBehaviour] | None = None
        for run in self.runs:  # later entries win among equally specific ones
            if run.document is not None and run.document != document:
                continue
            if run.server is not None and run.server not in names:
                continue
            score = (2 if run.server is not None else 0) + (1 if run.document is not None else 0)
            if best is None or score >= best[0]:
                best = (score, run)
        return best[1] if best is not None else RunBehaviour()

    def _names(self, instance_id: str) -> set[str]:
        """What a run behaviour's ``server`` may call this instance: its ID, its server's ID or hostname."""
        names = {instance_id}
        instance = self.w.instances.get(instance_id)
        if instance is not None:
            server = self.w.servers[instance.server_id]
            names |= {server.server_id, server.hostname}
        return names

    def _online(self, instance_id: str) -> bool:
        """Registered, running, and no behaviour says its agent lost the connection."""
        entry = self.managed().get(instance_id)
        if entry is None or entry[2] != "RUNNING":
            return False
        names = self._names(instance_id)
        return not any(r.offline and r.server in names for r in self.runs)

    # -- SendCommand ---------------------------------------------------------------------------------

    def _SendCommand(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        name = params["DocumentName"]
        document = self._document(name)
        if params.get("Targets"):
            raise InputError("InvalidParameters", "The simulator sends to InstanceIds only, not Targets")
        ids: list[str] = params.get("InstanceIds") or []
        if not ids:
            raise InputError("ValidationException", "InstanceIds must name at least one instance")
        if len(set(ids)) != len(ids):
            raise InputError("DuplicateInstanceId", "An instance ID appears more than once")
        managed = self.managed()
        unknown = [i for i in ids if i not in managed]
        if unknown:
            raise InputError(
                "InvalidInstanceId",
                f"Instances [[{', '.join(unknown)}]] not in a valid state for account "
                f"{w.scenario.account_id}",
            )
        parameters: dict[str, list[str]] = {k: list(v) for k, v in (params.get("Parameters") or {}).items()}
        extra = sorted(set(parameters) - set(document.parameters))
        if extra:
            raise InputError("InvalidParameters", f'Parameter "{extra[0]}" is not valid for {name}')
        if document.name in PLUGIN and not parameters.get("commands"):
            raise InputError("InvalidParameters", f'Parameter "commands" is required by {name}')
        execution_timeout = DEFAULT_EXECUTION_TIMEOUT
        if parameters.get("executionTimeout"):
            text = parameters["executionTimeout"][0]
            if not text.isdigit() or not 1 <= int(text) <= 172800:
                raise InputError(
                    "InvalidParameters", f"executionTimeout must be 1..172800 seconds, got {text!r}"
                )
            execution_timeout = int(text)
        timeout = int(params.get("TimeoutSeconds") or DEFAULT_DELIVERY_TIMEOUT)
        if not 30 <= timeout <= 2592000:
            raise InputError("ValidationException", f"TimeoutSeconds must be 30..2592000, got {timeout}")
        command = Command(
            command_id=stable_uuid(w.seed, "ssm-command", len(self._order), w.now),
            document=name,
            comment=str(params.get("Comment") or ""),
            parameters=parameters,
            requested_ts=w.now,
            timeout_seconds=timeout,
            execution_timeout=execution_timeout,
        )
        for iid in ids:
            invocation = Invocation(iid, managed[iid][1])
            command.invocations[iid] = invocation
            self._deliver(command, invocation)
        self.commands[command.command_id] = command
        self._order.append(command.command_id)
        logger.debug("SSM %s to %d instance(s): %s", name, len(ids), command.command_id)
        return {"Command": command_view(command)}

    def _document(self, name: str) -> DocumentSpec:
        document = self.documents.get(name)
        if document is None:
            raise InputError("InvalidDocument", f"Document with name {name} does not exist.")
        if document.denied:
            raise InputError("AccessDeniedException", f"User is not authorized to perform ssm on {name}")
        return document

    def _deliver(self, command: Command, inv: Invocation) -> None:
        w = self.w
        run = self._behaviour(command.document, inv.instance_id)
        if run.undeliverable:
            w.schedule(w.now + DELIVERY_SECONDS, lambda: self._end(inv, "Failed", "Undeliverable", -1))
            return
        if not self._online(inv.instance_id):
            deadline = command.requested_ts + command.timeout_seconds
            w.schedule(deadline, lambda: self._delivery_timeout(command, inv))
            return
        w.schedule(w.now + DELIVERY_SECONDS, lambda: self._start(command, inv, run))

    def _delivery_timeout(self, command: Command, inv: Invocation) -> None:
        if inv.status == "Pending":
            self._end(inv, "TimedOut", "DeliveryTimedOut", -1)

    def _start(self, command: Command, inv: Invocation, run: RunBehaviour) -> None:
        w = self.w
        if inv.instance_id not in w.instances:
            self._end(inv, "Failed", "Undeliverable", -1)
            return
        document = self.documents[command.document]
        inv.status, inv.details, inv.started_ts = "InProgress", "InProgress", w.now
        if inv.platform not in document.platforms:
            self._end(inv, "Failed", "InvalidPlatform", -1)
            return
        if run.hang or run.seconds > command.execution_timeout:
            w.schedule(w.now + command.execution_timeout, lambda: self._execution_timeout(command, inv, run))
            return
        w.schedule(w.now + run.seconds, lambda: self._finish(command, inv, run))

    def _execution_timeout(self, command: Command, inv: Invocation, run: RunBehaviour) -> None:
        inv.stdout = self._stdout(command, run)
        inv.stderr = "failed to run commands: exit status 124 (execution timed out)"
        self._end(inv, "TimedOut", "ExecutionTimedOut", -1)

    def _finish(self, command: Command, inv: Invocation, run: RunBehaviour) -> None:
        if inv.instance_id not in self.w.instances:
            self._end(inv, "Failed", "Failed", -1)
            return
        commands = command.parameters.get("commands", [])
        if command.document == "AWS-RunShellScript" and is_probe_script(commands):
            self._probe(inv, commands)
            return
        inv.stdout = self._stdout(command, run)
        if run.exit_code == 0:
            inv.stderr = run.stderr
            self._end(inv, "Success", "Success", 0)
        else:
            inv.stderr = run.stderr or f"failed to run commands: exit status {run.exit_code}"
            self._end(inv, "Failed", "Failed", run.exit_code)

    def _probe(self, inv: Invocation, commands: list[str]) -> None:
        """DRS Desktop's health probe script, run as the instance would (``ssm_probe``): its timing and
        delivery were the run behaviour's; its output and exit are the probes'."""
        try:
            script = parse_probe_script(commands)
        except ProbeScriptError as error:
            inv.stderr = f"the simulator cannot run this probe script: {error}"
            self._end(inv, "Failed", "Failed", 2)
            return
        inv.stdout = run_probe_script(script, lambda address: self._in_vpc_of(inv.instance_id, address))
        self._end(inv, "Success", "Success", 0)

    def _in_vpc_of(self, instance_id: str, address: str) -> str | None:
        """Where the service of the instance holding ``address`` in ``instance_id``'s VPC listens: its
        listeners' loopback address ("" it has none), or None when no live instance there holds it."""
        templates = self.w.templates.instances
        here = templates.get(instance_id)
        if here is None:
            return None
        for iid, record in templates.items():
            placement = record.placement
            if placement.private_ip != address or placement.subnet.vpc_id != here.placement.subnet.vpc_id:
                continue
            instance = self.w.instances.get(iid)
            if instance is None or instance.terminating or instance.state != "RUNNING":
                continue
            return self.w.loopback.get(iid, "")
        return None

    def _end(self, inv: Invocation, status: str, details: str, code: int) -> None:
        inv.status, inv.details, inv.response_code, inv.ended_ts = status, details, code, self.w.now

    @staticmethod
    def _stdout(command: Command, run: RunBehaviour) -> str:
        if run.output is not None:
            text = run.output
        else:
            lines = [c for chunk in command.parameters.get("commands", []) for c in chunk.splitlines()]
            text = "".join(
                line.strip()[5:].strip("'\"") + "\n" for line in lines if line.strip().startswith("echo ")
            )
        if run.output_chars > len(text):
            filler = "".join(f"line {i:06d}\n" for i in range(math.ceil((run.output_chars - len(text)) / 12)))
            text = (text + filler)[: run.output_chars]
        return text

    # -- views ---------------------------------------------------------------------------------------

    # -- reads ---------------------------------------------------------------------------------------

    def _filtered(self, params: dict[str, Any]) -> list[Command]:
        commands = [self.commands[c] for c in reversed(self._order)]  # newest first, as SSM lists them
        if params.get("CommandId"):
            commands = [c for c in commands if c.command_id == params["CommandId"]]
            if not commands:
                raise InputError("InvalidCommandId", f"Command {params['CommandId']} does not exist")
        if params.get("InstanceId"):
            commands = [c for c in commands if params["InstanceId"] in c.invocations]
        for f in params.get("Filters") or []:
            key, value = f["key"], f["value"]
            if key == "InvokedAfter":
                after = _when(value, key)
                commands = [c for c in commands if c.requested_ts >= after]
            elif key == "InvokedBefore":
                before = _when(value, key)
                commands = [c for c in commands if c.requested_ts <= before]
            elif key == "DocumentName":
                commands = [c for c in commands if c.document == value]
            elif key == "Status":
                commands = [c for c in commands if command_status(c)[0] == value]
            elif key == "ExecutionStage":
                if value not in ("Executing", "Complete"):
                    raise InputError("InvalidFilterValue", "ExecutionStage is Executing or Complete")
                done = value == "Complete"
                commands = [c for c in commands if (command_status(c)[0] in TERMINAL) == done]
            else:
                raise InputError("InvalidFilterKey", f"{key} is not a filter key here")
        return commands

    def _ListCommands(self, params: dict[str, Any]) -> dict[str, Any]:
        commands, token = page(self._filtered(params), params, "ListCommands")
        out: dict[str, Any] = {"Commands": [command_view(c) for c in commands]}
        if token:
            out["NextToken"] = token
        return out

    def _ListCommandInvocations(self, params: dict[str, Any]) -> dict[str, Any]:
        pairs = [
            (c, inv)
            for c in self._filtered({k: v for k, v in params.items() if k != "InstanceId"})
            for inv in c.invocations.values()
            if not params.get("InstanceId") or inv.instance_id == params["InstanceId"]
        ]
        shown, token = page(pairs, params, "ListCommandInvocations")
        details = bool(params.get("Details"))
        out: dict[str, Any] = {"CommandInvocations": [invocation_view(c, i, details) for c, i in shown]}
        if token:
            out["NextToken"] = token
        return out

    def _GetCommandInvocation(self, params: dict[str, Any]) -> dict[str, Any]:
        command = self.commands.get(params["CommandId"])
        if command is None:
            raise InputError("InvalidCommandId", f"Command {params['CommandId']} does not exist")
        inv = command.invocations.get(params["InstanceId"])
        if inv is None:
            raise InputError("InvocationDoesNotExist", "An error occurred (InvocationDoesNotExist)")
        out: dict[str, Any] = {
            "CommandId": command.command_id,
            "InstanceId": inv.instance_id,
            "Comment": command.comment,
            "DocumentName": command.document,
            "DocumentVersion": "$DEFAULT",
            "PluginName": PLUGIN.get(command.document, "aws:runShellScript"),
            "ResponseCode": inv.response_code,
            # StringDateTime in the model (ExecutionElapsedTime too, although SSM sends "PT5.1S" there):
            # set only once known, in the form the model's pattern accepts; the elapsed time is left out.
            "ExecutionStartDateTime": _iso(inv.started_ts) if inv.started_ts is not None else None,
            "ExecutionEndDateTime": _iso(inv.ended_ts) if inv.ended_ts is not None else None,
            "Status": inv.status,
            "StatusDetails": inv.details,
            "StandardOutputContent": inv.stdout[:GET_OUTPUT_LIMIT],
            "StandardOutputUrl": "",
            "StandardErrorContent": inv.stderr[:8000],
            "StandardErrorUrl": "",
            "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False},
        }
        return out

    def _DescribeInstanceInformation(self, params: dict[str, Any]) -> dict[str, Any]:
        w = self.w
        wanted: set[str] | None = None
        for f in params.get("InstanceInformationFilterList") or []:
            if f["key"] != "InstanceIds":
                raise InputError("InvalidFilterKey", f"{f['key']} is not a filter key here")
            wanted = set(f["valueSet"]) | (wanted or set())
        for f in params.get("Filters") or []:
            if f["Key"] not in ("InstanceIds", "PingStatus", "PlatformTypes"):
                raise InputError("InvalidFilterKey", f"{f['Key']} is not a filter key here")
        items = []
        for iid, (registered, platform, _state) in sorted(self.managed().items()):
            if wanted is not None and iid not in wanted:
                continue
            online = self._online(iid)
            instance = w.instances[iid]
            server = w.servers[instance.server_id]
            item = {
                "InstanceId": iid,
                "PingStatus": "Online" if online else "ConnectionLost",
                "LastPingDateTime": w.now if online else registered,
                "AgentVersion": "3.3.1142.0",
                "IsLatestVersion": True,
                "PlatformType": platform,
                "PlatformName": "Microsoft Windows Server 2022 Datacenter"
                if platform == "Windows"
                else "Amazon Linux",
                "PlatformVersion": "10.0.20348" if platform == "Windows" else "2023",
                "ResourceType": "EC2Instance",
                "RegistrationDate": registered,
                "IPAddress": w.templates.instances[iid].placement.private_ip
                if iid in w.templates.instances
                else server.ip,
                "ComputerName": server.fqdn,
                "SourceId": iid,
                "SourceType": "AWS::EC2::Instance",
            }
            if not self._filters_match(item, params.get("Filters") or []):
                continue
            items.append(item)
        shown, token = page(items, params, "DescribeInstanceInformation")
        out: dict[str, Any] = {"InstanceInformationList": shown}
        if token:
            out["NextToken"] = token
        return out

    @staticmethod
    def _filters_match(item: Mapping[str, Any], filters: list[dict[str, Any]]) -> bool:
        fields = {"InstanceIds": "InstanceId", "PingStatus": "PingStatus", "PlatformTypes": "PlatformType"}
        return all(item[fields[f["Key"]]] in f["Values"] for f in filters)

    def _DescribeDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = self._document(params["Name"])
        owner = "Amazon" if document.name.startswith("AWS-") else self.w.scenario.account_id
        digest = hashlib.sha256(document.name.encode()).hexdigest()
        return {
            "Document": {
                "Hash": digest,
                "HashType": "Sha256",
                "Name": document.name,
                "Owner": owner,
                "CreatedDate": self.w.start_ts,
                "Status": "Active",
                "DocumentVersion": "1",
                "Parameters": [
                    {"Name": p, "Type": "StringList" if p == "commands" else "String"}
                    for p in document.parameters
                ],
                "PlatformTypes": list(document.platforms),
                "DocumentType": "Command",
                "SchemaVersion": "2.2",
                "LatestVersion": "1",
                "DefaultVersion": "1",
                "DocumentFormat": "JSON",
                "Tags": [],
            }
        }
