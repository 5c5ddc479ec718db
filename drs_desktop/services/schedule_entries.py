"""Writing a schedule's entry where this machine's scheduler reads it, and taking it out again.

Why separate from ``services.schedules``: this is the one place that touches the operating system's
schedulers (files under ``~/.config/systemd/user``, ``crontab``, ``schtasks``, ``launchctl``). What the
entries say is ``domain.schedule.entries``'s; here they are put in place. A scheduler command runs only
where it exists and only when asked (``enable``): CI has no user session, so tests write the unit files
into a temporary ``XDG_CONFIG_HOME`` and never enable them. A command that fails is a
``ScheduleError`` quoting its one-line answer.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from drs_desktop.domain.schedule.crontab import crontab_has, crontab_with, crontab_without
from drs_desktop.domain.schedule.entries import (
    cron_line,
    launchd_label,
    launchd_plist,
    systemd_units,
    task_name,
    task_xml,
    unit_name,
)
from drs_desktop.domain.schedule.model import EntryKind, Schedule, ScheduleError

logger = logging.getLogger(__name__)

__all__ = ["CRONTAB", "EntryWritten", "Runner", "default_kind", "program_argv", "remove_entry", "write_entry"]

#: What ``entry_paths`` holds for a cron entry: it lives in the user's crontab, not in a file.
CRONTAB = "crontab"
#: Runs a command (argv, standard input) and returns its exit code, standard output and error.
Runner = Callable[[Sequence[str], str | None], tuple[int, str, str]]


def _run(argv: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
    done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


@dataclass(frozen=True)
class EntryWritten:
    """Where the entry went, and what was run (or why nothing was): what the dialog and CLI say."""

    paths: tuple[str, ...]
    ran: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        shown = [
            f"wrote {p}" if p != CRONTAB else "added a line to your crontab (crontab -l)" for p in self.paths
        ]
        return [*shown, *(f"ran: {r}" for r in self.ran), *self.notes]


def program_argv(executable: str | None = None, *, frozen: bool | None = None) -> tuple[str, ...]:
    """How the scheduler starts DRS Desktop: the bundle's own executable; else the installed
    ``drs-desktop`` next to this interpreter; else this interpreter with ``-m drs_desktop``. Absolute
    paths: a scheduler has no PATH worth the name."""
    exe = str(Path(executable or sys.executable).absolute())
    if frozen if frozen is not None else bool(getattr(sys, "frozen", False)):
        return (exe,)
    script = Path(exe).parent / ("drs-desktop.exe" if sys.platform == "win32" else "drs-desktop")
    if script.is_file():
        return (str(script),)
    return (exe, "-m", "drs_desktop")


def systemd_user_works(run: Runner = _run) -> bool:
    """Whether ``systemctl --user`` reaches a user manager (a desktop session; not CI, not cron)."""
    if shutil.which("systemctl") is None:
        return False
    try:
        code, _, _ = run(["systemctl", "--user", "is-system-running"], None)
    except (OSError, subprocess.SubprocessError):
        return False
    return code in (0, 1)  # 1: "degraded" still answers; no manager is another code or an error


def default_kind(
    platform: str = sys.platform, systemd_user: Callable[[], bool] = systemd_user_works
) -> EntryKind:
    """Windows: Task Scheduler; macOS: launchd; Linux: a systemd user timer when ``systemctl --user``
    works, else cron."""
    if platform == "win32":
        return EntryKind.TASK_SCHEDULER
    if platform == "darwin":
        return EntryKind.LAUNCHD
    return EntryKind.SYSTEMD if systemd_user() else EntryKind.CRON


def systemd_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def _checked(run: Runner, argv: Sequence[str], stdin: str | None = None) -> str:
    try:
        code, out, err = run(argv, stdin)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ScheduleError(f"{' '.join(argv)} could not run: {exc}") from exc
    if code != 0:
        said = (err or out).strip().splitlines()
        raise ScheduleError(f"{' '.join(argv)} failed (exit {code}): {said[0] if said else 'no message'}")
    return out


def _read_crontab(run: Runner) -> str:
    try:
        code, out, err = run(["crontab", "-l"], None)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ScheduleError(f"crontab -l could not run: {exc}") from exc
    if code == 0:
        return out
    if "no crontab" in err.lower():
        return ""
    raise ScheduleError(f"crontab -l failed (exit {code}): {err.strip() or 'no message'}")


def write_entry(
    schedule: Schedule,
    program: Sequence[str],
    *,
    folder: Path,
    enable: bool = False,
    run: Runner = _run,
    platform: str = sys.platform,
    environ: Mapping[str, str] | None = None,
) -> EntryWritten:
    """Put the schedule's entry in place. ``folder``: where a Task Scheduler XML is kept (this home's
    ``schedules`` folder); systemd units go to the user's unit folder, a launchd plist to
    ``~/Library/LaunchAgents``. ``enable``: also tell the scheduler (systemd: daemon-reload and
    enable --now; Windows and macOS: on those systems only)."""
    kind = schedule.entry_kind
    if kind is EntryKind.SYSTEMD:
        units = systemd_units(schedule, program)
        where = systemd_dir(environ)
        where.mkdir(parents=True, exist_ok=True)
        service, timer = where / f"{units.name}.service", where / f"{units.name}.timer"
        service.write_text(units.service, encoding="utf-8")
        timer.write_text(units.timer, encoding="utf-8")
        paths = (str(service), str(timer))
        if not enable:
            enable_now = f"systemctl --user enable --now {timer.name}"
            note = f"not enabled: run systemctl --user daemon-reload && {enable_now}"
            return EntryWritten(paths, notes=(note,))
        ran = []
        for argv in (
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", timer.name],
        ):
            _checked(run, argv)
            ran.append(" ".join(argv))
        return EntryWritten(paths, tuple(ran))
    if kind is EntryKind.CRON:
        if shutil.which("crontab") is None:
            raise ScheduleError("there is no crontab command on this machine: choose a systemd timer")
        current = _read_crontab(run)
        _checked(
            run, ["crontab", "-"], crontab_with(current, schedule.schedule_id, cron_line(schedule, program))
        )
        return EntryWritten((CRONTAB,), ("crontab -",))
    if kind is EntryKind.TASK_SCHEDULER:
        folder.mkdir(parents=True, exist_ok=True)
        xml_path = folder / f"drs-desktop-drill-{schedule.schedule_id}.xml"
        xml_path.write_text(task_xml(schedule, program), encoding="utf-16")
        argv = ["schtasks", "/Create", "/XML", str(xml_path), "/TN", task_name(schedule), "/F"]
        if enable and platform == "win32":
            _checked(run, argv)
            return EntryWritten((str(xml_path),), (" ".join(argv),))
        return EntryWritten((str(xml_path),), notes=(f"not registered: run {' '.join(argv)}",))
    agents = (
        Path(environ["HOME"] if environ and "HOME" in environ else Path.home()) / "Library" / "LaunchAgents"
    )
    agents.mkdir(parents=True, exist_ok=True)
    plist = agents / f"{launchd_label(schedule)}.plist"
    plist.write_bytes(launchd_plist(schedule, program))
    argv = ["launchctl", "load", "-w", str(plist)]
    if enable and platform == "darwin":
        _checked(run, argv)
        return EntryWritten((str(plist),), (" ".join(argv),))
    return EntryWritten((str(plist),), notes=(f"not loaded: run {' '.join(argv)}",))


def remove_entry(
    schedule: Schedule,
    paths: Sequence[str],
    *,
    run: Runner = _run,
    platform: str = sys.platform,
) -> list[str]:
    """Take the entry out: stop and delete the files it wrote, or its crontab line (by its marker, no
    other line). Returns what was done, one line each; a file already gone is said, not an error."""
    done: list[str] = []
    kind = schedule.entry_kind
    if kind is EntryKind.SYSTEMD and shutil.which("systemctl") is not None and systemd_user_works(run):
        timer = f"{unit_name(schedule)}.timer"
        try:
            _checked(run, ["systemctl", "--user", "disable", "--now", timer])
            done.append(f"ran: systemctl --user disable --now {timer}")
        except ScheduleError as exc:
            done.append(f"{exc} (the timer may never have been enabled)")
    if kind is EntryKind.CRON:
        current = _read_crontab(run)
        if crontab_has(current, schedule.schedule_id):
            _checked(run, ["crontab", "-"], crontab_without(current, schedule.schedule_id))
            done.append("removed its line from your crontab")
        else:
            done.append("your crontab had no line for it")
        return done
    if kind is EntryKind.TASK_SCHEDULER and platform == "win32":
        argv = ["schtasks", "/Delete", "/TN", task_name(schedule), "/F"]
        try:
            _checked(run, argv)
            done.append(f"ran: {' '.join(argv)}")
        except ScheduleError as exc:
            done.append(str(exc))
    if kind is EntryKind.LAUNCHD and platform == "darwin":
        for path in paths:
            try:
                _checked(run, ["launchctl", "unload", "-w", path])
                done.append(f"ran: launchctl unload -w {path}")
            except ScheduleError as exc:
                done.append(str(exc))
    for path in paths:
        file = Path(path)
        if file.exists():
            file.unlink()
            done.append(f"deleted {file}")
        else:
            done.append(f"already gone: {file}")
    if kind is EntryKind.SYSTEMD and shutil.which("systemctl") is not None and systemd_user_works(run):
        try:
            _checked(run, ["systemctl", "--user", "daemon-reload"])
        except ScheduleError as exc:
            done.append(str(exc))
    return done
