"""Saving, listing and removing a schedule (the systemd entry written into a temporary
XDG_CONFIG_HOME, never enabled), its record in SQLite (schema 18), and the profile check against real
AWS config files and keyring backends, with GetCallerIdentity answered by the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.connection import AccessKeyPair, ConnectionSettings
from drs_desktop.domain.schedule.model import EntryKind, ScheduleError
from drs_desktop.secrets import SecretStore
from drs_desktop.services import schedules
from drs_desktop.services.connection import save_connection_settings
from drs_desktop.services.schedule_entries import default_kind, program_argv
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import schedules as store
from drs_desktop.storage.db import SCHEMA_VERSION, Database
from tests.schedules.values import a_schedule
from tests.secrets.memory_keyring import install_fail, install_memory

PROGRAM = ("/usr/bin/drs-desktop",)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "home" / "drs-desktop.sqlite3") as database:
        yield database


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "aws-config"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))


def test_the_schema_is_18_with_the_schedule_tables(db: Database) -> None:
    assert SCHEMA_VERSION == 18
    assert db.schema_version == 18
    with db.reader() as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"schedules", "schedule_runs"} <= tables


def test_profile_check_refuses_an_mfa_role_and_an_sso_profile(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim: EmbeddedSimulator
) -> None:
    aws_config(
        tmp_path,
        monkeypatch,
        "[profile base]\nregion = us-east-1\n"
        "[profile mfa-role]\nrole_arn = arn:aws:iam::123456789012:role/Drill\nsource_profile = base\n"
        "mfa_serial = arn:aws:iam::123456789012:mfa/op\n"
        "[profile via-sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Drill\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
        "[profile role-from-sso]\nrole_arn = arn:aws:iam::123456789012:role/Drill\n"
        "source_profile = via-sso\n",
    )
    secrets = SecretStore()
    mfa = schedules.check_profile(db, "mfa-role", "us-east-1", secrets, endpoint_url=sim.endpoint_url)
    assert not mfa.ok and len(mfa.problems) == 1
    assert "assumes role arn:aws:iam::123456789012:role/Drill with MFA" in mfa.problems[0]
    sso = schedules.check_profile(db, "via-sso", "us-east-1", secrets, endpoint_url=sim.endpoint_url)
    assert [p.split(":")[0] for p in sso.problems] == [
        "profile 'via-sso' signs in through IAM Identity Center (sso_session/sso_start_url)"
    ]
    chained = schedules.check_profile(
        db, "role-from-sso", "us-east-1", secrets, endpoint_url=sim.endpoint_url
    )
    assert "'via-sso' signs in through IAM Identity Center" in chained.problems[0]
    missing = schedules.check_profile(db, "nobody", "us-east-1", secrets)
    assert missing.problems == ("profile 'nobody' does not exist in the AWS config files",)


def test_profile_check_refuses_keys_from_a_locked_or_absent_keyring(
    db: Database, monkeypatch: pytest.MonkeyPatch, sim: EmbeddedSimulator
) -> None:
    save_connection_settings(
        db, ConnectionSettings(profile="drill-bot", region="us-east-1", use_typed_keys=True)
    )
    install_fail(monkeypatch)
    check = schedules.check_profile(
        db, "drill-bot", "us-east-1", SecretStore(), endpoint_url=sim.endpoint_url
    )
    assert len(check.problems) == 1
    assert "come from the OS keyring, which is locked or absent (fail Keyring)" in check.problems[0]


def test_profile_check_passes_with_keys_in_an_unlocked_keyring(
    db: Database, monkeypatch: pytest.MonkeyPatch, sim: EmbeddedSimulator
) -> None:
    save_connection_settings(
        db, ConnectionSettings(profile="drill-bot", region="us-east-1", use_typed_keys=True)
    )
    install_memory(monkeypatch)
    secrets = SecretStore()
    empty = schedules.check_profile(db, "drill-bot", "", secrets, endpoint_url=sim.endpoint_url)
    assert len(empty.problems) == 1
    assert empty.problems[0].startswith("no access keys for 'drill-bot' could be read from the OS keyring")
    secrets.save_keys("drill-bot", AccessKeyPair("AKIAEXAMPLEKEY000001", "secret" * 6))
    check = schedules.check_profile(db, "drill-bot", "", secrets, endpoint_url=sim.endpoint_url)
    assert check.ok, check.problems
    assert check.identity.startswith("arn:aws:")


def test_a_profile_that_works_is_checked_with_get_caller_identity(
    db: Database, sim: EmbeddedSimulator
) -> None:
    check = schedules.check_profile(db, "", "us-east-1", SecretStore(), endpoint_url=sim.endpoint_url)
    assert check.ok and check.identity.startswith(f"arn:aws:iam::{sim.account_id}:")
    endpoint = sim.endpoint_url
    sim.stop()
    down = schedules.check_profile(db, "", "us-east-1", SecretStore(), endpoint_url=endpoint)
    assert not down.ok and down.problems[0].startswith("GetCallerIdentity with profile 'default' failed:")


def test_save_writes_the_systemd_units_records_them_and_remove_takes_them_out(
    db: Database, config_home: Path, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    schedule = a_schedule(entry_kind=EntryKind.SYSTEMD, report_dir=str(tmp_path / "reports"))
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    result = schedules.save(
        db,
        schedule,
        secrets=SecretStore(),
        program=PROGRAM,
        folder=tmp_path,
        now=now,
        endpoint_url=sim.endpoint_url,
    )
    unit_dir = config_home / "systemd" / "user"
    timer = unit_dir / "drs-desktop-drill-a1b2c3d4e5f6.timer"
    service = unit_dir / "drs-desktop-drill-a1b2c3d4e5f6.service"
    assert timer.is_file() and service.is_file()
    assert "OnCalendar=*-*-* 02:30:00" in timer.read_text(encoding="utf-8")
    lines = result.lines()
    assert lines[0].startswith("scheduled 'Shop' daily at 02:30 (local time) as arn:aws:iam::")
    assert f"wrote {service}" in lines and f"wrote {timer}" in lines
    assert any(line.startswith("not enabled: run systemctl --user daemon-reload") for line in lines)
    stored = store.get_schedule(db, "a1b2c3d4e5f6")
    assert stored is not None and stored.schedule == schedule
    assert stored.entry_paths == (str(service), str(timer))
    # saving the plan's schedule again replaces it (one per plan), keeping its creation time
    later = replace(schedule, hour=4, created_at=now)
    schedules.save(
        db,
        later,
        secrets=SecretStore(),
        program=PROGRAM,
        folder=tmp_path,
        now=now,
        endpoint_url=sim.endpoint_url,
    )
    assert "OnCalendar=*-*-* 04:30:00" in timer.read_text(encoding="utf-8")
    assert [s.schedule.created_at for s in store.list_schedules(db)] == [schedule.created_at]
    done = schedules.remove(db, "Shop")
    assert f"deleted {service}" in done and f"deleted {timer}" in done
    assert not timer.exists() and store.list_schedules(db) == []
    with pytest.raises(ScheduleError, match="no schedule with ID or plan name 'Shop'"):
        schedules.remove(db, "Shop")


def test_save_refuses_a_profile_that_needs_a_person_and_writes_nothing(
    db: Database, config_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    aws_config(tmp_path, monkeypatch, "[profile via-sso]\nsso_start_url = https://x.awsapps.com/start\n")
    schedule = a_schedule(profile="via-sso", report_dir=str(tmp_path / "r"))
    with pytest.raises(ScheduleError, match="the profile cannot run unattended: profile 'via-sso' signs in"):
        schedules.save(
            db, schedule, secrets=SecretStore(), program=PROGRAM, folder=tmp_path, now=datetime.now(UTC)
        )
    assert not (config_home / "systemd").exists() and store.list_schedules(db) == []


def test_list_and_missed_say_the_last_run_or_the_missed_one(
    db: Database, config_home: Path, tmp_path: Path
) -> None:
    schedule = a_schedule(report_dir=str(tmp_path / "r"))
    store.save_schedule(db, schedule, (), schedule.created_at)
    now = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    [row] = schedules.list_schedules(db, now, UTC)
    assert row.status == "missed the run due 2026-11-25 02:30 local time"
    [alert] = schedules.missed(db, now, UTC)
    assert alert.kind is AlertKind.SCHEDULE_MISSED and alert.plan_name == "Shop"
    started = datetime(2026, 11, 25, 2, 30, 4, tzinfo=UTC)
    store.start_run(db, schedule.schedule_id, started)
    assert "running, no report yet" in schedules.list_schedules(db, now, UTC)[0].status
    store.end_run(
        db,
        schedule.schedule_id,
        started,
        ended_at=now,
        outcome="succeeded",
        execution_id="e1",
        report_path="/r/x.html",
    )
    assert schedules.list_schedules(db, now, UTC)[0].status == (
        "last run 2026-11-25 02:30 local time: succeeded, report /r/x.html"
    )
    assert schedules.missed(db, now, UTC) == []


def test_the_entry_kind_follows_the_system_and_the_program_is_absolute(tmp_path: Path) -> None:
    assert default_kind("win32") is EntryKind.TASK_SCHEDULER
    assert default_kind("darwin") is EntryKind.LAUNCHD
    assert default_kind("linux", lambda: True) is EntryKind.SYSTEMD
    assert default_kind("linux", lambda: False) is EntryKind.CRON
    assert program_argv("/opt/DRS Desktop/drs-desktop", frozen=True) == ("/opt/DRS Desktop/drs-desktop",)
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.write_text("", encoding="utf-8")
    assert program_argv(str(python), frozen=False) == (str(python), "-m", "drs_desktop")
    (python.parent / "drs-desktop").write_text("", encoding="utf-8")
    assert program_argv(str(python), frozen=False) == (str(python.parent / "drs-desktop"),)


def test_profile_check_refuses_credentials_only_this_session_s_environment_gives(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler starts the drill without the desktop session's environment (the entry sets none):
    keys or a profile exported in a shell pass GetCallerIdentity now and are gone at 02:30."""
    aws_config(tmp_path, monkeypatch, "[profile drill-bot]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_PROFILE", "drill-bot")
    real = "https://drs.us-east-1.amazonaws.com"  # not loopback: refused before any call is made
    check = schedules.check_profile(db, "", "us-east-1", SecretStore(), endpoint_url=real)
    assert not check.ok and check.identity == ""
    assert any("AWS_ACCESS_KEY_ID" in p and "environment" in p for p in check.problems), check.problems
    assert any("AWS_PROFILE" in p for p in check.problems), check.problems
    assert all("not-a-real-secret" not in p for p in check.problems)
