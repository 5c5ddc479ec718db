"""A loopback HTTP proxy in front of the DynamoDB emulator that refuses chosen operations.

moto switches point-in-time recovery on when asked; AWS's own emulators and restricted accounts do not.
To see what ``sync init`` says then, the test puts this proxy between the real boto3 client and moto:
it answers the operations named in ``refuse`` (by their ``X-Amz-Target``) with DynamoDB's JSON error
and forwards every other request, byte for byte, to the emulator. moto's tables are ACTIVE at once; to
see ``init`` wait for a new table, the proxy can also say CREATING in the first DescribeTable answers.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_ACTIVE = re.compile(rb'"TableStatus":\s*"ACTIVE"')
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class RefusingProxy:
    """``endpoint_url`` forwards to ``upstream`` except for the operations in ``refuse``, answered with
    HTTP 400 and ``code`` (DynamoDB's ``__type``), at most ``times`` times each (None: always).
    ``refused`` counts the refusals per operation."""

    def __init__(
        self,
        upstream: str,
        refuse: set[str],
        code: str = "UnknownOperationException",
        times: int | None = None,
        creating: int = 0,
    ) -> None:
        self.refuse = set(refuse)
        self.creating = creating  # this many DescribeTable answers say CREATING instead of ACTIVE
        self.code = code
        self.times = times
        self.refused: dict[str, int] = {}
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                done = proxy.refused.get(operation, 0)
                if operation in proxy.refuse and (proxy.times is None or done < proxy.times):
                    proxy.refused[operation] = proxy.refused.get(operation, 0) + 1
                    payload = json.dumps(
                        {"__type": f"com.amazonaws.dynamodb.v20120810#{proxy.code}", "message": "not here"}
                    ).encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                connection = http.client.HTTPConnection(*proxy._upstream, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    connection.request("POST", self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                finally:
                    connection.close()
                if operation == "DescribeTable" and proxy.creating > 0 and _ACTIVE.search(data):
                    proxy.creating -= 1
                    data = _ACTIVE.sub(b'"TableStatus": "CREATING"', data)
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() == "x-amz-crc32":  # botocore checks it: the body's, as sent
                        value = str(zlib.crc32(data))
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RefusingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
