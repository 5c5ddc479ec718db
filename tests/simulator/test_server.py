"""The HTTP server: bad input over raw sockets, keep-alive, timeouts, faults, STS, loopback-only binding."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from email.utils import formatdate
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError

from drs_desktop.simulator.contract import TransportFault
from drs_desktop.simulator.server import SimulatorServer
from tests.simulator.conftest import make_client
from tests.simulator.fake_world import FakeWorld

Response = tuple[int, dict[str, str], bytes]


def request(
    server: SimulatorServer, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def raw_exchange(server: SimulatorServer, data: bytes) -> bytes:
    """Send raw bytes and read until the server closes the connection (bounded by a 5 s timeout)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def assert_error(response: Response, status: int, error_type: str) -> dict[str, Any]:
    got_status, headers, body = response
    assert got_status == status, body
    assert headers["x-amzn-errortype"] == error_type
    assert headers["content-type"] == "application/json"
    assert b"Traceback" not in body
    document = json.loads(body)
    assert document["message"]
    return document


JSON = {"Content-Type": "application/json"}


def test_malformed_json_is_a_validation_exception_cannot_parse(server: SimulatorServer) -> None:
    for body in (b'{"maxResults": ', b"[1, 2]", b'{"maxResults": NaN}', b"\xff\xfe{}"):
        document = assert_error(
            request(server, "POST", "/DescribeJobs", body, JSON), 400, "ValidationException"
        )
        assert document["reason"] == "cannotParse"
        assert document["code"] == "ValidationException"


def test_body_needs_a_json_content_type(server: SimulatorServer) -> None:
    assert_error(
        request(server, "POST", "/DescribeJobs", b"{}", {"Content-Type": "text/plain"}),
        415,
        "UnsupportedMediaTypeException",
    )
    assert_error(request(server, "POST", "/DescribeJobs", b"{}"), 415, "UnsupportedMediaTypeException")
    ok = request(server, "POST", "/DescribeJobs", b"{}", {"Content-Type": "application/json; charset=utf-8"})
    assert ok[0] == 200


def test_unknown_members_are_ignored_and_null_means_unset(server: SimulatorServer, world: FakeWorld) -> None:
    body = json.dumps({"bogus": 1, "maxResults": 5, "nextToken": None}).encode()
    status, _, _ = request(server, "POST", "/DescribeJobs", body, JSON)
    assert status == 200
    assert world.calls[-1] == ("DescribeJobs", {"maxResults": 5})


def test_unknown_path_and_wrong_method(server: SimulatorServer) -> None:
    assert_error(request(server, "POST", "/NoSuchOperation", b"{}", JSON), 404, "UnknownOperationException")
    response = request(server, "GET", "/DescribeJobs")
    assert_error(response, 405, "UnknownOperationException")
    assert response[1]["allow"] == "POST"
    assert_error(request(server, "BREW", "/DescribeJobs"), 405, "UnknownOperationException")
    assert_error(request(server, "BREW", "/coffee"), 404, "UnknownOperationException")


def test_unknown_operation_via_boto3_is_a_client_error(server: SimulatorServer) -> None:
    drs = make_client(server.endpoint_url)
    drs.meta.events.register("before-send", lambda request, **_: setattr(request, "url", request.url + "X"))
    with pytest.raises(ClientError) as info:
        drs.describe_jobs()
    assert info.value.response["Error"]["Code"] == "UnknownOperationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_oversize_body_is_refused_without_reading_it() -> None:
    with SimulatorServer(FakeWorld(), max_body_bytes=1024, request_timeout=5) as server:
        # The declared body is never sent: the server must answer at once rather than wait for it.
        started = time.monotonic()
        data = raw_exchange(
            server,
            b"POST /DescribeJobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n",
        )
        assert time.monotonic() - started < 4
        assert data.startswith(b"HTTP/1.1 413 ")
        assert b"x-amzn-ErrorType: RequestEntityTooLargeException" in data
        assert b"Connection: close" in data
        with_expect = raw_exchange(
            server,
            b"POST /DescribeJobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
        )
        assert with_expect.startswith(b"HTTP/1.1 413 ")
        assert b"100 Continue" not in with_expect


