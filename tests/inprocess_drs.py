"""``InProcessDrs``: the shipped ``DrsGateway`` with the simulator's backend in this thread as its transport.

The engine's property tests drive thousands of runner steps; over loopback HTTP with a boto3 client per
run they would take minutes. So only the transport is replaced: ``InProcessDrs`` *is* a ``DrsGateway``
(its request building, batching, pagination, de-duplication, parsing and error mapping all run), built
with a ``client_factory`` that hands it an ``InProcessClient`` instead of boto3's client.

``InProcessClient`` has the face of a botocore DRS client as the gateway uses it (snake_case operation
methods, ``get_paginator`` with botocore's own ``Paginator`` and DRS's paginator model, ``meta.events``,
``meta.service_model``, ``close``). A call goes the way it goes over HTTP, without the socket:

- botocore's client-side parameter validation (``ParamValidationError``, nothing sent);
- the test's ``before_call`` hook, then the simulator's ``FaultPlan`` transport fault, answered by the
  simulator's own ``holds.fault_response`` (throttle with Retry-After, 5xx, a dropped connection, before
  or after the action);
- the server's input validation (``validation.deserialize_input`` over the model's input shape: what
  ``protocol.parse_input`` does once it has gathered the members from the JSON body, where every member
  of these operations lives), ``DrsBackend.handle``, and ``protocol.serialize_output`` /
  ``serialize_error`` (status codes and headers from the service model);
- botocore's rest-json parser, its modeled error fields (``retryAfterSeconds`` from ``Retry-After``), the
  ``after-call`` event with a ``Date`` header of the backend's virtual time (so the gateway's
  ``DrsClock`` anchors on the simulator's clock as over HTTP), and the modeled ``ClientError``.

Left out: signing, endpoint resolution, botocore's retries (``InProcessDrs`` reads with one attempt, as
the runner does, and writes are single-attempt anyway), STS, and the ``hold`` and ``latency`` faults,
which need a server thread (they raise ``NotInProcess``).

It lives in tests, not in the simulator: the simulator may import no app layer, and the services may not
import the simulator. ``tests/engine/test_inprocess_drs.py`` checks that it gives the same views and
errors as the gateway over HTTP for the same world.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.errorfactory import BaseClientExceptions, ClientExceptionsFactory
from botocore.exceptions import ConnectionClosedError
from botocore.hooks import HierarchicalEmitter
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.paginate import Paginator, PaginatorModel
from botocore.parsers import create_parser
from botocore.validate import validate_parameters

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_clock import DrsClock
from drs_desktop.aws.session import AwsTarget
from drs_desktop.simulator import protocol
from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.contract import AFTER_ACTION_FAULTS, SimulatorError
from drs_desktop.simulator.holds import fault_response
from drs_desktop.simulator.model import load_model
from drs_desktop.simulator.protocol import HttpResponse
from drs_desktop.simulator.validation import deserialize_input

#: Where the answers "come from" (botocore's errors and responses name a URL).
URL = "inprocess://drs"


class Crash(BaseException):
    """The runner's process dies in the middle of a call (a test's fault, not an error it may catch)."""


class NotInProcess(BaseException):
    """What the in-process DRS cannot do (a test's setup mistake: the gateway must not map it to an error
    of DRS's, so it is no ``Exception``)."""


#: A test's hook around each call: ``(operation, params)``; it may raise a ``SimulatorError`` (DRS refuses),
#: a botocore connection error (the answer is lost), or ``Crash``.
Hook = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class _Drs:
    """botocore's DRS model, paginators and exception classes: loaded once per process."""

    service_model: ServiceModel
    operations: dict[str, str]  # snake_case method name -> operation name
    paginators: PaginatorModel
    exceptions: BaseClientExceptions
    #: Operations whose answers hold only JSON's own types and come whole in the body (no timestamps,
    #: blobs or floats, nothing in headers): botocore's parser gives ``json.loads`` of the body for them.
    plain_json: frozenset[str]


def _plain_json(shape: Shape | None, seen: frozenset[str] = frozenset()) -> bool:
    if shape is None or shape.name in seen:
        return True
    seen |= {shape.name}
    if isinstance(shape, StructureShape):
        return all("location" not in m.serialization and _plain_json(m, seen) for m in shape.members.values())
    if isinstance(shape, ListShape):
        return _plain_json(shape.member, seen)
    if isinstance(shape, MapShape):
        return _plain_json(shape.key, seen) and _plain_json(shape.value, seen)
    return shape.type_name in ("string", "integer", "long", "boolean")


@cache
def _drs() -> _Drs:
    service_model = load_model().service_model
    names = service_model.operation_names
    return _Drs(
        service_model=service_model,
        operations={xform_name(name): name for name in names},
        paginators=botocore.session.get_session().get_paginator_model("drs"),
        exceptions=ClientExceptionsFactory().create_client_exceptions(service_model),
        plain_json=frozenset(n for n in names if _plain_json(service_model.operation_model(n).output_shape)),
    )


@dataclass(frozen=True)
class _Meta:
    events: HierarchicalEmitter
    service_model: ServiceModel


class InProcessClient:
    """A botocore DRS client whose requests ``backend`` answers in this thread (see the module's doc).

    ``refused`` collects ``(operation, code)`` of every refusal the world made (validation included)."""

    def __init__(
        self,
        backend: DrsBackend,
        *,
        before_call: Hook | None = None,
        after_call: Hook | None = None,
        refused: list[tuple[str, str]] | None = None,
    ) -> None:
        self._backend = backend
        self._before_call = before_call
        self._after_call = after_call
        self.refused = refused if refused is not None else []
        self._parser = create_parser("rest-json")
        self.meta = _Meta(events=HierarchicalEmitter(), service_model=_drs().service_model)

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        operation = _drs().operations.get(name)
        if operation is None:
            raise AttributeError(name)
        model = self.meta.service_model.operation_model(operation)

        def call(**params: Any) -> dict[str, Any]:
            return self._make_call(model, params)

        call.__name__ = name
        return call

    def get_paginator(self, name: str) -> Paginator:
        operation = _drs().operations[name]
        config = _drs().paginators.get_paginator(operation)
        return Paginator(getattr(self, name), config, self.meta.service_model.operation_model(operation))

    def close(self) -> None:
        """Nothing to close: no connection pool."""

    def _make_call(self, operation: OperationModel, params: dict[str, Any]) -> dict[str, Any]:
        """What botocore's ``_make_api_call`` does around sending, with ``_respond`` as the wire."""
        validate_parameters(params, operation.input_shape)
        response = self._respond(operation, params)
        if response is None:
            raise ConnectionClosedError(endpoint_url=URL)
        date = ("Date", formatdate(self._backend.clock.now_ts(), usegmt=True))  # as http.server stamps it
        http = AWSResponse(URL, response.status, [*response.headers, date], raw=None)
        answer = {"status_code": http.status_code, "headers": http.headers, "body": response.body}
        parsed: dict[str, Any]
        if http.status_code < 300 and operation.name in _drs().plain_json:
            parsed = json.loads(response.body or b"{}")  # what the parser makes of it, at a sixth of the cost
        else:
            parsed = self._parser.parse(answer, operation.output_shape)
        code = parsed.get("Error", {}).get("Code") if http.status_code >= 300 else None
        error_shape = self.meta.service_model.shape_for_error_code(code) if code else None
        if error_shape is not None:
            parsed.update(self._parser.parse(answer, error_shape))  # botocore's modeled error fields
        self.meta.events.emit(
            f"after-call.drs.{operation.name}", http_response=http, parsed=parsed, model=operation, context={}
        )
        if http.status_code >= 300:
            raise _drs().exceptions.from_code(code)(parsed, operation.name)
        return parsed

    def _respond(self, operation: OperationModel, params: dict[str, Any]) -> HttpResponse | None:
        """The simulator server's answer to this request (None: it drops the connection)."""
        name = operation.name
        model = load_model()
        request_id = str(uuid.uuid4())
        try:
            if self._before_call is not None:
                self._before_call(name, params)
        except SimulatorError as error:
            return protocol.serialize_error(model, error, request_id)
        fault = self._backend.transport_fault(name)
        if fault is not None and fault.kind in ("hold", "latency"):
            raise NotInProcess(f"the in-process DRS cannot apply a {fault.kind!r} fault")
        if fault is not None and fault.kind not in AFTER_ACTION_FAULTS:
            return fault_response(model, fault, request_id)
        try:
            result = self._backend.handle(name, deserialize_input(operation.input_shape, params))
            response = protocol.serialize_output(model, name, result, request_id, strict=False)
        except SimulatorError as error:
            self.refused.append((name, error.code))
            response = protocol.serialize_error(model, error, request_id)
        if fault is not None:  # the action happened (or was refused); its answer is lost
            return fault_response(model, fault, request_id)
        if self._after_call is not None and response.status < 300:
            self._after_call(name, params)
        return response


class InProcessDrs(DrsGateway):
    """The shipped ``DrsGateway`` over ``backend``, reads with one attempt (as the runner's).

    ``before_call`` runs first on every call that passes botocore's validation, ``after_call`` once DRS
    carried it out (a test's faults: a late start, a crash in the middle). ``page_size`` as the gateway's.
    ``drs_clock`` anchors on the answers' ``Date`` and moves on the backend's virtual clock between them:
    DRS's time as the runner sees it over HTTP, without the wall clock's drift."""

    def __init__(
        self,
        backend: DrsBackend,
        *,
        before_call: Hook | None = None,
        after_call: Hook | None = None,
        page_size: int | None = None,
    ) -> None:
        self.backend = backend
        self.refused: list[tuple[str, str]] = []  # (operation, code) of every refusal the world made
        self._hooks = (before_call, after_call)
        super().__init__(
            AwsTarget(profile=None, region=backend.region),
            read_max_attempts=1,
            page_size=page_size,
            drs_clock=DrsClock(wall=backend.clock.now, monotonic=backend.clock.now_ts),
            client_factory=self._in_process_client,
        )

    def _in_process_client(self, kind: str) -> InProcessClient:
        if kind == "sts":
            raise NotInProcess("the in-process DRS serves no STS")
        before, after = self._hooks
        return InProcessClient(self.backend, before_call=before, after_call=after, refused=self.refused)
