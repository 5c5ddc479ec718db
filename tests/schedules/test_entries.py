"""Each scheduler entry's content, read back by the format's own parser where one exists here: the
command the entry runs must come back as exactly the argument vector, awkward names included."""

from __future__ import annotations

import plistlib
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drs_desktop.domain.schedule.crontab import crontab_has, crontab_with, crontab_without
from drs_desktop.domain.schedule.entries import (
    TASK_NAMESPACE,
    cron_line,
    cron_marker,
    launchd_plist,
    systemd_units,
    task_xml,
    windows_quote,
)
from drs_desktop.domain.schedule.model import Frequency
from tests.schedules.values import AWKWARD_PLAN, a_schedule

PROGRAM = ("/opt/DRS Desktop/drs-desktop",)
AWKWARD = a_schedule(plan_name=AWKWARD_PLAN, home="/home/op/DRS home", report_dir="/srv/drill reports")
EXPECTED_ARGS = [
    *PROGRAM,
    "drill",
    "--unattended",
    "--plan",
    AWKWARD_PLAN,
    "--schedule",
    "a1b2c3d4e5f6",
    "--home",
    "/home/op/DRS home",
]


def _systemd_split(value: str) -> list[str]:
    """ExecStart= words as systemd reads our quoting: "..." with \\ escapes, %% and $$ doubled."""
    words = shlex.split(value, posix=True)
    return [w.replace("%%", "%").replace("$$", "$") for w in words]