def test_bad_framing_gets_an_http_error(server: SimulatorServer) -> None:
    chunked = raw_exchange(
        server,
        b"POST /DescribeJobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    assert chunked.startswith(b"HTTP/1.1 411 ")
    bad_length = raw_exchange(server, b"POST /DescribeJobs HTTP/1.1\r\nHost: x\r\nContent-Length: -4\r\n\r\n")
    assert bad_length.startswith(b"HTTP/1.1 400 ")
    garbage = raw_exchange(server, b"\x00\x01 garbage\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 ") or garbage.startswith(b"HTTP/1.0 400 ")
    assert b"Traceback" not in chunked + bad_length + garbage
    assert request(server, "POST", "/DescribeJobs", b"{}", JSON)[0] == 200  # still serving


def test_health_probe(server: SimulatorServer) -> None:
    status, headers, body = request(server, "GET", "/")
    assert status == 200
    assert json.loads(body)["simulator"] is True
    assert int(headers["content-length"]) == len(body)


def test_keep_alive_reuses_the_connection_across_200_and_204(server: SimulatorServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("POST", "/InitializeService")
        first = conn.getresponse()
        assert first.status == 204
        assert first.read() == b""
        sock = conn.sock
        for _ in range(3):
            conn.request("POST", "/DescribeJobs", body=b"{}", headers=JSON)
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200
            assert resp.getheader("Content-Length") == str(len(body))
        assert conn.sock is sock
    finally:
        conn.close()


def test_half_sent_request_times_out_without_blocking_others() -> None:
    with SimulatorServer(FakeWorld(), request_timeout=0.3, idle_timeout=0.5) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as half_body:
            half_body.sendall(
                b"POST /DescribeJobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 50\r\n\r\n{"
            )
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as half_headers:
                half_headers.sendall(b"POST /DescribeJobs HTTP/1.1\r\nHost: x\r\n")
                # Both stalled clients hold a thread each; a third client is still served.
                drs = make_client(server.endpoint_url)
                assert drs.describe_jobs()["items"] == []
                assert half_headers.recv(1024) == b""  # closed after the timeout, no answer owed
            answer = half_body.recv(65536)
            assert answer.startswith(b"HTTP/1.1 408 ")


def test_stop_cuts_idle_keep_alive_connections_promptly() -> None:
    server = SimulatorServer(FakeWorld(), idle_timeout=30).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/DescribeJobs", body=b"{}", headers=JSON)
    assert conn.getresponse().read()
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    assert conn.sock is not None and conn.sock.recv(1) == b""
    conn.close()
    server.stop()  # idempotent


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::1", "::"])
def test_binds_loopback_only(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SimulatorServer(FakeWorld(), host=host)


def test_localhost_means_127_0_0_1_and_endpoint_url() -> None:
    server = SimulatorServer(FakeWorld(), host="localhost")
    with pytest.raises(RuntimeError):
        _ = server.endpoint_url
    with server:
        assert server.endpoint_url == f"http://127.0.0.1:{server.port}"
        assert server.port > 0


# --- transport faults --------------------------------------------------------------------------------


def test_throttle_fault_is_a_429_with_retry_after(server: SimulatorServer, world: FakeWorld) -> None:
    world.faults["DescribeJobs"] = TransportFault("throttle", retry_after=7)
    drs = make_client(server.endpoint_url)
    with pytest.raises(drs.exceptions.ThrottlingException) as info:
        drs.describe_jobs()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert info.value.response["retryAfterSeconds"] == "7"
    assert world.calls == []


def test_server_error_fault_uses_its_status(server: SimulatorServer, world: FakeWorld) -> None:
    world.faults["DescribeJobs"] = TransportFault("server_error", status=503)
    drs = make_client(server.endpoint_url)
    with pytest.raises(drs.exceptions.InternalServerException) as info:
        drs.describe_jobs()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_dropped_connection_is_a_botocore_connection_error(server: SimulatorServer, world: FakeWorld) -> None:
    world.faults["StartRecovery"] = TransportFault("drop")
    drs = make_client(server.endpoint_url)
    with pytest.raises(ConnectionClosedError):
        drs.start_recovery(sourceServers=[{"sourceServerID": world.servers[0]["sourceServerID"]}])
    assert world.calls == []  # dropped before the world saw it
    del world.faults["StartRecovery"]
    assert drs.describe_jobs()["items"] == []  # the pool recovers


def test_latency_fault_delays_then_serves(server: SimulatorServer, world: FakeWorld) -> None:
    world.faults["DescribeJobs"] = TransportFault("latency", delay_seconds=0.2)
    drs = make_client(server.endpoint_url)
    started = time.monotonic()
    assert drs.describe_jobs()["items"] == []
    assert time.monotonic() - started >= 0.2


def test_after_action_faults_carry_the_call_out_then_lose_the_answer(
    server: SimulatorServer, world: FakeWorld
) -> None:
    drs = make_client(server.endpoint_url)
    sid = world.servers[0]["sourceServerID"]
    world.faults["StartRecovery"] = TransportFault("drop_after")
    with pytest.raises(ConnectionClosedError):
        drs.start_recovery(sourceServers=[{"sourceServerID": sid}])
    world.faults["StartRecovery"] = TransportFault("server_error_after", status=502)
    with pytest.raises(drs.exceptions.InternalServerException) as info:
        drs.start_recovery(sourceServers=[{"sourceServerID": sid}])
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert [op for op, _ in world.calls] == ["StartRecovery", "StartRecovery"]  # both carried out
    del world.faults["StartRecovery"]
    assert len(drs.describe_jobs()["items"]) == 2


def test_held_call_waits_for_the_backends_clock(server: SimulatorServer, world: FakeWorld) -> None:
    world.faults["DescribeJobs"] = TransportFault("hold", hold_seconds=60)
    drs = make_client(server.endpoint_url)
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(drs.describe_jobs()))
    thread.start()
    assert server.holds.wait_holding(1, timeout=5)
    assert world.calls == []
    world.clock.advance(60)
    thread.join(timeout=5)
    assert not thread.is_alive() and answers[0]["items"] == []
    assert [op for op, _ in world.calls] == ["DescribeJobs"] and server.holds.total_carried_out == 1


def test_every_answer_is_dated_by_the_backends_clock(server: SimulatorServer, world: FakeWorld) -> None:
    world.clock.advance(3600)
    expected = formatdate(world.clock.now_ts(), usegmt=True)
    assert request(server, "GET", "/")[1]["date"] == expected
    # http.server's own errors (a malformed request line) go through send_error: dated the same way.
    head = raw_exchange(server, b"NONSENSE\r\n\r\n").split(b"\r\n\r\n")[0].decode()
    assert f"Date: {expected}" in head.split("\r\n")


# --- STS and logging ---------------------------------------------------------------------------------


def test_sts_get_caller_identity(server: SimulatorServer) -> None:
    sts = make_client(server.endpoint_url, "sts")
    identity = sts.get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/demo"
    assert identity["UserId"] == "AIDASIMULATORDEMO0001"
    with pytest.raises(ClientError) as info:
        sts.get_session_token()
    assert info.value.response["Error"]["Code"] == "InvalidAction"


def test_one_debug_line_per_request(server: SimulatorServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="drs_desktop.simulator.server")
    request(server, "POST", "/DescribeJobs", b"{}", JSON)
    lines = [r.getMessage() for r in caplog.records if r.name == "drs_desktop.simulator.server"]
    assert any(line.startswith("POST /DescribeJobs -> 200 DescribeJobs") for line in lines)
