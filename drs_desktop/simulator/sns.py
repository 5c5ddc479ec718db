"""SNS for the simulator: Publish and GetTopicAttributes, query protocol in, XML out, from botocore's
SNS model (issue 18: alerts outside the app).

SNS speaks AWS's query protocol: a form-encoded POST to ``/`` with ``Action`` and ``Version=2010-03-31``;
a list member is ``Name.member.N``, a map entry ``Name.entry.N.<key>`` / ``.<value>`` (the model's
``locationName``: MessageAttributes are ``...entry.1.Name`` and ``...entry.1.Value.DataType``). An answer
is ``<XxxResponse xmlns=...><XxxResult>`` (the output shape's ``resultWrapper``) with ``ResponseMetadata``;
an error ``<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code>...`` with the model's HTTP
status (NotFound 404, AuthorizationError 403, Throttled 429, InvalidParameter 400). Member names and types
come from the installed model, never a hand copy; a member the output shape does not know raises.

The world of topics is the estate's (one per simulator, every account): a topic belongs to an account and
a Region; a caller of another account may publish only when the topic lists its account among
``publishers`` (what a topic policy grants), else AuthorizationError. Every message published is kept
(``SnsTopics.messages``) and readable through the control API (``GET /_sim/sns``).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from drs_desktop.simulator.ec2_protocol import OutputShapeError
from drs_desktop.simulator.protocol import HttpResponse

logger = logging.getLogger(__name__)

SNS_VERSION = "2010-03-31"
SNS_NAMESPACE = f"http://sns.amazonaws.com/doc/{SNS_VERSION}/"
#: The operations served; any other answers InvalidAction.
SERVED = ("Publish", "GetTopicAttributes")
_CONTENT = ("Content-Type", "text/xml")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$")
#: SNS's limit on a message (bytes, UTF-8) and on a subject (characters).
MAX_MESSAGE_BYTES = 256 * 1024
MAX_SUBJECT = 100


class SnsError(Exception):
    """An SNS error answer: ``code`` as SNS spells it, with its HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@functools.cache
def sns_model() -> ServiceModel:
    """botocore's SNS model (loaded once per process; immutable, so threads share it)."""
    return botocore.session.get_session().get_service_model("sns")


def operation(action: str) -> OperationModel | None:
    model = sns_model()
    return model.operation_model(action) if action in model.operation_names else None


# -- the topics ----------------------------------------------------------------------------------------


@dataclass
class Topic:
    arn: str
    publishers: frozenset[str] = frozenset()  # other accounts its policy lets publish
    display_name: str = ""


@dataclass(frozen=True)
class PublishedMessage:
    """One message a topic took: what a subscriber would get."""

    message_id: str
    topic_arn: str
    message: str
    subject: str | None
    attributes: Mapping[str, Any]
    publisher_account: str
    published_at: float  # the virtual clock

    def document(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "topic_arn": self.topic_arn,
            "message": self.message,
            "subject": self.subject,
            "attributes": dict(self.attributes),
            "publisher_account": self.publisher_account,
            "published_at": self.published_at,
        }


