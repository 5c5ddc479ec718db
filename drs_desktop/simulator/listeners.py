"""Real loopback listeners standing in for the services on recovered instances, for health checks.

A health check probes a recovered instance from the desktop: a TCP port open, an HTTP status and body.
The simulator's instances live in 10.x subnets nobody can reach, so a server named by a listener spec
(``automation.listeners`` in a scenario, or ``HealthListeners.add``) gets, when its recovery instance
launches, a loopback address of its own (in 127.64.0.0/10, derived from its instance ID, so the same seed
gives the same addresses; Linux routes all of 127.0.0.0/8 to the loopback interface, and so does Windows)
and a real listener bound there:

- EC2 DescribeInstances shows the address as the instance's ``PublicIpAddress`` (its ``PrivateIpAddress``
  stays the subnet's, so every subnet and route check still holds), and DRS's
  ``recoveryInstanceProperties.networkInterfaces[0].ips`` lists it after the private one;
- ``tcp`` accepts and closes; ``http`` answers ``status`` and ``body`` on every path;
- ``up_after`` virtual seconds after the launch it binds (until then: connection refused); ``down`` never
  binds; terminating the instance unbinds it.

Where 127.64.0.1 cannot be bound (macOS without an ``lo0`` alias) every instance gets 127.0.0.1, so two
listeners of one port collide (the second one's ``error`` says so). Ports below 1024 need privileges on
most systems: a listener that cannot bind keeps the reason in ``error``, logged, never silently absent.
``stop()`` (the simulator's own stop) closes every listener and joins its threads.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from drs_desktop.simulator.automation_spec import ListenerSpec
from drs_desktop.simulator.clock import VirtualClock
from drs_desktop.simulator.ids import stable_hex
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)

_POOL_LOCK = threading.Lock()
_LOOPBACK_ALIASES: list[bool] = []  # [whether 127.64.0.1 can be bound], decided once per process
#: Addresses in 127.64.0.0 - 127.127.255.255 (the loopback block Linux and Windows route).
_POOL_SIZE = 64 * 65536


def _aliases_work() -> bool:
    with _POOL_LOCK:
        if not _LOOPBACK_ALIASES:
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                probe.bind(("127.64.0.1", 0))
                _LOOPBACK_ALIASES.append(True)
            except OSError:
                logger.warning("127.64.0.1 cannot be bound: every listener gets 127.0.0.1")
                _LOOPBACK_ALIASES.append(False)
            finally:
                probe.close()
        return _LOOPBACK_ALIASES[0]


def address_for(instance_id: str, taken: Collection[str]) -> str:
    """The loopback address of a recovery instance: derived from its ID (the same seed gives the same
    addresses, so a transcript stays byte-identical), the next free one where another instance of the
    world has it already. Two simulators of the same seed and scenario alive at once in one process draw
    the same addresses: the second one's listeners then say the address is in use (``Listener.error``)."""
    if not _aliases_work():
        return "127.0.0.1"
    n = int(stable_hex("loopback", instance_id, length=8), 16) % _POOL_SIZE
    while True:
        address = f"127.{64 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"
        if n & 255 not in (0, 255) and address not in taken:
            return address
        n = (n + 1) % _POOL_SIZE


