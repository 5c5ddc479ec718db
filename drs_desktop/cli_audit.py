"""``drs-desktop executions findings|finding add|finding update|sign-off``: a run's audit annotations.

The same services as the GUI (``services.audit``): a finding is journaled on the execution whatever its
state (directly when nobody drives it, through its driver's inbox while a ``run`` or the GUI drives it);
a run of another desktop (team sync) is refused, naming that desktop. ``sign-off`` asks STS who the
``--profile`` is, on a session of its own (``aws.signer``), against the run's own Region and endpoint.

An entry that cannot be journaled as typed (an empty text, a severity or status that does not exist, a
due date that is not a real ``YYYY-MM-DD``) is one line on stderr, exit 2, and nothing is journaled; a
refusal (a run of another desktop, a sign-off before the run finished, a driver's refusal) exits 1.
``executions show`` prints the test, the findings and the sign-off with ``audit_lines``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, UsageError
from drs_desktop.cli_target import _open_database
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.domain.views.audit import AuditRecord
    from drs_desktop.services.audit import Annotated

#: The ``executions`` actions this module answers.
AUDIT_ACTIONS = ("findings", "finding", "sign-off")


def add_audit_commands(
    actions: argparse._SubParsersAction, add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    """The audit actions of ``executions`` (``cli_run`` makes the parser and calls this)."""
    findings = actions.add_parser("findings", help="an execution's findings, its test and its sign-off")
    add_home(findings)
    findings.add_argument("execution_id")
    findings.add_argument("--json", action="store_true")

    finding = actions.add_parser("finding", help="add or update a finding of an execution")
    add_home(finding)
    verbs = finding.add_subparsers(dest="finding_command", metavar="ACTION", required=True)
    add = verbs.add_parser("add", help="journal a new finding (during or after the run)")
    add_home(add)
    add.add_argument("execution_id")
    add.add_argument("--text", required=True, help="what was wrong or could be better")
    add.add_argument("--severity", required=True, help="low, medium, high or critical")
    add.add_argument("--owner", default="", help="who fixes it")
    add.add_argument("--due", default="", metavar="YYYY-MM-DD", help="by when")
    add.add_argument("--by", help="who records it (default: the AWS identity of the run)")
    add.add_argument("--json", action="store_true")
    update = verbs.add_parser("update", help="journal a finding's new state")
    add_home(update)
    update.add_argument("execution_id")
    update.add_argument("finding_id")
    update.add_argument("--status", help="open, in progress, resolved or accepted")
    update.add_argument("--severity")
    update.add_argument("--owner")
    update.add_argument("--due", metavar="YYYY-MM-DD", help="a new due date ('' clears it)")
    update.add_argument("--text")
    update.add_argument("--comment", default="", help="why (kept with the change)")
    update.add_argument("--by", help="who records it (default: the AWS identity of the run)")
    update.add_argument("--json", action="store_true")

    sign = actions.add_parser("sign-off", help="sign a finished run's review off with your own AWS profile")
    add_home(sign)
    sign.add_argument("execution_id")
    sign.add_argument("--profile", required=True, help="the signer's AWS profile (keys, role or SSO)")
    sign.add_argument("--review", required=True, help="the review: what was checked, what it concluded")
    sign.add_argument("--reject", action="store_true", help="the review does not accept the run")
    sign.add_argument("--json", action="store_true")


def audit_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services import audit, history
    from drs_desktop.storage import executions as journal

    with _open_database(paths) as db:
        record = journal.get_execution(db, args.execution_id)
        if args.executions_command == "findings":
            found = audit.audit_of(db, record.execution_id)
            if args.json:
                json.dump(audit_json(found), out, indent=2)
                out.write("\n")
            else:
                lines = audit_lines(found)
                for line in lines or ["no test record, findings or sign-off"]:
                    print(terminal_safe(line), file=out)
            return EXIT_OK
        by = getattr(args, "by", None) or history.default_actor(record)
        try:
            if args.executions_command == "sign-off":
                done = _sign_off(db, record, args)
            elif args.finding_command == "add":
                done = audit.add_finding(
                    db,
                    record.execution_id,
                    text=args.text,
                    severity=args.severity,
                    owner=args.owner,
                    due=args.due,
                    by=by,
                )
            else:
                done = audit.update_finding(
                    db,
                    record.execution_id,
                    args.finding_id,
                    text=args.text,
                    severity=args.severity,
                    owner=args.owner,
                    due=args.due,
                    status=args.status,
                    comment=args.comment,
                    by=by,
                )
        except audit.AnnotationInputError as bad:
            raise UsageError(str(bad)) from None
        return _report(done, args, out)


def _sign_off(db: Any, record: Any, args: argparse.Namespace) -> Annotated:
    from drs_desktop.aws.signer import profile_identity
    from drs_desktop.services import audit

    target = dict(record.options.get("target") or {})
    region = str(target.get("region") or "")
    if not region:
        from drs_desktop.storage.settings import get_str

        region = get_str(db, "aws.region")
    if not region:
        raise UsageError("no AWS Region for STS: set the aws.region setting")
    endpoint = target.get("endpoint_url") or None

    def identity_of(profile: str) -> Any:
        return profile_identity(profile, region=region, endpoint_url=endpoint)

    return audit.sign_off(
        db,
        record.execution_id,
        profile=args.profile,
        review=args.review,
        accepted=not args.reject,
        identity_of=identity_of,
    )


def _report(done: Annotated, args: argparse.Namespace, out: TextIO) -> int:
    from drs_desktop.domain.engine.annotation_events import FindingAdded, ReviewSignedOff

    event = done.event
    line = done.describe()
    if isinstance(event, FindingAdded) and done.journaled:
        line = f"finding {event.finding_id} added to execution {done.execution_id} (journal entry {done.seq})"
    if isinstance(event, ReviewSignedOff) and done.journaled:
        who = "self-signed: the signer is the run's own identity" if event.self_signed else "independent"
        verdict = "accepted" if event.accepted else "rejected"
        line = f"review {verdict} by {event.arn} ({who}); journal entry {done.seq}"
    print(terminal_safe(line), file=sys.stderr)
    if args.json:
        payload = {
            "execution_id": done.execution_id,
            "state": done.state,
            "seq": done.seq,
            "reason": done.reason,
            "finding_id": getattr(event, "finding_id", None),
            "self_signed": getattr(event, "self_signed", None),
        }
        json.dump(payload, out)
        out.write("\n")
    return EXIT_FAILED if done.state == "refused" else EXIT_OK


def audit_lines(found: AuditRecord) -> list[str]:
    """The test, findings and sign-off of a run as ``executions show`` and ``findings`` print them."""
    lines: list[str] = []
    test = found.test
    if test is not None:
        lines.append(
            f"  test: {test.test_type.value}" + (f", scenario: {test.scenario}" if test.scenario else "")
        )
        for label, items in (
            ("objective", test.objectives),
            ("success criterion", test.success_criteria),
            ("participant", test.participants),
        ):
            lines.extend(f"    {label}: {item}" for item in items)
    for f in found.findings:
        extra = "".join([f", owner {f.owner}" if f.owner else "", f", due {f.due}" if f.due else ""])
        lines.append(
            f"  finding {f.finding_id} [{f.severity.value}] {f.status.value}{extra}: {_first(f.text)}"
        )
    latest = found.sign_off
    if latest is not None:
        verdict = "accepted" if latest.accepted else "rejected"
        self_signed = " (self-signed)" if latest.self_signed else ""
        lines.append(
            f"  sign-off: {verdict} by {latest.arn}{self_signed} at {latest.at:%Y-%m-%d %H:%M} UTC"
            f" (profile {latest.profile}): {_first(latest.review)}"
        )
    elif found.test is not None or found.findings:
        lines.append("  sign-off: none yet")
    return lines


def audit_json(found: AuditRecord) -> dict[str, Any]:
    """The annotations as ``--json`` prints them (``findings`` and ``executions show``)."""
    test = found.test
    return {
        "test": None
        if test is None
        else {
            "type": test.test_type.value,
            "scenario": test.scenario,
            "objectives": list(test.objectives),
            "success_criteria": list(test.success_criteria),
            "participants": list(test.participants),
        },
        "findings": [
            {
                "finding_id": f.finding_id,
                "text": f.text,
                "severity": f.severity.value,
                "owner": f.owner,
                "due": f.due,
                "status": f.status.value,
                "added_at": f.added_at.isoformat(),
                "added_by": f.added_by,
                "changes": [
                    {"at": c.at.isoformat(), "by": c.by, "status": c.status.value, "comment": c.comment}
                    for c in f.changes
                ],
            }
            for f in found.findings
        ],
        "sign_offs": [
            {
                "arn": s.arn,
                "account": s.account,
                "user_id": s.user_id,
                "profile": s.profile,
                "review": s.review,
                "accepted": s.accepted,
                "self_signed": s.self_signed,
                "at": s.at.isoformat(),
            }
            for s in found.sign_offs
        ],
        "recovery_points": [
            {
                "server_id": p.server_id,
                "data_at": p.data_at.isoformat() if p.data_at else None,
                "source": p.source,
                "lag_seconds": p.lag_seconds,
            }
            for p in found.points.values()
        ],
    }


def _first(text: str, limit: int = 120) -> str:
    """A text's first line, cut at ``limit`` characters (the whole text is in ``--json``)."""
    first = text.splitlines()[0] if text else ""
    more = len(first) > limit or "\n" in text
    return (first[:limit] + "...") if more else first
