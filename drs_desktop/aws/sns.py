"""``SnsGateway``: an alert published to an SNS topic, and whether the topic is there (the test button).

SNS publishes in the topic's own Region, so each call's client is built for the Region the topic ARN
names, with the target's credentials (``gateway_base``). Publish takes no idempotency token on a
standard topic, so it goes out once (no botocore retries): an alert said twice is worse than an alert
whose delivery is reported as failed. Errors become the ``DrsError`` family with a sentence an operator
can act on: no permission (the topic's policy or the caller's IAM), no such topic, throttled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Unpack

from drs_desktop.aws.errors import log_failure, map_service_error
from drs_desktop.aws.gateway_base import GatewayBase, GatewaySettings
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.alert_routes import topic_region
from drs_desktop.domain.drs.errors import DrsAccessDenied, DrsError, DrsNotFound, DrsRejected, DrsThrottled

logger = logging.getLogger(__name__)

__all__ = ["SnsGateway"]

_NOT_FOUND = frozenset({"NotFound", "NotFoundException"})
_DENIED = frozenset({"AuthorizationError", "AuthorizationErrorException", "AccessDenied", "InvalidSecurity"})
_REJECTED = frozenset(
    {"InvalidParameter", "InvalidParameterValue", "ParameterValueInvalid", "ValidationError"}
)


class _Unreadable(Exception):
    """An SNS answer without what its model promises."""


class SnsGateway(GatewayBase):
    """SNS with one ``AwsTarget``'s credentials; belongs to one thread (DESIGN §3.5)."""

    def __init__(
        self, target: AwsTarget | Callable[[], AwsTarget], **settings: Unpack[GatewaySettings]
    ) -> None:
        super().__init__(target, **settings)
        self._session: Any = None
        self._clients: dict[tuple[str, bool], Any] = {}

    def _client(self, region: str, *, retries: bool) -> Any:
        key = (region, retries)
        client = self._clients.get(key)
        if client is None:
            if self._session is None:
                self._session = self._new_session()
            client = self._new_client(self._session, "sns", retries=retries, region=region, local_only=True)
            self._clients[key] = client
        return client

    def publish(
        self, topic_arn: str, message: str, *, subject: str, attributes: Mapping[str, str] | None = None
    ) -> str:
        """Publish ``message`` to ``topic_arn`` once; the MessageId SNS gave it. ``subject`` is cut to
        SNS's 100 characters (one line); ``attributes`` become String message attributes (filters)."""
        client = self._client(topic_region(topic_arn), retries=False)
        subject_line = " ".join(subject.split())[:100] or "DRS Desktop"
        message_attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in (attributes or {}).items()
            if value
        }

        def call() -> str:
            answer = client.publish(
                TopicArn=topic_arn,
                Message=message,
                Subject=subject_line,
                MessageAttributes=message_attributes,
            )
            message_id = answer.get("MessageId")
            if not isinstance(message_id, str) or not message_id:
                raise _Unreadable(f"MessageId is {message_id!r}")
            return message_id

        message_id = self._call("Publish", topic_arn, call, mutating=True)
        logger.info("SNS: alert published to %s (message %s)", topic_arn, message_id)
        return message_id

    def check_topic(self, topic_arn: str) -> str:
        """The topic's owner account, if this target can see the topic (GetTopicAttributes)."""
        client = self._client(topic_region(topic_arn), retries=True)

        def call() -> str:
            attributes = client.get_topic_attributes(TopicArn=topic_arn).get("Attributes")
            if not isinstance(attributes, dict):
                raise _Unreadable("Attributes is missing")
            return str(attributes.get("Owner", ""))

        return self._call("GetTopicAttributes", topic_arn, call, mutating=False)

    def _call(self, operation: str, topic_arn: str, call: Any, *, mutating: bool) -> Any:
        try:
            return call()
        except Exception as exc:
            error = _mapped(exc, operation, topic_arn, mutating=mutating)
            log_failure(logger, "SNS", operation, error, mutating=mutating)
            raise error from exc

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._session = None


def _mapped(exc: BaseException, operation: str, topic_arn: str, *, mutating: bool) -> DrsError:
    base = map_service_error(
        exc, "SNS", operation, mutating=mutating, unreadable=_Unreadable, reclassify=lambda _code: None
    )
    common: dict[str, Any] = {"code": base.code, "operation": operation, "status": base.status}
    if base.code in _NOT_FOUND:
        return DrsNotFound(
            f"SNS topic {topic_arn} does not exist (or not in the Region its ARN names)", **common
        )
    if base.code in _DENIED or isinstance(base, DrsAccessDenied):
        return DrsAccessDenied(
            f"no permission to publish to SNS topic {topic_arn}: the topic's access policy or the "
            f"credentials' IAM policy must allow sns:{operation}",
            **common,
        )
    if isinstance(base, DrsThrottled) or base.code in ("Throttled", "ThrottledException"):
        return DrsThrottled(f"SNS throttled {operation} to {topic_arn}; try again in a moment", **common)
    if base.code in _REJECTED:
        return DrsRejected(f"SNS refused the message for {topic_arn}: {base.message}", **common)
    return base