class _ReusableTcp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _ReusableHttp(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Accept(socketserver.BaseRequestHandler):
    def handle(self) -> None:  # a TCP check only needs the connection accepted
        pass


def _http_handler(status: int, body: bytes) -> type[BaseHTTPRequestHandler]:
    class Answer(BaseHTTPRequestHandler):
        server_version = "drs-simulator-instance"

        def _answer(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("listener %s: %s", self.server.server_address, format % args)

    return Answer


@dataclass
class Listener:
    """One spec's listener on one instance's address. ``bound`` is set once it accepts connections;
    ``error`` says why it never will (a port in use, a privileged port)."""

    spec: ListenerSpec
    instance_id: str
    address: str
    up_at: float
    bound: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    _server: socketserver.BaseServer | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def bind(self) -> None:
        if self._stopped.is_set() or self._server is not None:
            return
        try:
            if self.spec.kind == "http":
                handler = _http_handler(self.spec.status, self.spec.body.encode())
                server: socketserver.BaseServer = _ReusableHttp((self.address, self.spec.port), handler)
            else:
                server = _ReusableTcp((self.address, self.spec.port), _Accept)
        except OSError as exc:
            self.error = f"cannot listen on {self.address}:{self.spec.port}: {exc.strerror or exc}"
            logger.error("Listener for %s: %s", self.instance_id, self.error)
            return
        self._server = server
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="sim-listener"
        )
        thread.start()
        self._threads.append(thread)
        self.bound.set()
        logger.debug("Listening for %s on %s:%d", self.instance_id, self.address, self.spec.port)

    def stop(self) -> None:
        self._stopped.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        self.bound.clear()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5)


class HealthListeners:
    """The listeners of one world. ``sync()`` (the backend calls it after every request's events ran)
    starts them for recovery instances launched since and stops those of instances gone."""

    def __init__(self, world: World, clock: VirtualClock) -> None:
        self.w = world
        self.clock = clock
        self.specs: list[ListenerSpec] = list(world.scenario.automation.listeners)
        self.listeners: dict[tuple[int, str], Listener] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def add(self, spec: ListenerSpec) -> None:
        """A listener for ``spec.server``'s recovery instances from now on (the current one included)."""
        with self._lock:
            self.specs.append(spec)
        self.sync()

    def address_of(self, instance_id: str) -> str | None:
        """The loopback address given to ``instance_id`` (None: no listener spec names its server)."""
        return self.w.loopback.get(instance_id)

    def of(self, server_or_instance: str, port: int | None = None) -> list[Listener]:
        """The listeners of an instance, or of a server's instances (hostname or ID), newest last."""
        server = self.w.server(server_or_instance)
        with self._lock:
            return [
                item
                for item in self.listeners.values()
                if (
                    item.instance_id == server_or_instance
                    or (server is not None and self._server_of(item.instance_id) == server.server_id)
                )
                and (port is None or item.spec.port == port)
            ]

    def _server_of(self, instance_id: str) -> str | None:
        record = self.w.templates.instances.get(instance_id)
        return record.instance.server_id if record is not None else None

    def sync(self) -> None:
        """Bring the listeners in line with the world (call it with the world up to date)."""
        if self._stopping.is_set():
            return
        w = self.w
        waiting: list[Listener] = []
        with self._lock:
            live = {iid for iid, i in w.instances.items() if not i.terminating and i.state != "TERMINATED"}
            for key, item in list(self.listeners.items()):
                if item.instance_id not in live:
                    item.stop()
                    del self.listeners[key]
            for index, spec in enumerate(self.specs):
                server = w.server(spec.server)
                if server is None or server.recovery_instance_id not in live:
                    continue
                iid = server.recovery_instance_id
                assert iid is not None
                if (index, iid) in self.listeners:
                    continue
                if iid not in w.loopback:
                    w.loopback[iid] = address_for(iid, set(w.loopback.values()))
                address = w.loopback[iid]
                item = Listener(spec, iid, address, w.instances[iid].created_ts + spec.up_after)
                self.listeners[(index, iid)] = item
                if spec.down:
                    continue
                if item.up_at <= self.clock.now_ts():
                    item.bind()
                else:
                    waiting.append(item)
        for item in waiting:
            self._bind_later(item)

    def _bind_later(self, item: Listener) -> None:
        def run() -> None:
            if self.clock.wait_until(
                item.up_at, cancelled=lambda: self._stopping.is_set() or item._stopped.is_set()
            ):
                item.bind()

        thread = threading.Thread(target=run, daemon=True, name="sim-listener-wait")
        item._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        """Close every listener and join its threads (the simulator is stopping)."""
        self._stopping.set()
        with self._lock:
            items = list(self.listeners.values())
            for item in items:
                item.stop()
        self.clock.wake()
        for item in items:
            item.join()
