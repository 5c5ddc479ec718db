"""``drs-desktop --self-test`` makes no call to AWS, as its help promises, even with AWS credentials,
a region and an endpoint in the environment.

The environment points every AWS endpoint (``AWS_ENDPOINT_URL``) and the HTTPS proxy at a loopback socket
this test owns; the socket records every connection. The self-test's own simulator is reached on its own
loopback port with an explicit endpoint, so it is not counted. Before the fix the servers pane's first
refresh sent DescribeSourceServers (three attempts) with the environment's keys.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


class ConnectionRecorder:
    """A loopback TCP socket that accepts, records the first bytes of each connection, and closes it."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = int(self._server.getsockname()[1])
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="connection-recorder", daemon=True)

    def __enter__(self) -> ConnectionRecorder:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _address = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    first = conn.recv(200)
                except OSError:
                    first = b""
                self.requests.append(first or b"<connected, sent nothing>")


@pytest.fixture
def recorder() -> Iterator[ConnectionRecorder]:
    with ConnectionRecorder() as listening:
        yield listening


def test_self_test_makes_no_call_to_aws(recorder: ConnectionRecorder, tmp_path: Path) -> None:
    trap = f"http://127.0.0.1:{recorder.port}"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "DRS_DESKTOP_HOME": str(tmp_path / "home"),
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": trap,  # every AWS service, unless a client is given its own endpoint
        "HTTPS_PROXY": trap,  # and anything bound for real AWS over HTTPS
        "https_proxy": trap,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-m", "drs_desktop", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "self-test: ok" in done.stdout
    assert "self-test: drill: 3-server drill in 2 waves SUCCEEDED" in done.stdout
    assert recorder.requests == []


def test_the_recorder_does_see_a_call_to_aws(recorder: ConnectionRecorder) -> None:
    """The trap works: a DRS call made with the same environment is recorded."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    client = boto3.session.Session(
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x", region_name="us-east-1"
    ).client(
        "drs",
        endpoint_url=f"http://127.0.0.1:{recorder.port}",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=1, connect_timeout=1),
    )
    with pytest.raises(BotoCoreError):
        client.describe_source_servers()
    assert len(recorder.requests) == 1 and recorder.requests[0].startswith(b"POST /DescribeSourceServers")
