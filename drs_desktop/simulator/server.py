"""The simulator's HTTP server: DRS's REST-JSON API (and STS) on loopback.

It binds loopback only: the simulator has no authentication, so it must never be reachable from the
network. Every response carries ``Content-Length`` (except the bodiless 204) so HTTP/1.1 keep-alive,
which boto3's connection pool uses, stays in sync. Sockets time out: a client that goes quiet between
requests is dropped after ``idle_timeout``; one that sends half a request after ``request_timeout``.
Nothing raised while serving reaches the client as a traceback: it becomes a 500
InternalServerException and the traceback goes to the log.

Every answer's ``Date`` header carries the backend's virtual time, as real DRS's carries AWS's: a client
may take the service's time from it, and a test's clock is years away from the wall clock. The server is
threaded, so a request held by a ``hold`` fault (see ``holds``) blocks only its own connection.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any

from drs_desktop.simulator import automation_http, ec2, ec2_protocol, protocol, sns, sts
from drs_desktop.simulator.contract import AFTER_ACTION_FAULTS, Backend, SimulatorError, TransportFault
from drs_desktop.simulator.holds import ANSWERING_FAULTS, HeldRequests, fault_response
from drs_desktop.simulator.http_helpers import http_error, loopback_host, split_target
from drs_desktop.simulator.identities import credential_of
from drs_desktop.simulator.model import DrsModel, load_model
from drs_desktop.simulator.protocol import HttpResponse

if TYPE_CHECKING:
    from drs_desktop.simulator.control_api import ControlApi
    from drs_desktop.simulator.estate import Estate

logger = logging.getLogger(__name__)

#: The control API's paths (``control_api.PREFIX``): real DRS has no route there.
CONTROL_PREFIX = "/_sim/"

DEFAULT_MAX_BODY_BYTES = 1 << 20  # the largest valid DRS request is a few hundred KB
_MAX_REQUEST_LINE = 65536


def _is_ec2(
    form: Mapping[str, list[str]], headers: Mapping[str, str], query: Mapping[str, list[str]]
) -> bool:
    """EC2 and STS both post forms to ``/``: EC2's are signed for the ``ec2`` service (SigV4 scope) or
    carry EC2's API version."""
    if credential_of(headers, query).service == "ec2":
        return True
    return ec2_protocol.EC2_VERSION in form.get("Version", [])


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: SimulatorServer) -> None:
        self.simulator = simulator
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; the client was answered or dropped already.
        logger.error("Error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Each answer goes out in one write (``_write``), so Nagle's algorithm has nothing to coalesce and
    # would only hold back the last segment of a large body until the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "drs-simulator"
    sys_version = ""
    server: _HttpServer
    _responded = False

    def setup(self) -> None:
        super().setup()  # handle_one_request sets the socket timeouts
        self.server.simulator._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.simulator._unregister(self.connection)

    def handle_one_request(self) -> None:
        sim = self.server.simulator
        try:
            self.connection.settimeout(sim.idle_timeout)
            self.raw_requestline = self.rfile.readline(_MAX_REQUEST_LINE + 1)
            if not self.raw_requestline:
                self.close_connection = True
                return
            self.connection.settimeout(sim.request_timeout)
            if len(self.raw_requestline) > _MAX_REQUEST_LINE:
                self.requestline, self.request_version, self.command = "", "", ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.parse_request():
                return
            if self.request_version == "HTTP/0.9":
                self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 is not supported")
                return
            self._responded = False
            try:
                self._serve()
            except (TimeoutError, OSError):
                raise
            except Exception:
                # A bug outside the per-operation guard: log it, answer 500 if nothing was sent yet.
                logger.exception("Simulator failed serving %s %s", self.command, self.path)
                if not self._responded:
                    model = sim.model
                    self._write(replace(protocol.internal_error(str(uuid.uuid4()), model), close=True))
                self.close_connection = True
            self.wfile.flush()
        except TimeoutError:
            logger.debug("Connection from %s timed out", self.client_address)
            self.close_connection = True
        except OSError:
            logger.debug("Connection from %s failed", self.client_address, exc_info=True)
            self.close_connection = True

    # Every method goes through _serve so unknown methods get a DRS-shaped 404/405, not http.server's 501.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def handle_expect_100(self) -> bool:
        declared = self.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.server.simulator.max_body_bytes:
            self._write(self._too_large(int(declared)))
            return False
        return super().handle_expect_100()

    def _too_large(self, size: int) -> HttpResponse:
        limit = self.server.simulator.max_body_bytes
        error = http_error(413, f"Request body of {size} bytes exceeds the {limit}-byte limit", close=True)
        return protocol.serialize_error(self.server.simulator.model, error, str(uuid.uuid4()))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, oversize headers) as JSON, not HTML."""
        text = message or explain or HTTPStatus(code).phrase
        logger.debug("%s -> %d %s", getattr(self, "requestline", "")[:200], code, text)
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # so the status line and headers are written
        response = protocol.serialize_error(
            self.server.simulator.model, http_error(code, text, close=True), str(uuid.uuid4())
        )
        self._write(response)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header (IMF-fixdate): the simulator's virtual time, not the wall clock's."""
        if timestamp is None:
            timestamp = self.server.simulator.backend.clock.now_ts()
        return super().date_time_string(timestamp)

    def version_string(self) -> str:
        return self.server_version

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _serve logs one line per request with the operation and timing

    def log_message(self, format: str, *args: Any) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes | HttpResponse | None:
        """The request body, an error response, or None when the client went away mid-body."""
        model = self.server.simulator.model
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            error = http_error(411, "Chunked bodies are not accepted; send Content-Length", close=True)
            return protocol.serialize_error(model, error, str(uuid.uuid4()))
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        if not declared.strip().isdigit():
            error = http_error(400, f"Invalid Content-Length {declared!r}", close=True)
            return protocol.serialize_error(model, error, str(uuid.uuid4()))
        size = int(declared)
        if size > self.server.simulator.max_body_bytes:
            return self._too_large(size)
        try:
            body = self.rfile.read(size)
        except TimeoutError:
            error = http_error(408, "Timed out reading the request body", close=True)
            return protocol.serialize_error(model, error, str(uuid.uuid4()))
        if len(body) < size:
            return None
        return body

    def _serve(self) -> None:
        started = time.monotonic()
        sim = self.server.simulator
        raw_path, raw_query = split_target(self.path)
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        if isinstance(body, HttpResponse):
            response: HttpResponse | None = body
            operation = "-"
        else:
            response, operation = sim._respond(self.command, raw_path, raw_query, headers, body)
        if response is None:
            logger.debug("%s %s -> connection dropped (%s)", self.command, raw_path, operation)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        # Logged before writing, so the line exists by the time the client has its answer.
        logger.debug(
            "%s %s -> %d %s (%.1f ms)",
            self.command,
            raw_path,
            response.status,
            operation,
            (time.monotonic() - started) * 1000,
        )
        self._write(response)

    def _write(self, response: HttpResponse) -> None:
        """Status line, headers and body in one write.

        http.server writes the headers, then the body: two segments per answer, and the second waited
        for the client's delayed ACK of the first (Nagle), ~40 ms per small request on Linux. http.server
        still renders the status line and headers, into a buffer standing in for ``wfile``, so they are
        byte for byte what it wrote before.
        """
        self._responded = True
        socket_file, self.wfile = self.wfile, io.BytesIO()
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            bodiless = response.status in (204, 304) or response.status < 200
            if not bodiless:
                self.send_header("Content-Length", str(len(response.body)))
            if response.close:
                self.send_header("Connection", "close")  # also sets close_connection
            self.end_headers()
            head = self.wfile.getvalue()
        finally:
            self.wfile = socket_file
        if not bodiless and self.command != "HEAD" and response.body:
            socket_file.write(head + response.body)
        else:
            socket_file.write(head)


