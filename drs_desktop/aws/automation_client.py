"""What the SSM and Lambda gateways share: their clients, their constructor, and how their errors become
the DrsError family (``aws.errors.map_service_error``, as EC2's do, with SSM's and Lambda's codes).

SendCommand and Invoke take no idempotency token, so botocore must never resend them: they go out on a
client with exactly one attempt (``client_config(retries=False)``, ``total_max_attempts=1``) and a read
timeout above the step's own timeout, so the answer of a slow function is waited for rather than given
up on. An answer lost after sending (a dropped connection, a read timeout, a 5xx) is
``DrsOutcomeUnknown``: the command may have been sent, the function may have run. Reads go out on a
client with botocore's retries. A loopback ``endpoint_url`` (the simulator) serves SSM and Lambda too;
any other endpoint is DRS's own, and these services then go to AWS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypedDict, TypeVar, Unpack

from drs_desktop.aws import session as aws_session
from drs_desktop.aws.errors import log_failure
from drs_desktop.aws.errors import map_service_error as _map
from drs_desktop.aws.session import AwsTarget, MfaPrompter
from drs_desktop.domain.drs.errors import DrsError, DrsNotFound, DrsRejected

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds of read timeout beyond a step's timeout on the one-attempt client.
READ_MARGIN = 30.0
_REJECTED = frozenset(
    {
        "InvalidParameters",
        "InvalidInstanceId",
        "DuplicateInstanceId",
        "InvalidFilterKey",
        "InvalidFilterValue",
        "InvalidNextToken",
        "InvalidParameterValueException",
        "InvalidRequestContentException",
        "RequestTooLargeException",
        "UnsupportedPlatformType",
        "InvalidDocumentVersion",
        "InvalidOutputFolder",
        "InvalidRole",
    }
)
_NOT_FOUND = frozenset(
    {"InvalidDocument", "InvalidCommandId", "InvocationDoesNotExist", "ResourceNotFoundException"}
)


class AnswerUnreadable(Exception):
    """An answer that does not have the shape the model promises (a member missing, a wrong type)."""


def map_service_error(exc: BaseException, service: str, operation: str, *, mutating: bool) -> DrsError:
    """``aws.errors.map_service_error`` with SSM's and Lambda's codes; an answer that could not be read
    (``AnswerUnreadable``) after a mutating call is found again the way a lost answer is."""
    return _map(exc, service, operation, mutating=mutating, unreadable=AnswerUnreadable, reclassify=_class)


def _class(code: str) -> type[DrsError] | None:
    if code in _NOT_FOUND:
        return DrsNotFound
    if code in _REJECTED:
        return DrsRejected
    return None


class ClientSettings(TypedDict, total=False):
    """The keyword settings of the SSM and Lambda gateways' clients (``aws.session``'s defaults):
    botocore's attempt budget for reads, timeouts in seconds, and the MFA prompter for a role."""

    max_attempts: int
    connect_timeout: float
    read_timeout: float
    mfa_prompter: MfaPrompter | None


class ServiceClients:
    """Boto3 clients of one service for one ``AwsTarget``: a read client with retries, and one-attempt
    clients keyed by their read timeout. Belongs to one thread (DESIGN §3.5), like the gateways."""

    def __init__(
        self,
        service: Literal["ssm", "lambda"],
        target: AwsTarget | Callable[[], AwsTarget],
        **settings: Unpack[ClientSettings],
    ) -> None:
        unknown = settings.keys() - ClientSettings.__optional_keys__
        if unknown:
            raise TypeError(f"unexpected settings: {', '.join(sorted(unknown))}")
        self.service = service
        self._target_source = target
        self._resolved: AwsTarget | None = target if isinstance(target, AwsTarget) else None
        self._max_attempts = max(1, settings.get("max_attempts", aws_session.READ_MAX_ATTEMPTS))
        self._connect_timeout = settings.get("connect_timeout", aws_session.CONNECT_TIMEOUT)
        self._read_timeout = settings.get("read_timeout", aws_session.READ_TIMEOUT)
        self._mfa_prompter = settings.get("mfa_prompter")
        self._session: Any = None
        self._clients: dict[tuple[bool, float], Any] = {}

    @property
    def target(self) -> AwsTarget:
        if self._resolved is None:
            source = self._target_source
            self._resolved = source if isinstance(source, AwsTarget) else source()
        return self._resolved

    def reader(self) -> Any:
        return self._client(True, self._read_timeout)

    def sender(self, step_timeout: float) -> Any:
        """The one-attempt client whose read timeout outlasts ``step_timeout`` seconds."""
        return self._client(False, max(self._read_timeout, float(step_timeout) + READ_MARGIN))

    def _client(self, retries: bool, read_timeout: float) -> Any:
        key = (retries, read_timeout)
        client = self._clients.get(key)
        if client is None:
            if self._session is None:
                self._session = aws_session.make_session(self.target, mfa_prompter=self._mfa_prompter)
            config = aws_session.client_config(
                retries=retries,
                connect_timeout=self._connect_timeout,
                read_timeout=read_timeout,
                max_attempts=self._max_attempts,
            )
            target = self.target
            endpoint = target.endpoint_url if target.is_local else None
            # Each service named literally: tests/test_aws_services.py checks every client the package builds.
            if self.service == "ssm":
                client = self._session.client(
                    "ssm", region_name=target.region, endpoint_url=endpoint, config=config
                )
            else:
                client = self._session.client(
                    "lambda", region_name=target.region, endpoint_url=endpoint, config=config
                )
            self._clients[key] = client
        return client

    def call(self, operation: str, call: Callable[[], T], *, mutating: bool = False) -> T:
        """``call()``, its failure mapped to the DrsError family (and logged once)."""
        try:
            return call()
        except Exception as exc:
            name = "SSM" if self.service == "ssm" else "Lambda"
            error = map_service_error(exc, name, operation, mutating=mutating)
            log_failure(logger, name, operation, error, mutating=mutating)
            raise error from exc

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._session = None


class ServiceGateway:
    """The constructor and ``close`` of ``SsmGateway`` and ``LambdaGateway``: the clients of their
    ``service`` for one ``AwsTarget`` (a callable is resolved on first use, on the owning thread)."""

    service: ClassVar[Literal["ssm", "lambda"]]

    def __init__(
        self, target: AwsTarget | Callable[[], AwsTarget], **settings: Unpack[ClientSettings]
    ) -> None:
        self._clients = ServiceClients(self.service, target, **settings)

    def close(self) -> None:
        """Close the clients (their connection pools); the owning thread calls this before it ends."""
        self._clients.close()
