"""A loopback HTTP proxy in front of the DynamoDB emulator that refuses chosen operations, throttles
writes and drops connections.

moto switches point-in-time recovery on when asked; AWS's own emulators and restricted accounts do not.
To see what ``sync init`` says then, the test puts this proxy between the real boto3 client and moto:
it answers the operations named in ``refuse`` (by their ``X-Amz-Target``) with DynamoDB's JSON error
and forwards every other request, byte for byte, to the emulator. moto's tables are ACTIVE at once; to
see ``init`` wait for a new table, the proxy can also say CREATING in the first DescribeTable answers.

Emulators never throttle and never lose a connection, so ``faults`` can do both to the write calls
(``WRITE_OPERATIONS``): it is asked, for each write, with the operation and that operation's running
number (1-based, every attempt counted, retries too), and answers None (forward it) or a fault:
``PROVISIONED_THROUGHPUT`` / ``THROTTLING`` (HTTP 400 with the body DynamoDB sends),
``CANCELLED_THROTTLED`` (a TransactWriteItems cancelled with the ``ThrottlingError`` reason), ``DROP``
(the connection closed before the request reaches the emulator: nothing done) or ``LOSE`` (the request
forwarded and done, then the connection closed before the answer: the client cannot tell what happened).
``faulted`` lists what was done, in order.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_ACTIVE = re.compile(rb'"TableStatus":\s*"ACTIVE"')
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}

#: The DynamoDB operations ``faults`` is asked about.
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem"})
PROVISIONED_THROUGHPUT = "ProvisionedThroughputExceededException"
THROTTLING = "ThrottlingException"
CANCELLED_THROTTLED = "TransactionCanceledException/ThrottlingError"
DROP = "drop"
LOSE = "lose"

#: What DynamoDB answers (HTTP 400) for each throttling fault, as it sends it.
_THROTTLE_BODIES: dict[str, dict[str, object]] = {
    PROVISIONED_THROUGHPUT: {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    },
    THROTTLING: {
        "__type": "com.amazon.coral.availability#ThrottlingException",
        "message": "Throughput exceeds the current capacity of your table or index. DynamoDB is "
        "automatically scaling your table or index so please try again shortly.",
    },
    CANCELLED_THROTTLED: {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ThrottlingError, None]",
        "CancellationReasons": [
            {
                "Code": "ThrottlingError",
                "Message": "Throughput exceeds the current capacity of your table or index.",
            },
            {"Code": "None"},
        ],
    },
}

#: ``faults(operation, n)``: None, or the fault for the ``n``-th call (1-based) of that write operation.
Faults = Callable[[str, int], str | None]


class RefusingProxy:
    """``endpoint_url`` forwards to ``upstream`` except for the operations in ``refuse``, answered with
    HTTP 400 and ``code`` (DynamoDB's ``__type``), at most ``times`` times each (None: always), and the
    write calls ``faults`` picks. ``refused`` counts the refusals per operation, ``writes`` the write
    calls seen per operation, ``faulted`` the faults made as (operation, n, fault)."""

    def __init__(
        self,
        upstream: str,
        refuse: set[str],
        code: str = "UnknownOperationException",
        times: int | None = None,
        creating: int = 0,
        faults: Faults | None = None,
    ) -> None:
        self.refuse = set(refuse)
        self.creating = creating  # this many DescribeTable answers say CREATING instead of ACTIVE
        self.code = code
        self.times = times
        self.faults = faults
        self.refused: dict[str, int] = {}
        self.writes: Counter[str] = Counter()
        self.faulted: list[tuple[str, int, str]] = []
        self._lock = threading.Lock()
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
                    self._answer(
                        400,
                        {"__type": f"com.amazonaws.dynamodb.v20120810#{proxy.code}", "message": "not here"},
                    )
                    return
                fault = proxy._fault_for(operation)
                if fault == DROP:
                    self.close_connection = True  # nothing sent back: the client sees the connection close
                    return
                if fault in _THROTTLE_BODIES:
                    self._answer(400, _THROTTLE_BODIES[fault])
                    return
                status, headers, data = proxy._forward(self.path, dict(self.headers.items()), body)
                if fault == LOSE:
                    self.close_connection = True  # done upstream; the answer is lost on the way back
                    return
                if operation == "DescribeTable" and proxy.creating > 0 and _ACTIVE.search(data):
                    proxy.creating -= 1
                    data = _ACTIVE.sub(b'"TableStatus": "CREATING"', data)
                self.send_response(status)
                for key, value in headers:
                    if key.lower() == "x-amz-crc32":  # botocore checks it: the body's, as sent
                        value = str(zlib.crc32(data))
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, status: int, payload: dict[str, object]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-RequestId", "FAULTPROXY")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _fault_for(self, operation: str) -> str | None:
        if operation not in WRITE_OPERATIONS:
            return None
        with self._lock:
            self.writes[operation] += 1
            n = self.writes[operation]
            fault = self.faults(operation, n) if self.faults is not None else None
            if fault == CANCELLED_THROTTLED and operation != "TransactWriteItems":
                fault = PROVISIONED_THROUGHPUT  # only a transaction is cancelled; a single write is refused
            if fault is not None:
                self.faulted.append((operation, n, fault))
        return fault

    def _forward(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request("POST", path, body=body, headers=sent)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    def kinds(self) -> Counter[str]:
        """How many faults of each kind were made."""
        with self._lock:
            return Counter(fault for _op, _n, fault in self.faulted)

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