class SimulatorServer:
    """Serves a ``Backend`` over loopback HTTP; ``start()`` runs it in a daemon thread.

    ``strict_output`` turns members the output shape does not know into a 500 (and a logged error)
    instead of a warning: the conformance tests use it to catch what botocore would silently drop.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        request_timeout: float = 10.0,
        idle_timeout: float = 60.0,
        strict_output: bool = False,
        control: ControlApi | None = None,
        estate: Estate | None = None,
    ) -> None:
        self.backend = backend
        #: Several accounts and regions: the estate picks each request's world by its credentials.
        self.estate = estate
        #: ``/_sim/...``: the control API (``control_api``), when the backend is a simulated world.
        self.control = control
        self.host = loopback_host(host)
        self.requested_port = port
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout
        self.idle_timeout = idle_timeout
        self.strict_output = strict_output
        self.model: DrsModel = load_model()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        #: Requests held by ``hold`` faults: tests wait on it instead of sleeping.
        self.holds = HeldRequests()
        self._backend_lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> SimulatorServer:
        if self._httpd is not None:
            raise RuntimeError("The simulator server is already running")
        self._stopping.clear()
        self._httpd = _HttpServer((self.host, self.requested_port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="drs-simulator", daemon=True
        )
        self._thread.start()
        logger.info("DRS simulator listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        """Stop accepting, cut open connections (idle keep-alives included) and join every thread."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        self.backend.clock.wake()  # held requests see _stopping and give up
        httpd.shutdown()
        with self._connections_lock:
            connections = dict(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        thread.join()
        worlds = self.estate.worlds.values() if self.estate is not None else [self.backend]
        for world in worlds:
            listeners = getattr(world, "listeners", None)
            if listeners is not None:
                listeners.stop()
        for worker in connections.values():
            worker.join(timeout=5)
        self._httpd = None
        self._thread = None
        logger.info("DRS simulator stopped")

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The simulator server is not running")
        return int(self._httpd.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _register(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections[conn] = threading.current_thread()

    def _unregister(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.pop(conn, None)

    # --- requests -------------------------------------------------------------------------------------

    def _respond(
        self, method: str, raw_path: str, raw_query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[HttpResponse | None, str]:
        """The response to one request (None: drop the connection) and the operation name for the log.

        ``headers`` has lower-case names.
        """
        request_id = str(uuid.uuid4())
        query = protocol.parse_query(raw_query)
        if raw_path in ("", "/"):
            return self._root(method, query, headers, body, request_id), "-"
        if self.control is not None and raw_path.startswith(CONTROL_PREFIX):
            answer = self.control.answer(method, raw_path, body)
            content = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
            return HttpResponse(answer.status, content, answer.body()), "control"
        if automation_http.is_lambda(raw_path):
            return self._lambda(method, raw_path, query, headers, body, request_id), "lambda"
        try:
            operation, labels = protocol.route(self.model, method, raw_path, query)
        except SimulatorError as exc:
            return protocol.serialize_error(self.model, exc, request_id), "-"
        backend: Backend = self.backend
        if self.estate is not None:
            try:
                backend = self.estate.target(headers, query)
            except SimulatorError as exc:
                return protocol.serialize_error(self.model, exc, request_id), operation
        fault: TransportFault | None = None
        try:
            with self._backend_lock:
                fault = backend.transport_fault(operation)
                arrival = backend.clock.now_ts()
            if fault is not None and fault.kind == "hold":
                if not self._hold(fault, operation, arrival):
                    return None, operation  # the server is stopping: the action is not carried out
            elif fault is not None and fault.kind not in AFTER_ACTION_FAULTS:
                faulted = self._apply_fault(fault, operation, request_id)
                if not isinstance(faulted, bool):
                    return faulted, operation
            params = protocol.parse_input(
                self.model,
                operation,
                labels=labels,
                query=query,
                headers=headers,
                body=body,
                content_type=headers.get("content-type"),
            )
            with self._backend_lock:
                result = backend.handle(operation, params)
            response = protocol.serialize_output(
                self.model, operation, result, request_id, strict=self.strict_output
            )
        except SimulatorError as exc:
            response = protocol.serialize_error(self.model, exc, request_id)
        except Exception:
            logger.exception("Simulator failed serving %s (request %s)", operation, request_id)
            response = protocol.internal_error(request_id, self.model)
        if fault is not None and fault.kind == "hold":
            self.holds.carried_out()
        if fault is not None and fault.kind in AFTER_ACTION_FAULTS:
            # The backend has answered (the action happened, or was refused); the client never knows.
            lost = self._apply_fault(fault, operation, request_id)
            return (None if isinstance(lost, bool) else lost), operation
        return response, operation

    def _hold(self, fault: TransportFault, operation: str, arrival: float) -> bool:
        """Wait until the virtual clock is ``hold_seconds`` past ``arrival``; False if stopping first."""
        logger.debug("Holding %s for %.0f virtual seconds", operation, fault.hold_seconds)
        self.holds.entered()
        released = False
        try:
            released = self.backend.clock.wait_until(
                arrival + fault.hold_seconds, cancelled=self._stopping.is_set
            )
        finally:
            self.holds.left(released)
        return released

    def _apply_fault(
        self, fault: TransportFault, operation: str, request_id: str
    ) -> HttpResponse | bool | None:
        """The fault's response, None to drop, or True to go on serving (after latency)."""
        logger.debug("Injecting %s fault into %s", fault.kind, operation)
        if fault.kind == "latency":
            self._stopping.wait(max(0.0, fault.delay_seconds))
            return True
        if fault.kind in ANSWERING_FAULTS:
            return fault_response(self.model, fault, request_id)
        logger.warning("Unknown transport fault %r ignored", fault.kind)
        return True

    def _root(
        self,
        method: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        request_id: str,
    ) -> HttpResponse | None:
        """``/``: STS (query protocol, form-encoded) or a health probe."""
        form: dict[str, list[str]] = dict(query)
        content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            try:
                form.update(protocol.parse_query(body.decode("utf-8")))
            except UnicodeDecodeError:
                return sts.error(request_id, "MalformedQueryString", "The request body is not UTF-8")
        if automation_http.is_ssm(headers):
            return self._ssm(headers, query, body, request_id)
        if "Action" in form:
            if sns.is_sns(form, credential_of(headers, query).service):
                return self._sns(form, headers, query, request_id)
            if _is_ec2(form, headers, query):
                return self._ec2(form, headers, query, request_id)
            return self._sts(form, headers, query, request_id)
        if method in ("GET", "HEAD"):
            document = {"service": "drs", "simulator": True, "operations": len(self.model.operation_names)}
            return HttpResponse(
                200,
                [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)],
                json.dumps(document).encode(),
            )
        try:
            protocol.route(self.model, method, "/", query)
        except SimulatorError as exc:
            return protocol.serialize_error(self.model, exc, request_id)
        return protocol.internal_error(request_id, self.model)  # pragma: no cover - "/" is no DRS route

    def _ec2(
        self,
        form: dict[str, list[str]],
        headers: Mapping[str, str],
        query: dict[str, list[str]],
        request_id: str,
    ) -> HttpResponse:
        """EC2 (``simulator/ec2.py``) on the world the request's credentials reach."""
        if self.estate is None:
            backend = self.backend
            ec2_answer = getattr(backend, "ec2_answer", None)
            if ec2_answer is None:  # a protocol test's FakeWorld: no EC2 world behind it
                return ec2.respond(form, request_id, None)
            answer: HttpResponse = ec2_answer(form, request_id)
            return answer
        try:
            target = self.estate.ec2_target(headers, query)
        except SimulatorError as exc:
            code = "AuthFailure" if exc.status in (401, 403) else exc.code
            return ec2_protocol.error(request_id, code, exc.message, exc.status or 400)
        return target.backend.ec2_answer(form, request_id, target.principal.arn)

    def _sns(
        self,
        form: dict[str, list[str]],
        headers: Mapping[str, str],
        query: dict[str, list[str]],
        request_id: str,
    ) -> HttpResponse:
        """SNS (``simulator/sns.py``): the estate's topics, for the caller's account and Region."""
        if self.estate is None:
            return sns.error(request_id, "InternalError", "No world serves SNS", 500)
        try:
            target = self.estate.target(headers, query)
        except SimulatorError as exc:
            code = "AuthorizationError" if exc.status in (401, 403) else exc.code
            return sns.error(request_id, code, exc.message, exc.status or 400)
        region = credential_of(headers, query).region or target.region
        action = form.get("Action", [""])[0]
        fault = target.backend.automation_fault(f"sns:{action}")
        return sns.respond(
            self.estate.sns,
            form,
            request_id,
            account=target.account_id,
            region=region,
            now=target.backend.clock.now_ts(),
            throttled=fault is not None and fault.kind == "throttle",
        )

    def _world_of(self, headers: Mapping[str, str], query: dict[str, list[str]]) -> Any:
        """The world (``DrsBackend``) the request's credentials reach; SimulatorError when refused."""
        if self.estate is None:
            return self.backend
        return self.estate.target(headers, query).backend

    def _ssm(
        self, headers: Mapping[str, str], query: dict[str, list[str]], body: bytes, request_id: str
    ) -> HttpResponse | None:
        """SSM Run Command (JSON 1.1, ``automation_http``) on the world the credentials reach."""
        try:
            world = self._world_of(headers, query)
        except SimulatorError as exc:
            return automation_http.ssm_refusal(request_id, exc.code, exc.message, exc.status or 400)
        if getattr(world, "ssm_call", None) is None:  # a protocol test's FakeWorld
            return automation_http.ssm_refusal(request_id, "InternalServerError", "No world serves SSM", 500)
        return automation_http.ssm_respond(world, headers, body, request_id)

    def _lambda(
        self,
        method: str,
        raw_path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        request_id: str,
    ) -> HttpResponse | None:
        """Lambda (REST-JSON, ``automation_http``): a slow function's answer waits on the virtual clock."""
        try:
            world = self._world_of(headers, query)
        except SimulatorError as exc:
            return automation_http.lambda_refusal(request_id, exc.code, exc.message, exc.status or 400)
        if getattr(world, "lambda_call", None) is None:
            return automation_http.lambda_refusal(
                request_id, "ServiceException", "No world serves Lambda", 500
            )

        def wait(ts: float) -> bool:
            return self.backend.clock.wait_until(ts, cancelled=self._stopping.is_set)

        return automation_http.lambda_respond(world, method, raw_path, query, headers, body, request_id, wait)

    def _sts(
        self,
        form: dict[str, list[str]],
        headers: Mapping[str, str],
        query: dict[str, list[str]],
        request_id: str,
    ) -> HttpResponse:
        with self._backend_lock:
            if self.estate is not None:
                return self.estate.sts(form, headers, query, request_id)
            return sts.respond(form, request_id, self.backend.caller_identity)
