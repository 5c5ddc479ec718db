"""The entries the operating system's schedulers read, rendered from a ``Schedule``: pure text.

Why each format quotes on its own: the same plan name or folder ("Q3 drills/100% sure") passes through
a different parser in each. systemd splits ``ExecStart=`` itself (double quotes, C escapes) and expands
``%`` specifiers and ``$`` variables; cron hands the line to ``/bin/sh`` and turns a bare ``%`` into a
newline; Task Scheduler passes ``<Arguments>`` to the program's C runtime, which splits it by the
Windows rules (backslashes before a quote); launchd takes an array, so nothing is quoted there. Every
renderer takes the program to start as an argument vector (``program``: the bundle's executable, the
installed ``drs-desktop``, or ``python -m drs_desktop``), chosen by the caller (services.schedules).
"""

from __future__ import annotations

import plistlib
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from drs_desktop.domain.schedule.model import Frequency, Schedule, check_schedule

__all__ = [
    "TASK_NAMESPACE",
    "SystemdUnits",
    "cron_line",
    "drill_arguments",
    "launchd_label",
    "launchd_plist",
    "log_name",
    "systemd_escape",
    "systemd_units",
    "task_name",
    "task_xml",
    "unit_name",
    "windows_quote",
]

TASK_NAMESPACE = "http://schemas.microsoft.com/windows/2004/02/mit/task"
_TASK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SYSTEMD_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def drill_arguments(schedule: Schedule) -> tuple[str, ...]:
    """What follows the program: ``drill --unattended --plan NAME --schedule ID [--home DIR]``."""
    check_schedule(schedule)
    args = ["drill", "--unattended", "--plan", schedule.plan_name, "--schedule", schedule.schedule_id]
    if schedule.home:
        args += ["--home", schedule.home]
    return tuple(args)


def _argv(schedule: Schedule, program: Sequence[str]) -> tuple[str, ...]:
    if not program or not all(program):
        raise ValueError("the program to start is missing")
    return (*program, *drill_arguments(schedule))


def log_name(schedule: Schedule) -> str:
    """The file (in the report folder) that cron and launchd write the command's output to."""
    return f"drs-desktop-schedule-{schedule.schedule_id}.log"


# -- systemd ---------------------------------------------------------------------------------------


def unit_name(schedule: Schedule) -> str:
    """``drs-desktop-drill-ID``: the ``.service`` and ``.timer`` share it."""
    return f"drs-desktop-drill-{schedule.schedule_id}"


def systemd_escape(arg: str) -> str:
    """One ``ExecStart=`` word: double-quoted, ``\\`` and ``"`` escaped, ``%`` and ``$`` doubled (no
    specifier or variable expansion)."""
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def on_calendar(schedule: Schedule) -> str:
    """systemd's calendar expression, local time: ``*-*-* 02:30:00``, ``Sun *-*-* ...``, ``*-*-01 ...``."""
    at = f"{schedule.hour:02d}:{schedule.minute:02d}:00"
    if schedule.frequency is Frequency.WEEKLY and schedule.weekday is not None:
        return f"{_SYSTEMD_DAYS[schedule.weekday]} *-*-* {at}"
    if schedule.frequency is Frequency.MONTHLY:
        return f"*-*-{schedule.day_of_month:02d} {at}"
    return f"*-*-* {at}"


@dataclass(frozen=True)
class SystemdUnits:
    name: str  # without suffix
    service: str
    timer: str


