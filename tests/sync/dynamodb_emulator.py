"""moto's DynamoDB in server mode, on a free loopback port, for the sync tests (issue 14).

AWS's DynamoDB Local may not be used (its licence is the vendor's own terms, not open source): the tests
talk to moto's server over HTTP with the real boto3 client, as the application talks to DynamoDB. The
server runs as its own process (``python -m moto.server``), so a test can stop it (``stop``: every
connection refused, like a table out of reach) and start it again on the same port (``start``). moto keeps
its tables in memory: a restart starts empty unless the test keeps state another way. It answers one
request at a time (``tests/sync/serial_moto.py``), so that each request is atomic, as in DynamoDB.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3

#: Keys moto accepts (it checks none); the tests' AWS config files are /dev/null (tests/conftest.py).
KEY = "testing"
REGION = "us-east-1"
#: Seconds the server may take to answer after it starts (a process start: imports, then the port).
START_SECONDS = 60
#: moto's server, serving one request at a time.
SERIAL_SERVER = Path(__file__).with_name("serial_moto.py")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DynamoDbEmulator:
    """One moto server process on ``127.0.0.1:port``."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        # One request at a time, each atomic as in DynamoDB (tests/sync/serial_moto.py says why).
        command = [sys.executable, str(SERIAL_SERVER), "127.0.0.1", str(self.port)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_SECONDS
        while not self._answers():
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"moto's server exited with {self._process.returncode} on port {self.port}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto's server did not answer on port {self.port} in {START_SECONDS} s")
            time.sleep(0.05)  # a process starting: polled, there is no event to wait on

    def stop(self) -> None:
        """Kill the server (SIGKILL): connections are refused from now on."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(10)
        self._process = None

    def client(self, **overrides: Any) -> Any:
        """A real boto3 DynamoDB client on the emulator."""
        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": REGION,
            "aws_access_key_id": KEY,
            "aws_secret_access_key": KEY,
        }
        kwargs.update(overrides)
        return boto3.session.Session().client("dynamodb", **kwargs)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False
