"""``drs-desktop simulator control --endpoint URL ...``: drive a running simulator through its control API.

    status                                       the clock, jobs, instances, faults, outside jobs
    clock advance 10m | clock advance-to 2026-01-05T09:00:00Z
    clock scale 60 | clock scale manual | clock pause | clock resume
    fault throttle DescribeJobs rate=0.3 retry_after=2
    fault lose-answer StartRecovery count=1 | fault fail-launch servers=web-01,web-02 | fault clear
    outside-job web-01 web-02 [--recovery] [--in 5m | --at ISO] [--tag k=v]
    accounts                                     accounts, regions, roles, keys, STS sessions
    session expire ASIA... | session expire all  expire STS sessions now (virtual clock)

Prints the answer as JSON on stdout; exits 0, 1 when the simulator refused (its message on stderr), 2 for
a command line it cannot send. Durations are seconds or ``90s``, ``10m``, ``1h30m``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import urllib.error
import urllib.request
from typing import Any

from drs_desktop.simulator.control_api import FAULT_CALLS, PREFIX

logger = logging.getLogger(__name__)

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")
_LIST_KEYS = ("servers",)


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``10m``, ``1h30m``; ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (e.g. 90s, 10m, 1h30m)")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _value(key: str, text: str) -> Any:
    if key in _LIST_KEYS:
        return [part for part in text.split(",") if part]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drs-desktop simulator control",
        description="Drive a running DRS Desktop simulator: its clock, faults and outside jobs.",
    )
    parser.add_argument("--endpoint", required=True, metavar="URL", help="the simulator's URL")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("status", help="the clock, jobs, instances, faults and outside jobs")
    clock = commands.add_parser("clock", help="advance, scale, pause or resume the virtual clock")
    clock.add_argument("action", choices=("advance", "advance-to", "scale", "pause", "resume"))
    clock.add_argument("value", nargs="?", help="a duration, an ISO time, or a scale (or 'manual')")
    fault = commands.add_parser("fault", help=f"set a fault: {', '.join(FAULT_CALLS)}")
    fault.add_argument("kind", help="e.g. throttle, lose-answer, fail-launch, clear")
    fault.add_argument("arguments", nargs="*", help="[OPERATION] key=value ... (servers=a,b)")
    outside = commands.add_parser("outside-job", help="a job another tool starts (no orchestrator tags)")
    outside.add_argument("servers", nargs="+", help="server IDs or hostnames")
    outside.add_argument("--recovery", action="store_true", help="a recovery (default: a drill)")
    when = outside.add_mutually_exclusive_group()
    when.add_argument("--in", dest="delay", metavar="DURATION", help="start it this much later")
    when.add_argument("--at", metavar="ISO", help="start it at this virtual time")
    outside.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    commands.add_parser("accounts", help="accounts, regions, roles, access keys and STS sessions")
    session = commands.add_parser("session", help="expire STS sessions now, on the virtual clock")
    session.add_argument("action", choices=("expire",))
    session.add_argument("key", help="the session's access key ID (ASIA...), or all")
    return parser


def request_for(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    """(method, control path, body) for a parsed command line; ValueError for one it cannot send."""
    if args.command == "status":
        return "GET", "status", None
    if args.command == "accounts":
        return "GET", "accounts", None
    if args.command == "session":
        return "POST", "sessions", {"expire": args.key}
    if args.command == "clock":
        action, value = args.action, args.value
        if action in ("pause", "resume"):
            return "POST", "clock", {action: True}
        if value is None:
            raise ValueError(f"clock {action} needs a value")
        if action == "advance":
            return "POST", "clock", {"advance": parse_duration(value)}
        if action == "advance-to":
            return "POST", "clock", {"advance_to": value}
        return "POST", "clock", {"scale": None if value == "manual" else float(value)}
    if args.command == "fault":
        body: dict[str, Any] = {"kind": args.kind}
        for i, item in enumerate(args.arguments):
            if "=" not in item:
                if i:
                    raise ValueError(f"expected key=value, got {item!r}")
                body["operation"] = item
                continue
            key, _, text = item.partition("=")
            body[key.replace("-", "_")] = _value(key, text)
        return "POST", "faults", body
    body = {"servers": list(args.servers), "mode": "recovery" if args.recovery else "drill"}
    if args.delay is not None:
        body["in"] = parse_duration(args.delay)
    if args.at is not None:
        body["at"] = args.at
    tags = {}
    for tag in args.tag:
        key, sep, value = tag.partition("=")
        if not sep or not key:
            raise ValueError(f"--tag takes KEY=VALUE, got {tag!r}")
        tags[key] = value
    if tags:
        body["tags"] = tags
    return "POST", "outside-jobs", body


def call(
    endpoint: str, method: str, name: str, body: dict[str, Any] | None, *, timeout: float = 10.0
) -> tuple[int, dict[str, Any]]:
    """One control request: (HTTP status, JSON answer)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        endpoint.rstrip("/") + PREFIX + name,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            document = json.loads(error.read() or b"{}")
        except json.JSONDecodeError:
            document = {"error": f"HTTP {error.code}"}
        return error.code, document


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        method, name, body = request_for(args)
    except ValueError as exc:
        print(f"simulator control: {exc}", file=sys.stderr)
        return 2
    try:
        status, document = call(args.endpoint, method, name, body)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"simulator control: cannot reach {args.endpoint}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"simulator control: {document.get('error', status)}", file=sys.stderr)
        return 1
    json.dump(document, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0