def systemd_units(schedule: Schedule, program: Sequence[str]) -> SystemdUnits:
    """A oneshot service that runs the drill, and a persistent timer that starts it (a run missed while
    the machine was off starts at the next boot, within the grace the missed-run alert allows)."""
    name = unit_name(schedule)
    command = " ".join(systemd_escape(a) for a in _argv(schedule, program))
    plan = schedule.plan_name.replace("%", "%%")
    service = (
        "[Unit]\n"
        f"Description=DRS Desktop unattended drill of plan {plan} (schedule {schedule.schedule_id})\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={command}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=DRS Desktop drill schedule {schedule.schedule_id}: {schedule.describe_when()}\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar={on_calendar(schedule)}\n"
        "Persistent=true\n"
        f"Unit={name}.service\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return SystemdUnits(name, service, timer)


# -- cron ------------------------------------------------------------------------------------------


def cron_marker(schedule_id: str) -> str:
    """The comment that ends the line, by which it is found and removed (nothing else is touched)."""
    return f"# drs-desktop-schedule:{schedule_id}"


def cron_line(schedule: Schedule, program: Sequence[str]) -> str:
    """One crontab line (no newline): the fields, the shell-quoted command with its output appended to
    the report folder's log, and the marker. ``%`` is escaped: cron would make it a newline."""
    fields = {
        Frequency.DAILY: f"{schedule.minute} {schedule.hour} * * *",
        Frequency.WEEKLY: f"{schedule.minute} {schedule.hour} * * {((schedule.weekday or 0) + 1) % 7}",
        Frequency.MONTHLY: f"{schedule.minute} {schedule.hour} {schedule.day_of_month} * *",
    }[schedule.frequency]
    log = schedule.report_dir.rstrip("/") + "/" + log_name(schedule)
    command = " ".join(shlex.quote(a) for a in _argv(schedule, program))
    line = f"{fields} {command} >> {shlex.quote(log)} 2>&1"
    return f"{line.replace('%', chr(92) + '%')} {cron_marker(schedule.schedule_id)}"


# -- Windows Task Scheduler ------------------------------------------------------------------------


def windows_quote(arg: str) -> str:
    """One argument as the Microsoft C runtime splits a command line: quoted when it holds a space, a tab
    or a quote (or is empty), backslashes doubled before a quote and at the end."""
    if arg and not any(ch in arg for ch in ' \t"'):
        return arg
    out, slashes = ['"'], 0
    for ch in arg:
        if ch == "\\":
            slashes += 1
            continue
        if ch == '"':
            out.append("\\" * (2 * slashes + 1) + '"')
        else:
            out.append("\\" * slashes + ch)
        slashes = 0
    out.append("\\" * (2 * slashes) + '"')
    return "".join(out)


def task_name(schedule: Schedule) -> str:
    """The task's path in Task Scheduler's library."""
    return f"\\DRS Desktop\\Drill {schedule.schedule_id}"


def task_xml(schedule: Schedule, program: Sequence[str], *, author: str = "DRS Desktop") -> str:
    """The task definition ``schtasks /Create /XML FILE /TN NAME`` reads (task schema 1.2). It starts
    when available (a run missed while the machine was off starts when it is on again), runs whether
    the user is signed in or not without a stored password (S4U: no network shares, which the drill
    does not use), never two at once, and at most 12 hours."""
    argv = _argv(schedule, program)
    ET.register_namespace("", TASK_NAMESPACE)
    ns = f"{{{TASK_NAMESPACE}}}"
    task = ET.Element(f"{ns}Task", {"version": "1.2"})
    info = ET.SubElement(task, f"{ns}RegistrationInfo")
    ET.SubElement(info, f"{ns}Author").text = author
    ET.SubElement(
        info, f"{ns}Description"
    ).text = f"DRS Desktop unattended drill of plan {schedule.plan_name} ({schedule.describe_when()})"
    trigger = ET.SubElement(ET.SubElement(task, f"{ns}Triggers"), f"{ns}CalendarTrigger")
    start = f"2000-01-01T{schedule.hour:02d}:{schedule.minute:02d}:00"  # local time: no offset
    ET.SubElement(trigger, f"{ns}StartBoundary").text = start
    ET.SubElement(trigger, f"{ns}Enabled").text = "true"
    if schedule.frequency is Frequency.WEEKLY and schedule.weekday is not None:
        by_week = ET.SubElement(trigger, f"{ns}ScheduleByWeek")
        ET.SubElement(by_week, f"{ns}WeeksInterval").text = "1"
        days = ET.SubElement(by_week, f"{ns}DaysOfWeek")
        ET.SubElement(days, f"{ns}{_TASK_DAYS[schedule.weekday]}")
    elif schedule.frequency is Frequency.MONTHLY:
        by_month = ET.SubElement(trigger, f"{ns}ScheduleByMonth")
        days_of_month = ET.SubElement(by_month, f"{ns}DaysOfMonth")
        ET.SubElement(days_of_month, f"{ns}Day").text = str(schedule.day_of_month)
        months = ET.SubElement(by_month, f"{ns}Months")
        for month in _MONTHS:
            ET.SubElement(months, f"{ns}{month}")
    else:
        ET.SubElement(ET.SubElement(trigger, f"{ns}ScheduleByDay"), f"{ns}DaysInterval").text = "1"
    principal = ET.SubElement(ET.SubElement(task, f"{ns}Principals"), f"{ns}Principal", {"id": "Author"})
    ET.SubElement(principal, f"{ns}LogonType").text = "S4U"
    ET.SubElement(principal, f"{ns}RunLevel").text = "LeastPrivilege"
    settings = ET.SubElement(task, f"{ns}Settings")
    for tag, text in (
        ("MultipleInstancesPolicy", "IgnoreNew"),
        ("DisallowStartIfOnBatteries", "false"),
        ("StopIfGoingOnBatteries", "false"),
        ("StartWhenAvailable", "true"),
        ("RunOnlyIfNetworkAvailable", "true"),
        ("Enabled", "true"),
        ("ExecutionTimeLimit", "PT12H"),
    ):
        ET.SubElement(settings, f"{ns}{tag}").text = text
    actions = ET.SubElement(task, f"{ns}Actions", {"Context": "Author"})
    exec_ = ET.SubElement(actions, f"{ns}Exec")
    ET.SubElement(exec_, f"{ns}Command").text = argv[0]
    ET.SubElement(exec_, f"{ns}Arguments").text = " ".join(windows_quote(a) for a in argv[1:])
    ET.indent(task)
    return '<?xml version="1.0" encoding="UTF-16"?>\n' + ET.tostring(task, encoding="unicode") + "\n"


# -- launchd ---------------------------------------------------------------------------------------


def launchd_label(schedule: Schedule) -> str:
    return f"com.drs-desktop.drill.{schedule.schedule_id}"


def launchd_plist(schedule: Schedule, program: Sequence[str]) -> bytes:
    """A LaunchAgent (``~/Library/LaunchAgents/LABEL.plist``): the program and its arguments as an
    array (no quoting), ``StartCalendarInterval`` in local time (launchd runs a missed interval when the
    Mac wakes), output appended to the report folder's log."""
    interval: dict[str, int] = {"Hour": schedule.hour, "Minute": schedule.minute}
    if schedule.frequency is Frequency.WEEKLY and schedule.weekday is not None:
        interval["Weekday"] = (schedule.weekday + 1) % 7  # launchd: 0 is Sunday
    elif schedule.frequency is Frequency.MONTHLY and schedule.day_of_month is not None:
        interval["Day"] = schedule.day_of_month
    log = schedule.report_dir.rstrip("/") + "/" + log_name(schedule)
    document = {
        "Label": launchd_label(schedule),
        "ProgramArguments": list(_argv(schedule, program)),
        "StartCalendarInterval": interval,
        "RunAtLoad": False,
        "StandardOutPath": log,
        "StandardErrorPath": log,
    }
    return plistlib.dumps(document, fmt=plistlib.FMT_XML, sort_keys=True)
