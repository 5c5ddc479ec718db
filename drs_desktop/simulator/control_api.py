"""The simulator's control API: drive a running simulator from outside, as tests do in-process.

Served on the simulator's own port under ``/_sim/``, a path real DRS never uses (its operations are
``POST /<Operation>`` and ``/tags/<arn>``), so a boto3 client never meets it. JSON in, JSON out:

    GET  /_sim/status                 the clock, jobs, instances, faults in force, outside jobs
    GET  /_sim/clock                  {"simulator": "drs-desktop", "now", "now_ts", "scale", "paused",
                                      "world"}: ``world`` is new at every start of a simulator
    POST /_sim/clock                  {"advance": s} | {"advance_to": iso} | {"scale": x|null}
                                      | {"pause": true} | {"resume": true}
    POST /_sim/faults                 {"kind": "throttle", "operation": "DescribeJobs", "rate": 0.5, ...}:
                                      any ``FaultPlan`` call by name (``clear`` too), its keywords as keys;
                                      {"kind": "stall_replication", "servers": [...], "error": "..."}:
                                      a replication fault on those servers (``DrsBackend.stall_replication``)
    POST /_sim/outside-jobs           {"servers": [...], "mode": "drill"|"recovery", "in": s | "at": iso,
                                      "tags": {...}}: a job another tool starts, now or later
    GET  /_sim/accounts               every account: regions and their server counts, staging accounts,
                                      roles, access keys; and the STS sessions issued
    POST /_sim/sessions               {"expire": "ASIA..." | "all"}: expire sessions now (virtual clock)

``faults`` takes ``"account"`` and ``"region"`` to fault another world than the default one.

A person rehearses against ``drs-desktop simulator`` what the tests do in-process
(``drs-desktop simulator control``); the CLI's runner follows the virtual clock through ``/_sim/clock``
(``aws.simulator_clock``). Like the rest of the simulator it is served on loopback only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.clock import VirtualClock
from drs_desktop.simulator.estate import Estate
from drs_desktop.simulator.server import CONTROL_PREFIX

logger = logging.getLogger(__name__)

PREFIX = CONTROL_PREFIX
IDENTITY = "drs-desktop"

#: FaultPlan calls on one operation (the first argument: an operation name or ``*``).
TRANSPORT_CALLS = ("throttle", "server_errors", "latency", "drop_connections", "lose_answer", "hold")
#: FaultPlan calls the API may make, by name (hyphens allowed: ``fail-launch``).
FAULT_CALLS = (
    *TRANSPORT_CALLS,
    "fail_launch",
    "fail_conversion",
    "fail_permissions",
    "hang_jobs",
    "fail_post_launch",
    "omit_instance_ids",
    "clear",
)
#: Fault kinds that change the world's servers rather than the FaultPlan (``DrsBackend`` methods).
WORLD_FAULT_CALLS = ("stall_replication",)


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ControlAnswer:
    status: int
    document: dict[str, Any]

    def body(self) -> bytes:
        return json.dumps(self.document, sort_keys=True).encode()


def _time(text: Any, key: str) -> float:
    if not isinstance(text, str):
        raise ControlError(400, f"{key} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ControlError(400, f"{key}: not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _seconds(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ControlError(400, f"{key} must be a number of seconds >= 0")
    return float(value)


class ControlApi:
    """Answers ``/_sim/...`` requests for one backend and its clock; thread-safe through theirs."""

    def __init__(self, backend: DrsBackend, clock: VirtualClock, *, estate: Estate | None = None) -> None:
        self.backend = backend
        self.clock = clock
        self.estate = estate if estate is not None else Estate(world=backend)
        self._routes: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
            ("GET", "status"): lambda _: {**self.backend.status(), "clock": self.clock_document()},
            ("GET", "clock"): lambda _: self.clock_document(),
            ("POST", "clock"): self._clock,
            ("POST", "faults"): self._faults,
            ("POST", "outside-jobs"): self._outside_job,
            ("GET", "accounts"): self._accounts,
            ("POST", "sessions"): self._sessions,
            ("GET", "sns"): lambda _: self.estate.sns.document(),
            ("POST", "sns/topics"): self._sns_topic,
        }

    def answer(self, method: str, path: str, body: bytes) -> ControlAnswer:
        name = path[len(PREFIX) :].strip("/")
        route = self._routes.get((method, name))
        if route is None:
            known = any(n == name for _, n in self._routes)
            status = 405 if known else 404
            return ControlAnswer(status, {"error": f"{method} {path}: no such control"})
        try:
            params: Any = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(params, dict):
                raise ControlError(400, "the body must be a JSON object")
            return ControlAnswer(200, route(params))
        except ControlError as exc:
            return ControlAnswer(exc.status, {"error": str(exc)})
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return ControlAnswer(400, {"error": f"the body is not JSON: {exc}"})

    def clock_document(self) -> dict[str, Any]:
        clock = self.clock
        now = clock.now_ts()
        return {
            "simulator": IDENTITY,
            "now": datetime.fromtimestamp(now, UTC).isoformat(),
            "now_ts": now,
            "scale": clock.scale,
            "paused": clock.paused,
            "world": self.backend.world_id,
        }

    def _clock(self, params: dict[str, Any]) -> dict[str, Any]:
        actions = [k for k in ("advance", "advance_to", "scale", "pause", "resume") if k in params]
        unknown = sorted(set(params) - {"advance", "advance_to", "scale", "pause", "resume"})
        if unknown or len(actions) != 1:
            raise ControlError(400, "give exactly one of advance, advance_to, scale, pause, resume")
        action = actions[0]
        if action == "advance":
            self.clock.advance(_seconds(params["advance"], "advance"))
        elif action == "advance_to":
            target = _time(params["advance_to"], "advance_to")
            if target < self.clock.now_ts():
                raise ControlError(409, "the clock only moves forward")
            self.clock.advance_to(datetime.fromtimestamp(target, UTC))
        elif action == "scale":
            scale = params["scale"]
            self.clock.set_scale(None if scale is None else _seconds(scale, "scale"))
        elif action == "pause":
            self.clock.pause()
        else:
            self.clock.resume()
        self.backend.settle()
        logger.info("Control: clock %s", action)
        return self.clock_document()

    def _faults(self, params: dict[str, Any]) -> dict[str, Any]:
        kind = str(params.get("kind", "")).replace("-", "_")
        if kind not in FAULT_CALLS + WORLD_FAULT_CALLS:
            raise ControlError(400, f"kind must be one of {', '.join(FAULT_CALLS + WORLD_FAULT_CALLS)}")
        kwargs = {k: v for k, v in params.items() if k not in ("kind", "account", "region")}
        operation = kwargs.pop("operation", None)
        try:
            backend = self.estate.backend(params.get("account"), params.get("region"))
        except KeyError:
            raise ControlError(404, f"no world {params.get('account')} {params.get('region')}") from None
        call = getattr(backend, kind) if kind in WORLD_FAULT_CALLS else getattr(backend.faults, kind)
        try:
            if operation is not None and kind in TRANSPORT_CALLS:
                call(str(operation), **kwargs)
            else:
                if operation is not None:
                    raise ControlError(400, f"{kind} takes no operation")
                call(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ControlError(400, f"{kind}: {exc}") from None
        logger.info("Control: fault %s %s", kind, kwargs)
        return {"faults": backend.faults.describe()}

    def _accounts(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now_ts()
        sessions = [s.document(now) for s in self.estate.identities.sessions()]
        return {"accounts": self.estate.describe(), "sessions": sessions}

    def _sessions(self, params: dict[str, Any]) -> dict[str, Any]:
        key = params.get("expire")
        if not isinstance(key, str) or set(params) != {"expire"}:
            raise ControlError(400, 'give {"expire": "<access key ID>"} or {"expire": "all"}')
        try:
            expired = self.estate.identities.expire(None if key == "all" else key)
        except KeyError:
            raise ControlError(404, f"no session with access key {key}") from None
        logger.info("Control: expired sessions %s", expired)
        return {"expired": expired}

    def _sns_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        """Add an SNS topic: ``{"arn": ..., "publishers": [account IDs], "display_name": ...}``."""
        arn = params.get("arn")
        publishers = params.get("publishers", [])
        if not isinstance(arn, str) or not isinstance(publishers, list):
            raise ControlError(400, "give arn (a topic ARN) and publishers (a list of account IDs)")
        try:
            self.estate.sns.add_topic(
                arn, publishers=[str(p) for p in publishers], display_name=str(params.get("display_name", ""))
            )
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        return self.estate.sns.document()

    def _outside_job(self, params: dict[str, Any]) -> dict[str, Any]:
        servers = params.get("servers")
        if not isinstance(servers, list) or not servers or not all(isinstance(s, str) for s in servers):
            raise ControlError(400, "servers must be a non-empty list of server IDs or hostnames")
        mode = params.get("mode", "drill")
        if mode not in ("drill", "recovery"):
            raise ControlError(400, "mode must be drill or recovery")
        tags = params.get("tags") or {}
        if not isinstance(tags, dict):
            raise ControlError(400, "tags must be an object")
        at: float | None = None
        if "in" in params and "at" in params:
            raise ControlError(400, "give in or at, not both")
        if "in" in params:
            at = self.clock.now_ts() + _seconds(params["in"], "in")
        elif "at" in params:
            at = _time(params["at"], "at")
        unknown = sorted(set(params) - {"servers", "mode", "tags", "in", "at"})
        if unknown:
            raise ControlError(400, f"unknown keys: {', '.join(unknown)}")
        for ref in servers:
            try:
                self.backend.server_id_of(ref)
            except KeyError:
                raise ControlError(404, f"no source server {ref!r}") from None
        result = self.backend.start_outside_job(
            servers, drill=mode == "drill", at=at, tags={str(k): str(v) for k, v in tags.items()}
        )
        if result is None:
            assert at is not None
            return {"scheduled_at": datetime.fromtimestamp(at, UTC).isoformat(), "servers": servers}
        if result.job_id is None:
            raise ControlError(409, result.error or "refused")
        return {"job_id": result.job_id, "servers": list(result.servers)}
