-- DRS Desktop schema v18: unattended scheduled drills (issue 18; docs/scheduled-drills.md).
--
-- schedules: one row per scheduled plan. Local to this desktop by design (the entry lives in this
-- machine's scheduler and names a profile of this machine's AWS files): no UUID version, never queued
-- in sync_outbox, never in a plan file. frequency: daily | weekly | monthly; weekday 0 (Monday) .. 6
-- for weekly, day_of_month 1..28 for monthly; at_time HH:MM local time; entry_kind: systemd | cron |
-- task-scheduler | launchd; entry_paths: where the entry was written, one per line (for a cron entry,
-- "crontab"); created_at/updated_at UTC ISO-8601.
CREATE TABLE schedules (
    id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 8 AND 32),
    plan_id TEXT NOT NULL,
    plan_name TEXT NOT NULL CHECK (plan_name <> ''),
    frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    weekday INTEGER CHECK (weekday BETWEEN 0 AND 6),
    day_of_month INTEGER CHECK (day_of_month BETWEEN 1 AND 28),
    at_time TEXT NOT NULL CHECK (length(at_time) = 5),
    profile TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    soak_minutes INTEGER NOT NULL CHECK (soak_minutes BETWEEN 0 AND 1440),
    auto_approve INTEGER NOT NULL CHECK (auto_approve IN (0, 1)),
    report_dir TEXT NOT NULL CHECK (report_dir <> ''),
    entry_kind TEXT NOT NULL CHECK (entry_kind IN ('systemd', 'cron', 'task-scheduler', 'launchd')),
    entry_paths TEXT NOT NULL DEFAULT '',
    home TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX schedules_plan ON schedules (plan_id);

-- schedule_runs: each unattended drill's start, end, outcome (succeeded | failed | cancelled | refused
-- | error) and report; a run with no report_path wrote none. Removed with their schedule (each run's
-- execution and its evidence stay in executions).
CREATE TABLE schedule_runs (
    schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    execution_id TEXT NOT NULL DEFAULT '',
    report_path TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (schedule_id, started_at)
);