def test_systemd_units_run_the_drill_from_a_persistent_timer() -> None:
    units = systemd_units(AWKWARD, PROGRAM)
    assert units.name == "drs-desktop-drill-a1b2c3d4e5f6"
    assert "OnCalendar=*-*-* 02:30:00\n" in units.timer
    assert "Persistent=true\n" in units.timer
    assert f"Unit={units.name}.service\n" in units.timer
    assert "Type=oneshot\n" in units.service
    exec_start = next(line for line in units.service.splitlines() if line.startswith("ExecStart="))
    assert '"100%% $$HOME"' not in exec_start  # the name stays one word
    assert _systemd_split(exec_start.removeprefix("ExecStart=")) == EXPECTED_ARGS
    weekly = systemd_units(a_schedule(frequency=Frequency.WEEKLY, weekday=6), PROGRAM)
    assert "OnCalendar=Sun *-*-* 02:30:00\n" in weekly.timer
    monthly = systemd_units(a_schedule(frequency=Frequency.MONTHLY, day_of_month=3), PROGRAM)
    assert "OnCalendar=*-*-03 02:30:00\n" in monthly.timer


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_written_units(tmp_path: Path) -> None:
    schedule = a_schedule(plan_name=AWKWARD_PLAN, frequency=Frequency.WEEKLY, weekday=0)
    units = systemd_units(schedule, (sys.executable, "-m", "drs_desktop"))
    (tmp_path / f"{units.name}.service").write_text(units.service, encoding="utf-8")
    timer = tmp_path / f"{units.name}.timer"
    timer.write_text(units.timer, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(timer), str(tmp_path / f"{units.name}.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    complaints = [line for line in done.stderr.splitlines() if units.name in line]
    assert done.returncode == 0 and not complaints, done.stderr
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", "Mon *-*-* 02:30:00"], capture_output=True, text=True, check=False
    )
    assert calendar.returncode == 0 and "Next elapse" in calendar.stdout


def test_cron_line_quotes_for_the_shell_and_escapes_percent() -> None:
    line = cron_line(AWKWARD, PROGRAM)
    assert line.startswith("30 2 * * * ")
    assert line.endswith(" " + cron_marker("a1b2c3d4e5f6"))
    assert "%" not in line.replace("\\%", "")  # cron would turn a bare % into a newline
    command = line.removeprefix("30 2 * * * ").replace("\\%", "%")
    words = shlex.split(command, comments=True)
    assert words[: len(EXPECTED_ARGS)] == EXPECTED_ARGS
    assert words[len(EXPECTED_ARGS) :] == [
        ">>",
        "/srv/drill reports/drs-desktop-schedule-a1b2c3d4e5f6.log",
        "2>&1",
    ]
    assert cron_line(a_schedule(frequency=Frequency.WEEKLY, weekday=6), PROGRAM).startswith("30 2 * * 0 ")
    assert cron_line(a_schedule(frequency=Frequency.MONTHLY, day_of_month=9), PROGRAM).startswith(
        "30 2 9 * * "
    )


def test_crontab_transform_touches_no_other_line() -> None:
    theirs = "MAILTO=ops@example.com\n# nightly backup\n0 1 * * * /usr/bin/backup --drs-desktop-schedule:x\n"
    line = cron_line(AWKWARD, PROGRAM)
    added = crontab_with(theirs, "a1b2c3d4e5f6", line)
    assert added == theirs + line + "\n"
    assert crontab_has(added, "a1b2c3d4e5f6")
    other = cron_line(a_schedule(schedule_id="ffff0000aaaa"), PROGRAM)
    both = crontab_with(added, "ffff0000aaaa", other)
    replaced = crontab_with(both, "a1b2c3d4e5f6", cron_line(a_schedule(plan_name="Shop"), PROGRAM))
    assert replaced.count("drs-desktop-schedule:a1b2c3d4e5f6") == 1
    removed = crontab_without(crontab_without(replaced, "a1b2c3d4e5f6"), "ffff0000aaaa")
    assert removed == theirs
    assert crontab_without("0 1 * * * x", "a1b2c3d4e5f6") == "0 1 * * * x"  # no newline kept as it was
    with pytest.raises(ValueError):
        crontab_with(theirs, "a1b2c3d4e5f6", "0 1 * * * rm -rf /")


def _windows_split(text: str) -> list[str]:
    """The Microsoft C runtime's splitting (for the test: the rules windows_quote writes for)."""
    args, current, in_quotes, slashes, has = [], [], False, 0, False
    for ch in text:
        if ch == "\\":
            slashes += 1
            continue
        if ch == '"':
            current.append("\\" * (slashes // 2))
            if slashes % 2:
                current.append('"')
            else:
                in_quotes = not in_quotes
            has, slashes = True, 0
            continue
        current.append("\\" * slashes)
        slashes = 0
        if ch in " \t" and not in_quotes:
            if "".join(current) or has:
                args.append("".join(current))
            current, has = [], False
        else:
            current.append(ch)
            has = True
    current.append("\\" * slashes)
    if "".join(current) or has:
        args.append("".join(current))
    return args


def test_task_scheduler_xml_parses_and_carries_the_arguments() -> None:
    schedule = a_schedule(
        plan_name=AWKWARD_PLAN, home="C:\\Users\\op\\DRS home\\", frequency=Frequency.WEEKLY, weekday=6
    )
    program = ("C:\\Program Files\\DRS Desktop\\drs-desktop.exe",)
    text = task_xml(schedule, program)
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>')
    root = ET.fromstring(text.split("\n", 1)[1])
    ns = {"t": TASK_NAMESPACE}
    assert root.tag == f"{{{TASK_NAMESPACE}}}Task" and root.get("version") == "1.2"
    trigger = root.find("t:Triggers/t:CalendarTrigger", ns)
    assert trigger is not None
    assert trigger.findtext("t:StartBoundary", namespaces=ns) == "2000-01-01T02:30:00"
    assert trigger.find("t:ScheduleByWeek/t:DaysOfWeek/t:Sunday", ns) is not None
    assert root.findtext("t:Settings/t:StartWhenAvailable", namespaces=ns) == "true"
    assert root.findtext("t:Actions/t:Exec/t:Command", namespaces=ns) == program[0]
    arguments = root.findtext("t:Actions/t:Exec/t:Arguments", namespaces=ns) or ""
    assert _windows_split(arguments) == [
        "drill", "--unattended", "--plan", AWKWARD_PLAN, "--schedule", "a1b2c3d4e5f6",
        "--home", "C:\\Users\\op\\DRS home\\",
    ]  # fmt: skip
    monthly = ET.fromstring(
        task_xml(a_schedule(frequency=Frequency.MONTHLY, day_of_month=5), program).split("\n", 1)[1]
    )
    assert (
        monthly.findtext("t:Triggers/t:CalendarTrigger/t:ScheduleByMonth/t:DaysOfMonth/t:Day", namespaces=ns)
        == "5"
    )
    assert len(monthly.findall("t:Triggers/t:CalendarTrigger/t:ScheduleByMonth/t:Months/*", ns)) == 12


def test_windows_quote_leaves_plain_words_alone() -> None:
    assert windows_quote("drill") == "drill"
    assert windows_quote("") == '""'
    assert windows_quote('a "b"') == '"a \\"b\\""'


def test_launchd_plist_parses_with_the_calendar_interval() -> None:
    document = plistlib.loads(launchd_plist(AWKWARD, PROGRAM))
    assert document["Label"] == "com.drs-desktop.drill.a1b2c3d4e5f6"
    assert document["ProgramArguments"] == EXPECTED_ARGS
    assert document["StartCalendarInterval"] == {"Hour": 2, "Minute": 30}
    assert document["StandardOutPath"] == "/srv/drill reports/drs-desktop-schedule-a1b2c3d4e5f6.log"
    weekly = plistlib.loads(launchd_plist(a_schedule(frequency=Frequency.WEEKLY, weekday=6), PROGRAM))
    assert weekly["StartCalendarInterval"] == {"Hour": 2, "Minute": 30, "Weekday": 0}
    monthly = plistlib.loads(launchd_plist(a_schedule(frequency=Frequency.MONTHLY, day_of_month=7), PROGRAM))
    assert monthly["StartCalendarInterval"]["Day"] == 7
