"""The period roll-up from the command line (issue 18; docs/cli.md, docs/evidence-report.md "Period roll-up"):
``drs-desktop report --period FROM..TO [--plan NAME ...] [--zone ZONE] [--format pdf|html|csv] --out FILE``.

The dates are days, both included, in UTC unless ``--zone`` names an IANA zone (``Europe/Paris``); a
range that is not two dates, a day that does not exist, an end before the start or an unknown zone is
one clear line and exit 2, before the database is opened. The report goes to ``--out``, written whole or
not at all; the auditor's summary is printed on stderr with the path written. The time the report is
made (which findings are overdue) is this computer's clock, in UTC.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from drs_desktop.cli_exit import EXIT_OK, UsageError
from drs_desktop.cli_target import _open_database
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.domain.views.report_chart import PdfReport

__all__ = ["add_period_options", "period_command"]

_FORMATS = ("pdf", "html", "csv")


def add_period_options(report: argparse.ArgumentParser) -> None:
    """The roll-up's options on the ``report`` command (whose execution ID becomes optional)."""
    report.add_argument(
        "--period", metavar="FROM..TO", help="a roll-up of every run started in these days (both included)"
    )
    report.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="NAME",
        help="with --period: only this plan (repeatable)",
    )
    report.add_argument("--zone", metavar="ZONE", help="with --period: the dates' time zone (default UTC)")


def period_command(
    args: argparse.Namespace,
    paths: AppPaths,
    pdf_layout: Callable[[PdfReport, str], Any] | None = None,
) -> int:
    """Build the roll-up of ``args.period`` and write it to ``args.output``."""
    from drs_desktop.domain.views.period_range import PeriodError, PeriodRequest, parse_period
    from drs_desktop.services.report_period import (
        build_period_report,
        period_pdf_report,
        write_period_report,
    )
    from drs_desktop.services.report_period_html import summary_lines

    if args.execution_id:
        raise UsageError("give an execution ID or --period, not both")
    if args.format not in _FORMATS:
        raise UsageError(f"a period report is {', '.join(_FORMATS)}, not {args.format}")
    if not args.output:
        raise UsageError("a period report needs a file: pass --out FILE")
    zone, zone_name = _zone(args.zone)
    try:
        period = parse_period(args.period, zone, zone_name)
    except PeriodError as exc:
        raise UsageError(str(exc)) from None
    request = PeriodRequest(period, tuple(args.plan))
    with _open_database(paths) as db:
        report = build_period_report(db, request, now=datetime.now(UTC))
    if args.format == "pdf":
        if pdf_layout is None:
            raise UsageError("PDF reports are not available here")
        written = pdf_layout(period_pdf_report(report), args.output)
    else:
        written = write_period_report(report, args.format, args.output)
    for line in summary_lines(report):
        print(terminal_safe(line), file=sys.stderr)
    print(f"wrote {written}", file=sys.stderr)
    return EXIT_OK


def _zone(name: str | None) -> tuple[tzinfo, str]:
    if not name or name.upper() == "UTC":
        return UTC, "UTC"
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris") from None
