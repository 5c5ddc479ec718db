"""``alerts list|add|remove|test --plan NAME``: a plan's alert routes from the command line (issue 18).

A webhook URL is a secret (whoever has it may post to the channel): ``alerts add`` never takes it from
the command line, where it would stay in the shell's history and in ``ps``; it is read from stdin (one
line, for a script piping it from a secret store) or asked on a terminal without echo. It goes to the OS
keyring; the database keeps a reference and the label. A topic ARN is no secret: ``--topic ARN``.

``alerts check`` (no ``--plan``: every plan) says what is new in the plans' readiness: a test overdue (the
cadence) and a scheduled drill that did not run or did not report; each once per occurrence
(``services.readiness_alerts``). Run it from cron or a timer.

``alerts test`` sends an ``AlertKind.TEST`` to every enabled route of the plan and prints each outcome;
SNS publishes with the target of ``--endpoint/--profile/--region`` (else the settings).

Exit codes: 0 done (every route delivered, for ``test``); 1 a route failed, or nothing to remove;
2 a usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from drs_desktop import cli_target
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK
from drs_desktop.cli_run import UsageError, _open_database
from drs_desktop.config import AppPaths
from drs_desktop.domain.alert_routes import AlertRoute, RouteError, RouteKind, parse_kinds
from drs_desktop.domain.safe_text import terminal_safe

__all__ = ["add_alerts_commands", "alerts_command"]


def add_alerts_commands(
    commands: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    alerts = commands.add_parser("alerts", help="a plan's alerts outside the app: SNS topics and webhooks")
    add_home(alerts)
    actions = alerts.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    list_ = actions.add_parser("list", help="the plan's alert routes and their last delivery")
    add = actions.add_parser(
        "add", help="add a route (a webhook URL is read from stdin or asked, never argv)"
    )
    remove = actions.add_parser("remove", help="remove a route (and its URL from the keyring)")
    test = actions.add_parser("test", help="send a test alert to every route of the plan")
    for parser in (list_, add, remove, test):
        add_home(parser)
        parser.add_argument("--plan", required=True, metavar="NAME", help="the plan")
        parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add.add_argument("kind", choices=[k.value for k in RouteKind], help="sns, slack, teams or json")
    add.add_argument("--topic", metavar="ARN", help="the SNS topic's ARN (sns)")
    add.add_argument("--label", default="", help="the route's name, shown instead of the URL")
    add.add_argument(
        "--kinds",
        default="all",
        help="alert kinds, comma-separated (run-held, run-failed, run-succeeded, rto-breached, "
        "plan-not-ready, test-overdue, drift, schedule-missed), or all (the default)",
    )
    remove.add_argument("route", metavar="ROUTE", help="the route's ID (or its label, if unique)")
    cli_target.add_target_options(test)
    check = actions.add_parser(
        "check",
        help="say what is new in every plan's readiness (test overdue, scheduled drill missed) to its routes",
    )
    add_home(check)
    check.add_argument("--json", action="store_true", help="one JSON document on stdout")
    cli_target.add_target_options(check)


def alerts_command(
    args: argparse.Namespace, paths: AppPaths, out: TextIO, read_secret: Callable[[str], str] | None = None
) -> int:
    from drs_desktop.secrets import SecretStore
    from drs_desktop.services import alerts as service

    secrets = SecretStore()
    if args.alerts_command == "check":
        return _check(paths, secrets, args, out)
    with _open_database(paths) as db:
        routes = service.routes_of_plan(db, args.plan)
        if args.alerts_command == "list":
            return _print_routes(routes, args.json, out)
        if args.alerts_command == "remove":
            route = _pick(routes, args.route)
            service.remove_route(db, secrets, route.route_id)
            _say({"removed": route.route_id, "label": route.label}, f"removed: {route.label}", args.json, out)
            return EXIT_OK
        if args.alerts_command == "add":
            return _add(db, secrets, args, out, read_secret or _read_secret)
        # test
        if not routes:
            raise UsageError(f"plan {args.plan!r} has no alert route: add one with `alerts add`")
        gateway = cli_target._gateway(db, args) if _has_aws(routes) else None
        sender = service.AlertSender(
            db,
            secrets,
            target=(lambda: gateway.target) if gateway is not None else None,
            clock=cli_target._now,
        )
        try:
            results = sender.send(service.alert_for_test_button(args.plan, cli_target._now()), routes)
        finally:
            sender.close()
    if args.json:
        _dump(
            {
                "results": [
                    {
                        "route": r.route_id,
                        "label": r.label,
                        "kind": r.kind.value,
                        "delivered": r.delivered,
                        "detail": r.detail,
                    }
                    for r in results
                ]
            },
            out,
        )
    else:
        for result in results:
            print(terminal_safe(result.line()), file=out)
    return EXIT_OK if results and all(r.delivered for r in results) else EXIT_FAILED


def _check(paths: AppPaths, secrets: Any, args: argparse.Namespace, out: TextIO) -> int:
    """``alerts check``: every plan's cadence and every schedule's missed run, said where news
    (``services.readiness_alerts``); for cron or a timer. It reads no AWS: drift and readiness, which
    need DRS and EC2, are the dashboard's to say. SNS publishes with the target of the options (else the
    settings), built only when an SNS route has something to say."""
    from drs_desktop.domain.local_zone import LOCAL_ZONE
    from drs_desktop.services.alerts import AlertSender
    from drs_desktop.services.cadence import read_cadence
    from drs_desktop.services.readiness_alerts import send_readiness

    with _open_database(paths) as db:
        now = cli_target._now()
        reading = read_cadence(db, now.astimezone(LOCAL_ZONE))
        gateways: list[Any] = []

        def target() -> Any:
            if not gateways:
                gateways.append(cli_target._gateway(db, args))
            return gateways[0].target

        sender = AlertSender(db, secrets, target=target, clock=cli_target._now)
        try:
            sent = send_readiness(db, sender, reading.plans, now, drift_known=False, readiness_known=False)
        finally:
            sender.close()
            for gateway in gateways:
                gateway.close()
    failed = any(not r.delivered for item in sent for r in item.results)
    if args.json:
        document = {
            "sent": [
                {
                    "plan": item.alert.plan_name,
                    "kind": item.alert.kind.value,
                    "title": item.alert.title,
                    "results": [
                        {"route": r.route_id, "label": r.label, "delivered": r.delivered, "detail": r.detail}
                        for r in item.results
                    ],
                }
                for item in sent
            ],
            "problems": list(reading.problems),
        }
        _dump(document, out)
    else:
        for item in sent:
            done = sum(1 for r in item.results if r.delivered)
            print(
                terminal_safe(
                    f"{item.alert.kind.value}: {item.alert.title} "
                    f"({done} of {len(item.results)} route(s) delivered)"
                ),
                file=out,
            )
            for result in item.results:
                if not result.delivered:
                    print(terminal_safe(f"  {result.line()}"), file=out)
        for problem in reading.problems:
            print(terminal_safe(f"problem: {problem}"), file=out)
        if not sent:
            print("nothing new to say", file=out)
    return EXIT_FAILED if failed else EXIT_OK


def _has_aws(routes: list[AlertRoute]) -> bool:
    return any(r.kind is RouteKind.SNS and r.enabled for r in routes)


def _add(
    db: Any, secrets: Any, args: argparse.Namespace, out: TextIO, read_secret: Callable[[str], str]
) -> int:
    from drs_desktop.services import alerts as service

    kind = RouteKind(args.kind)
    try:
        kinds = parse_kinds(args.kinds)
    except RouteError as exc:
        raise UsageError(str(exc)) from None
    if kind is RouteKind.SNS:
        if not args.topic:
            raise UsageError("an sns route needs --topic ARN")
        target = args.topic
    else:
        if args.topic:
            raise UsageError("--topic is for sns routes; a webhook URL is read from stdin or asked")
        target = read_secret(f"{kind.value} webhook URL (not echoed): ")
        if not target.strip():
            raise UsageError("no webhook URL was given")
    try:
        route, persistent = service.add_route(
            db,
            secrets,
            plan_name=args.plan,
            kind=kind,
            label=args.label,
            target=target,
            kinds=kinds,
            now=cli_target._now(),
        )
    except RouteError as exc:
        raise UsageError(str(exc)) from None
    text = f"added: {route.label} ({route.kind.value}) {route.route_id}"
    if not persistent:
        text += "\nno usable OS keyring: the URL is kept for this command only and is lost when it ends"
    _say({"route": _route_document(route), "keyring": persistent}, text, args.json, out)
    return EXIT_OK


def _read_secret(prompt: str) -> str:
    """One line from stdin when it is piped, else asked on the terminal without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return getpass.getpass(prompt).strip()


