-- DRS Desktop schema v13: applies of desired launch settings (docs/launch-settings.md), journaled so that a
-- crash mid-way resumes and never leaves a server half-changed without saying so.
--
-- launch_applies: one apply of one plan revision to one target (account, Region, endpoint, profile: what
-- `launch-settings apply --resume ID` reconnects to). status RUNNING until every server has ended, then
-- DONE. launch_apply_servers: each server of the apply with the writes meant for it, fixed when the apply
-- started (template_data: the whole new template version's data as JSON, so a resend carries the same
-- ClientToken with the same parameters; drs_update: the UpdateLaunchConfiguration fields as JSON;
-- drs_before: the DRS values the preview read, to refuse a server changed in DRS since), the step it
-- reached (status: PENDING, CHECKED, VERSION_CREATED, DEFAULT_SET, DRS_UPDATED, then VERIFIED, FAILED or
-- SKIPPED) and the write sent whose answer was not recorded yet (pending_step, '' when none).
CREATE TABLE launch_applies (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL,
    plan_name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL,
    endpoint_url TEXT NOT NULL DEFAULT '',
    profile TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('RUNNING', 'DONE')),
    operator TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);

CREATE INDEX launch_applies_by_status ON launch_applies (status, created_at);

CREATE TABLE launch_apply_servers (
    apply_id TEXT NOT NULL REFERENCES launch_applies (id) ON DELETE CASCADE,
    server_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    hostname TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (
        status IN ('PENDING', 'CHECKED', 'VERSION_CREATED', 'DEFAULT_SET', 'DRS_UPDATED', 'VERIFIED',
                   'FAILED', 'SKIPPED')
    ),
    pending_step TEXT NOT NULL DEFAULT '',
    template_id TEXT NOT NULL DEFAULT '',
    base_version INTEGER,
    new_version INTEGER,
    template_data TEXT NOT NULL DEFAULT '',
    drs_update TEXT NOT NULL DEFAULT '',
    drs_before TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (apply_id, server_id)
);
