"""``SsmGateway``: SSM Run Command for automation steps, and what preflight asks SSM.

SendCommand has no idempotency token: it goes out once (``automation_client``), with the step's
execution/step/attempt in its ``Comment``. After a crash, or an answer lost after sending
(``DrsOutcomeUnknown``), the command is found again by that comment: ListCommands has no comment filter,
so ``find_commands_by_comment`` pages through the commands invoked since the attempt was journaled
(``InvokedAfter``) and matches the comment exactly. ``invocations`` reads every instance's run: its
status, response code and output (GetCommandInvocation's first 24,000 characters of stdout, once the
run has ended). Failures are the DrsError family; nothing above the ``aws`` layer sees botocore.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Unpack

from drs_desktop.aws.automation_client import AnswerUnreadable, ClientSettings, ServiceGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.automation_calls import SsmInvocation
from drs_desktop.domain.drs.errors import DrsNotFound

logger = logging.getLogger(__name__)

#: SSM's smallest TimeoutSeconds (delivery timeout) and the documents that take ``executionTimeout``.
MIN_DELIVERY_TIMEOUT = 30
_SCRIPT_DOCUMENTS = frozenset({"AWS-RunShellScript", "AWS-RunPowerShellScript"})
#: Instance IDs per DescribeInstanceInformation filter (SSM's limit on the InstanceIds filter).
MAX_IDS_PER_CALL = 50


def _text(item: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise AnswerUnreadable(f"{key} is {type(value).__name__}, not a string")
    return value


def _integer(item: Mapping[str, Any], key: str) -> int:
    value = item.get(key, -1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnswerUnreadable(f"{key} is {value!r}, not an integer")
    return value


class SsmGateway(ServiceGateway):
    """SSM of one ``AwsTarget`` (settings: ``automation_client.ClientSettings``). ``page_size`` sets
    MaxResults on listings (None: SSM's default, 50)."""

    service = "ssm"

    def __init__(
        self,
        target: AwsTarget | Callable[[], AwsTarget],
        *,
        page_size: int | None = None,
        **settings: Unpack[ClientSettings],
    ) -> None:
        if page_size is not None and not 1 <= page_size <= 50:
            raise ValueError("page_size must be 1..50 (SSM's MaxResults)")
        super().__init__(target, **settings)
        self._page_size = page_size

    # -- Run Command -------------------------------------------------------------------------------------

    def send_command(
        self,
        comment: str,
        document: str,
        instance_ids: Sequence[str],
        parameters: Mapping[str, Sequence[str]],
        timeout: int,
        document_version: str | None = None,
    ) -> str:
        """Send ``document`` to ``instance_ids`` once; the command ID. ``timeout`` (the step's, seconds)
        bounds delivery (TimeoutSeconds, at least SSM's 30) and, for AWS-RunShellScript and
        AWS-RunPowerShellScript without their own ``executionTimeout``, the run itself.
        ``DrsOutcomeUnknown``: it may have been sent; find it by ``comment`` before sending again."""
        if not instance_ids:
            raise ValueError("send_command needs at least one instance")
        if len(comment) > 100:
            raise ValueError("an SSM comment holds at most 100 characters")
        params: dict[str, list[str]] = {k: list(v) for k, v in parameters.items()}
        if document in _SCRIPT_DOCUMENTS and "executionTimeout" not in params:
            params["executionTimeout"] = [str(max(1, int(timeout)))]
        request: dict[str, Any] = {
            "DocumentName": document,
            "InstanceIds": list(instance_ids),
            "Parameters": params,
            "Comment": comment,
            "TimeoutSeconds": max(MIN_DELIVERY_TIMEOUT, int(timeout)),
        }
        if document_version:
            request["DocumentVersion"] = document_version
        client = self._clients.sender(timeout)

        def send() -> str:
            command = client.send_command(**request).get("Command")
            if not isinstance(command, Mapping):
                raise AnswerUnreadable("the answer has no Command")
            return _text(command, "CommandId")

        command_id = self._clients.call("SendCommand", send, mutating=True)
        logger.info("SSM %s sent to %d instance(s): %s", document, len(instance_ids), command_id)
        return command_id

    def find_commands_by_comment(self, comment: str, invoked_after: dt.datetime) -> list[str]:
        """IDs of the commands invoked at or after ``invoked_after`` whose Comment is exactly ``comment``,
        newest first. Every page of ListCommands is read (it has no comment filter)."""
        if invoked_after.tzinfo is None:
            raise ValueError("invoked_after must be timezone-aware")
        after = invoked_after.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        client = self._clients.reader()

        def find() -> list[str]:
            config = {"PageSize": self._page_size} if self._page_size else {}
            pages = client.get_paginator("list_commands").paginate(
                Filters=[{"key": "InvokedAfter", "value": after}], PaginationConfig=config
            )
            found: list[str] = []
            for page in pages:
                for command in page.get("Commands") or []:
                    if not isinstance(command, Mapping):
                        raise AnswerUnreadable("a command is not a structure")
                    if command.get("Comment") == comment:
                        found.append(_text(command, "CommandId"))
            return found

        return self._clients.call("ListCommands", find)

    def invocations(self, command_id: str) -> list[SsmInvocation]:
        """Every instance's run of ``command_id``; a finished run with its output (DrsNotFound: SSM does
        not know the command)."""
        client = self._clients.reader()

        def read() -> list[SsmInvocation]:
            pages = client.get_paginator("list_command_invocations").paginate(
                CommandId=command_id, Details=True
            )
            out = []
            for page in pages:
                for item in page.get("CommandInvocations") or []:
                    if not isinstance(item, Mapping):
                        raise AnswerUnreadable("an invocation is not a structure")
                    out.append(self._invocation(client, command_id, item))
            return out

        runs = self._clients.call("ListCommandInvocations", read)
        if not runs:
            # SSM lists a command's invocations a moment after SendCommand; none at all for a command it
            # does not know either: tell them apart.
            self._clients.call(
                "ListCommands", lambda: client.list_commands(CommandId=command_id), mutating=False
            )
        return runs

    def _invocation(self, client: Any, command_id: str, item: Mapping[str, Any]) -> SsmInvocation:
        instance_id = _text(item, "InstanceId")
        status = _text(item, "Status")
        plugins = item.get("CommandPlugins") or []
        plugin = plugins[0] if plugins and isinstance(plugins[0], Mapping) else {}
        run = SsmInvocation(
            command_id=command_id,
            instance_id=instance_id,
            status=status,
            details=_text(item, "StatusDetails", required=False),
            response_code=_integer(plugin, "ResponseCode") if plugin else -1,
            output=_text(plugin, "Output", required=False) if plugin else "",
        )
        if not run.finished:
            return run
        try:
            full = client.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except Exception as exc:  # the list's first 2,500 characters are better than no output
            if getattr(exc, "response", {}).get("Error", {}).get("Code") != "InvocationDoesNotExist":
                raise
            return run
        return SsmInvocation(
            command_id=command_id,
            instance_id=instance_id,
            status=_text(full, "Status"),
            details=_text(full, "StatusDetails", required=False),
            response_code=_integer(full, "ResponseCode"),
            output=_text(full, "StandardOutputContent", required=False),
            error_output=_text(full, "StandardErrorContent", required=False),
        )

    # -- preflight ---------------------------------------------------------------------------------------

    def agent_online(self, instance_ids: Sequence[str]) -> dict[str, bool]:
        """Whether SSM sees each instance's agent Online (False: not registered, or ConnectionLost)."""
        client = self._clients.reader()
        unique = list(dict.fromkeys(instance_ids))
        online: dict[str, bool] = dict.fromkeys(unique, False)

        def read(batch: list[str]) -> None:
            pages = client.get_paginator("describe_instance_information").paginate(
                Filters=[{"Key": "InstanceIds", "Values": batch}]
            )
            for page in pages:
                for info in page.get("InstanceInformationList") or []:
                    if not isinstance(info, Mapping):
                        raise AnswerUnreadable("an instance's information is not a structure")
                    iid = _text(info, "InstanceId")
                    if iid in online:
                        online[iid] = _text(info, "PingStatus") == "Online"

        for start in range(0, len(unique), MAX_IDS_PER_CALL):
            batch = unique[start : start + MAX_IDS_PER_CALL]
            self._clients.call("DescribeInstanceInformation", lambda b=batch: read(b))  # type: ignore[misc]
        return online

    def document_exists(self, name: str) -> bool:
        """Whether the caller can see SSM document ``name``. A document it may not use raises
        DrsAccessDenied (the step would fail the same way)."""
        client = self._clients.reader()
        try:
            self._clients.call("DescribeDocument", lambda: client.describe_document(Name=name))
        except DrsNotFound:
            return False
        return True