def _pick(routes: list[AlertRoute], wanted: str) -> AlertRoute:
    by_id = [r for r in routes if r.route_id == wanted]
    by_label = [r for r in routes if r.label == wanted]
    if by_id:
        return by_id[0]
    if len(by_label) == 1:
        return by_label[0]
    if by_label:
        raise UsageError(f"{len(by_label)} routes are labelled {wanted!r}: name one by its ID")
    raise UsageError(f"the plan has no route {wanted!r} (see `alerts list`)")


def _route_document(route: AlertRoute) -> dict[str, Any]:
    return {
        "id": route.route_id,
        "kind": route.kind.value,
        "label": route.label,
        # A topic ARN is shown; a webhook's URL is a secret, and only its keyring reference is stored.
        "topic_arn": route.target if route.kind is RouteKind.SNS else None,
        "kinds": sorted(k.value for k in route.kinds),
        "enabled": route.enabled,
        "last_attempt_at": route.last_attempt_at.isoformat() if route.last_attempt_at else None,
        "last_delivered_at": route.last_delivered_at.isoformat() if route.last_delivered_at else None,
        "last_error": route.last_error,
    }


def _print_routes(routes: list[AlertRoute], as_json: bool, out: TextIO) -> int:
    if as_json:
        _dump({"routes": [_route_document(r) for r in routes]}, out)
        return EXIT_OK
    if not routes:
        print("no alert routes", file=out)
    for route in routes:
        where = route.target if route.kind is RouteKind.SNS else "(URL in the OS keyring)"
        kinds = ",".join(sorted(k.value for k in route.kinds))
        line = f"{route.route_id}  {route.kind.value:<5}  {route.label}  {where}  [{kinds}]"
        line += f"  {route.last_outcome}"
        print(terminal_safe(line), file=out)
    return EXIT_OK


def _say(document: dict[str, Any], text: str, as_json: bool, out: TextIO) -> None:
    if as_json:
        _dump(document, out)
    else:
        print(terminal_safe(text), file=out)


def _dump(document: dict[str, Any], out: TextIO) -> None:
    json.dump(document, out, indent=2, sort_keys=True)
    out.write("\n")