@dataclass
class SnsTopics:
    """The topics of an estate and what was published to them. Thread-safe."""

    topics: dict[str, Topic] = field(default_factory=dict)
    messages: list[PublishedMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_topic(self, arn: str, *, publishers: Iterable[str] = (), display_name: str = "") -> Topic:
        """Add (or replace) a topic; ValueError for an ARN that is not a topic's."""
        if not _TOPIC_ARN.match(arn):
            raise ValueError(f"{arn!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        bad = [a for a in publishers if not re.fullmatch(r"\d{12}", a)]
        if bad:
            raise ValueError(f"publisher {bad[0]!r} is not a 12-digit account ID")
        topic = Topic(arn, frozenset(publishers), display_name)
        with self._lock:
            self.topics[arn] = topic
        return topic

    def published(self, topic_arn: str | None = None) -> list[PublishedMessage]:
        with self._lock:
            return [m for m in self.messages if topic_arn is None or m.topic_arn == topic_arn]

    def document(self) -> dict[str, Any]:
        with self._lock:
            return {
                "topics": [
                    {"arn": t.arn, "publishers": sorted(t.publishers), "display_name": t.display_name}
                    for t in self.topics.values()
                ],
                "messages": [m.document() for m in self.messages],
            }

    def _topic(self, arn: str, account: str, region: str) -> Topic:
        match = _TOPIC_ARN.match(arn)
        if match is None:
            raise SnsError("InvalidParameter", "Invalid parameter: TopicArn")
        if match.group(1) != region:
            # SNS answers a topic of another Region as not found in the caller's.
            raise SnsError("NotFound", "Topic does not exist", 404)
        topic = self.topics.get(arn)
        if topic is None:
            raise SnsError("NotFound", "Topic does not exist", 404)
        if match.group(2) != account and account not in topic.publishers:
            raise SnsError(
                "AuthorizationError",
                f"User: arn:aws:iam::{account}:user/simulator is not authorized to perform: SNS:Publish "
                f"on resource: {arn}",
                403,
            )
        return topic

    def handle(
        self, action: str, params: Mapping[str, Any], account: str, region: str, now: float
    ) -> dict[str, Any]:
        if action == "Publish":
            return self._publish(params, account, region, now)
        if action == "GetTopicAttributes":
            with self._lock:
                topic = self._topic(str(params["TopicArn"]), account, region)
                sent = sum(1 for m in self.messages if m.topic_arn == topic.arn)
            owner = topic.arn.split(":")[4]
            return {
                "Attributes": {
                    "TopicArn": topic.arn,
                    "Owner": owner,
                    "DisplayName": topic.display_name,
                    "SubscriptionsConfirmed": "0",
                    "SubscriptionsPending": "0",
                    "SubscriptionsDeleted": "0",
                    "Policy": _policy(topic, owner),
                    "EffectiveDeliveryPolicy": '{"http":{"defaultHealthyRetryPolicy":{"numRetries":3}}}',
                    "MessagesPublished": str(sent),  # the simulator's own: not an SNS attribute name
                }
            }
        raise SnsError("InvalidAction", f"The simulator does not serve SNS {action}")

    def _publish(self, params: Mapping[str, Any], account: str, region: str, now: float) -> dict[str, Any]:
        arn = params.get("TopicArn") or params.get("TargetArn")
        if not arn:
            raise SnsError("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value")
        message = str(params["Message"])
        if not message:
            raise SnsError("InvalidParameter", "Invalid parameter: Empty message")
        if len(message.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise SnsError("InvalidParameter", "Invalid parameter: Message too long")
        subject = params.get("Subject")
        if subject is not None and (not subject or len(subject) > MAX_SUBJECT or "\n" in subject):
            raise SnsError("InvalidParameter", "Invalid parameter: Subject")
        attributes: dict[str, Any] = {}
        for name, value in (params.get("MessageAttributes") or {}).items():
            kind = str(value.get("DataType", ""))
            if kind.split(".")[0] not in ("String", "Number", "Binary"):
                raise SnsError(
                    "ParameterValueInvalid",
                    f"The message attribute '{name}' has an invalid message attribute type",
                )
            attributes[name] = {k: v for k, v in value.items()}
        with self._lock:
            self._topic(str(arn), account, region)
            message_id = str(uuid.uuid4())
            self.messages.append(
                PublishedMessage(message_id, str(arn), message, subject, attributes, account, now)
            )
        logger.info("SNS: %d bytes published to %s", len(message), arn)
        return {"MessageId": message_id}


def _policy(topic: Topic, owner: str) -> str:
    principals = sorted({owner, *topic.publishers})
    arns = ", ".join(f'"arn:aws:iam::{a}:root"' for a in principals)
    return (
        '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":['
        + arns
        + f']}},"Action":"SNS:Publish","Resource":"{topic.arn}"}}]}}'
    )


# -- the protocol --------------------------------------------------------------------------------------


def _name(member: str, shape: Shape) -> str:
    return str(shape.serialization.get("name") or member)


def parse_form(action: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of ``action`` from a flat query form, by the model's input shape. An unknown
    parameter, a missing required member: InvalidParameter, as SNS answers them."""
    op = operation(action)
    assert op is not None
    used: set[str] = {"Action", "Version"}
    shape = op.input_shape
    params = _structure(shape, "", form, used) if shape is not None else {}
    unknown = sorted(set(form) - used)
    if unknown:
        raise SnsError("InvalidParameter", f"Invalid parameter: {unknown[0]}")
    if shape is not None:
        for name in shape.required_members:
            if name not in params:
                raise SnsError(
                    "InvalidParameter", f"Invalid parameter: {name} Reason: no value for required parameter"
                )
    return params


def _structure(shape: StructureShape, prefix: str, form: Mapping[str, str], used: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = _value(member, prefix + _name(name, member), form, used)
        if value is not None:
            out[name] = value
    return out


def _indexes(key: str, form: Mapping[str, str]) -> list[int]:
    found = set()
    for k in form:
        if k.startswith(key + "."):
            head = k[len(key) + 1 :].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _value(shape: Shape, key: str, form: Mapping[str, str], used: set[str]) -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not any(k.startswith(key + ".") for k in form):
            return None
        return _structure(shape, key + ".", form, used)
    if kind == "list":
        assert isinstance(shape, ListShape)
        base = key if shape.serialization.get("flattened") else f"{key}.member"
        items = [_value(shape.member, f"{base}.{i}", form, used) for i in _indexes(base, form)]
        return [i for i in items if i is not None] or None
    if kind == "map":
        assert isinstance(shape, MapShape)
        base = f"{key}.entry"
        key_name = str(shape.key.serialization.get("name") or "key")
        value_name = str(shape.value.serialization.get("name") or "value")
        out: dict[str, Any] = {}
        for i in _indexes(base, form):
            k = _value(shape.key, f"{base}.{i}.{key_name}", form, used)
            v = _value(shape.value, f"{base}.{i}.{value_name}", form, used)
            if k is None or v is None:
                raise SnsError("InvalidParameter", f"Invalid parameter: {key} entry {i} is incomplete")
            out[str(k)] = v
        return out or None
    if key not in form:
        return None
    used.add(key)
    raw = form[key]
    if kind == "boolean":
        return raw.lower() == "true"
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise SnsError("InvalidParameter", f"Invalid parameter: {key}") from None
    if kind == "blob":
        return raw.encode("utf-8")
    return raw


def _render(shape: Shape, value: Any, path: str) -> str:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, Mapping):
            raise OutputShapeError(f"{path}: expected a structure, got {type(value).__name__}")
        unknown = [k for k in value if k not in shape.members]
        if unknown:
            raise OutputShapeError(f"{path}: {unknown[0]} is not a member of {shape.name}")
        parts = []
        for k, v in value.items():
            if v is not None:
                tag = _name(k, shape.members[k])
                parts.append(f"<{tag}>{_render(shape.members[k], v, f'{path}.{k}')}</{tag}>")
        return "".join(parts)
    if kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, Mapping):
            raise OutputShapeError(f"{path}: expected a map, got {type(value).__name__}")
        key_name = str(shape.key.serialization.get("name") or "key")
        value_name = str(shape.value.serialization.get("name") or "value")
        return "".join(
            f"<entry><{key_name}>{_render(shape.key, k, path)}</{key_name}>"
            f"<{value_name}>{_render(shape.value, v, f'{path}.{k}')}</{value_name}></entry>"
            for k, v in value.items()
        )
    if kind == "list":
        assert isinstance(shape, ListShape)
        return "".join(
            f"<member>{_render(shape.member, v, f'{path}[{i}]')}</member>" for i, v in enumerate(value)
        )
    if not isinstance(value, str):
        raise OutputShapeError(f"{path}: expected a string, got {value!r}")
    return escape(value)


def document(action: str, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    """SNS's answer to ``action``: ``result`` rendered by the output shape inside its result wrapper."""
    op = operation(action)
    assert op is not None
    shape = op.output_shape
    body = ""
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper") or f"{action}Result"
        body = f"<{wrapper}>{_render(shape, result, action)}</{wrapper}>"
    xml = (
        f'<{action}Response xmlns="{SNS_NAMESPACE}">{body}'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
    return HttpResponse(200, [_CONTENT, ("x-amzn-RequestId", request_id)], xml.encode())


def error(request_id: str, code: str, message: str, status: int = 400) -> HttpResponse:
    """SNS's error document."""
    xml = (
        f'<ErrorResponse xmlns="{SNS_NAMESPACE}"><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return HttpResponse(status, [_CONTENT, ("x-amzn-RequestId", request_id)], xml.encode())


def is_sns(form: Mapping[str, list[str]], service: str | None) -> bool:
    """A query request for SNS: signed for the ``sns`` service, or carrying SNS's API version."""
    return service == "sns" or SNS_VERSION in form.get("Version", [])


def respond(
    topics: SnsTopics,
    form: Mapping[str, list[str]],
    request_id: str,
    *,
    account: str,
    region: str,
    now: float,
    throttled: bool = False,
) -> HttpResponse:
    """The answer to one SNS request from a caller of ``account`` in ``region``."""
    action = form.get("Action", [""])[0]
    try:
        if action not in SERVED or operation(action) is None:
            raise SnsError("InvalidAction", f"The simulator does not serve SNS {action or '(none)'}")
        if throttled:
            raise SnsError("Throttled", "Rate exceeded", 429)
        params = parse_form(action, {k: v[0] for k, v in form.items() if v})
        return document(action, topics.handle(action, params, account, region, now), request_id)
    except SnsError as exc:
        return error(request_id, exc.code, exc.message, exc.status)
    except OutputShapeError:
        logger.exception("SNS %s built an answer its output shape refuses (request %s)", action, request_id)
        return error(request_id, "InternalError", "An internal error has occurred", 500)
    except Exception:
        logger.exception("SNS %s failed (request %s)", action, request_id)
        return error(request_id, "InternalError", "An internal error has occurred", 500)
