"""The probe script a health check sends through SSM (``engine.health_script``), run by a real ``sh`` on
this machine against real loopback listeners, and the simulator's reading of the same text
(``simulator.ssm_probe``): both answer the same lines, and the desktop reads them back."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from drs_desktop.domain.engine.health_script import NO_ANSWER, PROBE_MARKER, probe_script, read_probe_output
from drs_desktop.domain.plan.automation import HealthCheckStep, Probe, Reach
from drs_desktop.simulator.ssm_probe import ProbeScriptError, parse_probe_script, run_probe_script


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"it's READY\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def web() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sh(lines: tuple[str, ...]) -> str:
    done = subprocess.run(["sh", "-c", "\n".join(lines)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def step(probe: Probe, port: int, **extra: Any) -> HealthCheckStep:
    return HealthCheckStep(
        name="p", probe=probe, port=port, reach=Reach.SSM, via="i-via", interval_seconds=3, **extra
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="the HTTP probe runs curl")
def test_a_real_sh_probes_http_and_the_body_with_a_quote_in_it(web: int) -> None:
    lines = probe_script(
        step(Probe.HTTP, web, path="/health", expect_body="it's READY"), [("s-up", "127.0.0.1")]
    )
    assert lines[0] == PROBE_MARKER
    closed = _closed_port()
    down = probe_script(step(Probe.HTTP, closed), [("s-down", "127.0.0.1")])
    wrong = probe_script(step(Probe.HTTP, web, expect_status=204), [("s-odd", "127.0.0.1")])
    out = _sh(lines) + _sh(down) + _sh(wrong)
    jobs = [("s-up", "i-1", ""), ("s-down", "i-2", ""), ("s-odd", "i-3", ""), ("s-none", "i-4", "")]
    results = {r.server_id: (r.status, r.detail) for r in read_probe_output(out, jobs)}
    assert results["s-up"] == ("PASS", "127.0.0.1: HTTP 200")
    assert results["s-down"] == ("FAIL", f"127.0.0.1: HTTP {closed}/: curl exit 7")
    assert results["s-odd"] == ("FAIL", "127.0.0.1: HTTP 200 (expected 204)")
    assert results["s-none"] == ("FAIL", NO_ANSWER)


@pytest.mark.skipif(
    shutil.which("bash") is None and shutil.which("nc") is None, reason="TCP needs bash or nc"
)
def test_a_real_sh_probes_tcp_ports_at_once(web: int) -> None:
    closed = _closed_port()
    lines = probe_script(step(Probe.TCP, web), [("s-a", "127.0.0.1")]) + probe_script(
        step(Probe.TCP, closed), [("s-b", "127.0.0.1")]
    )
    out = _sh(lines[: lines.index("wait")]) + _sh(
        probe_script(step(Probe.TCP, closed), [("s-b", "127.0.0.1")])
    )
    results = {r.server_id: r for r in read_probe_output(out, [("s-a", "", ""), ("s-b", "", "")])}
    assert results["s-a"].status == "PASS" and results["s-a"].detail == f"127.0.0.1: TCP {web} open"
    assert results["s-b"].status == "FAIL" and "refused or no answer within 3 s" in results["s-b"].detail


def test_the_simulator_reads_the_same_script_and_probes_exactly_what_it_names(web: int) -> None:
    lines = probe_script(
        step(Probe.HTTP, web, path="/health", expect_body="it's READY"),
        [("s-up", "10.0.1.5"), ("s-bare", "10.0.1.6"), ("s-gone", "10.0.1.7")],
    )
    script = parse_probe_script(["\n".join(lines)])
    assert (script.kind, script.port, script.path, script.body, script.status) == (
        "http",
        web,
        "/health",
        "it's READY",
        200,
    )
    asked: list[str] = []

    def resolve(address: str) -> str | None:
        asked.append(address)
        return {"10.0.1.5": "127.0.0.1", "10.0.1.6": ""}.get(address)

    out = run_probe_script(script, resolve)
    assert asked == ["10.0.1.5", "10.0.1.6", "10.0.1.7"]
    assert out.splitlines() == [
        "PASS s-up 10.0.1.5: HTTP 200",
        f"FAIL s-bare 10.0.1.6: HTTP {web}/health: curl exit 7",
        f"FAIL s-gone 10.0.1.7: HTTP {web}/health: curl exit 28",
    ]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda s: s + "\ncurl http://evil/", "nothing may follow wait"),
        (lambda s: s.replace("KIND='http'", "KIND='ftp'"), "KIND must be"),
        (lambda s: s.replace("PORT='8080'", "PORT='80; rm -rf /'"), "PORT must be a number"),
        (
            lambda s: s.replace("probe 's-1' '10.0.0.9' &", "probe 's-1' '10.0.0.9'"),
            "not a line of the probe",
        ),
    ],
)
def test_a_marked_script_off_the_format_is_refused_with_the_line(change: Any, why: str) -> None:
    text = "\n".join(probe_script(step(Probe.HTTP, 8080), [("s-1", "10.0.0.9")]))
    with pytest.raises(ProbeScriptError, match=why):
        parse_probe_script([change(text)])


def test_the_script_refuses_a_target_that_is_not_an_address() -> None:
    with pytest.raises(ValueError, match="not a server ID and an IP address"):
        probe_script(step(Probe.TCP, 22), [("s-1", "10.0.0.1; reboot")])
