"""moto's server, answering one request at a time: ``python tests/sync/serial_moto.py HOST PORT``.

moto's own server (``python -m moto.server``) answers requests on threads, and its TransactWriteItems
undoes a refused transaction by putting back a copy of the whole table taken when the transaction began:
a write another request made meanwhile (a puller's fence, another desktop's commit) is lost with it. Real
DynamoDB applies each request atomically, so the sync tests would then fail for a reason that is moto's,
not the application's (seen once in a loaded CI run: a fenced number committed after all). Served one
request at a time, each request is atomic again, as it is in DynamoDB; the clients' requests still
interleave, request by request. Werkzeug's server is HTTP/1.0 when it is not threaded, so every request
has a connection of its own and no client holds the server waiting.
"""

from __future__ import annotations

import sys

from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import run_simple


def main(host: str, port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
