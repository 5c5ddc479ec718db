"""Found in the last review of issue 17 (rev17b): a plan's values that reach a program or a shell.

- A trusted script is trusted as a file; the plan still names the environment it runs with. A variable
  that makes the shell or the loader run other code (``BASH_ENV``, ``LD_PRELOAD``, ``PS4`` with
  ``SHELLOPTS``...) would let a plan from a file or a sync run any command through any trusted script.
- The SSM probe script's curl must read the path as the desktop's probe does (no ``[1-3]``/``{a,b}``
  globbing), and its body match must be the desktop's substring match, not grep's one-pattern-per-line.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from drs_desktop.domain.engine.automation_events import AutomationAnswered, AutomationSent
from drs_desktop.domain.engine.commands import RunAutomation
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.health_script import probe_script, read_probe_output
from drs_desktop.domain.plan.automation import HealthCheckStep, Probe, Reach, ScriptStep, StepPolicy
from drs_desktop.domain.plan.validation_automation import step_problems
from drs_desktop.services.automation_calls import AutomationCalls, trust_check
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.storage.db import Database

pytestmark = pytest.mark.timeout(120)


def _command(step: ScriptStep) -> RunAutomation:
    return RunAutomation(
        execution_id="exec-1",
        plan_name="Shop",
        mode="DRILL",
        key="0:AFTER:0",
        attempt=1,
        step=step,
        targets=(),
        comment="drs-desktop exec-1 step 0:AFTER:0 attempt 1",
    )


def _calls(db: Database, events: list[Event]) -> AutomationCalls:
    def nothing(_target: str) -> Any:
        raise AssertionError("a script calls no AWS service")

    return AutomationCalls(
        ssm=nothing,
        lambdas=nothing,
        ec2=nothing,
        own_lambda=nothing,
        trust=trust_check(db),
        record=events.append,
        clock=lambda: datetime.now(UTC),
        wake=lambda: None,
    )


@pytest.fixture
def trusted_bash(tmp_path: Path, db: Database) -> Path:
    script = tmp_path / "dns.sh"
    script.write_text("#!/bin/bash\necho moved\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    ScriptTrustService(db).trust(str(script))
    return script


@pytest.mark.skipif(shutil.which("bash") is None, reason="BASH_ENV is bash's")
def test_a_plan_s_environment_cannot_make_a_trusted_script_run_other_code(
    tmp_path: Path, db: Database, trusted_bash: Path
) -> None:
    """BASH_ENV is expanded (command substitution included) by every non-interactive bash: a plan that
    sets it runs its own command through the trusted script. Validation refuses the name, and the runner
    refuses to start the script with it (a plan may reach the runner unvalidated: a synced one)."""
    pwned = tmp_path / "pwned"
    step = ScriptStep(
        name="dns",
        path=str(trusted_bash),
        environment={"BASH_ENV": f"$(touch {pwned})"},
        policy=StepPolicy(timeout_seconds=30),
    )
    assert any(key == "environment.BASH_ENV" for key, _ in step_problems(step))
    events: list[Event] = []
    calls = _calls(db, events)
    calls.run(_command(step))
    assert calls.wait(20.0)
    calls.drain()
    assert not pwned.exists(), "the plan's value ran as a command"
    answered = events[-1]
    assert isinstance(answered, AutomationAnswered) and not answered.ok
    assert "BASH_ENV" in answered.detail
    assert not any(isinstance(e, AutomationSent) for e in events), "the script was not started"


@pytest.mark.parametrize(
    "name",
    ["LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "PS4", "SHELLOPTS", "PATH", "PYTHONPATH", "PERL5OPT", "ENV"],
)
def test_validation_refuses_variables_that_load_or_run_code(name: str) -> None:
    step = ScriptStep(name="s", path="/opt/run.sh", environment={name: "x"})
    assert [key for key, _ in step_problems(step)] == [f"environment.{name}"]


def test_an_ordinary_variable_still_passes(db: Database, trusted_bash: Path) -> None:
    step = ScriptStep(name="s", path=str(trusted_bash), environment={"ZONE": "example.org", "TTL": "60"})
    assert step_problems(step) == []
    events: list[Event] = []
    calls = _calls(db, events)
    calls.run(_command(step))
    assert calls.wait(20.0)
    calls.drain()
    answered = events[-1]
    assert isinstance(answered, AutomationAnswered) and answered.ok, answered


# -- the SSM probe script, run by a real sh


class _Paths(BaseHTTPRequestHandler):
    """200 with 'status: DOWN' for every path, and notes each path asked."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).asked.append(self.path)
        body = b"status: DOWN\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def web() -> Iterator[int]:
    _Paths.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Paths)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


def _probe(step: HealthCheckStep) -> tuple[str, str]:
    lines = probe_script(step, [("s-1", "127.0.0.1")])
    done = subprocess.run(["sh", "-c", "\n".join(lines)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (result,) = read_probe_output(done.stdout, [("s-1", "i-1", "127.0.0.1")])
    return result.status, result.detail


def _http(port: int, **extra: Any) -> HealthCheckStep:
    return HealthCheckStep(
        name="p", probe=Probe.HTTP, port=port, reach=Reach.SSM, via="i-0123456789abcdef0", **extra
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="the HTTP probe runs curl")
def test_the_probe_asks_for_the_path_as_written_not_as_a_curl_glob(web: int) -> None:
    status, detail = _probe(_http(web, path="/health?ids[1-3]=a&f={x,y}"))
    assert _Paths.asked == ["/health?ids[1-3]=a&f={x,y}"]
    assert (status, detail) == ("PASS", "127.0.0.1: HTTP 200")


def test_an_expected_body_is_one_line() -> None:
    """grep -F takes each line of its pattern as a pattern of its own: 'READY<newline>DOWN' would pass on
    a page saying DOWN, and a trailing line break on any page. The plan refuses it, and so does the script."""
    step = _http(80, expect_body="READY\nDOWN")
    assert [key for key, _ in step_problems(step)] == ["expect_body"]
    with pytest.raises(ValueError, match="one line"):
        probe_script(step, [("s-1", "10.0.0.1")])
