-- DRS Desktop schema v17: alerts outside the app (issue 18; docs/alerts.md).
--
-- alert_routes: where a plan's alerts go. kind: sns, slack, teams or json; target: the SNS topic ARN, or
-- for a webhook the reference of its OS keyring entry (the URL itself is a secret and never stored here);
-- kinds: the alert kinds it takes, comma-separated AlertKind values; the last delivery (attempt time,
-- delivered time, error free of the secret). Local to this desktop: never queued in sync_outbox (a
-- webhook URL never leaves the keyring, and two desktops sending the same route would say it twice).
CREATE TABLE alert_routes (
    route_id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL CHECK (plan_id <> ''),
    kind TEXT NOT NULL CHECK (kind IN ('sns', 'slack', 'teams', 'json')),
    label TEXT NOT NULL,
    target TEXT NOT NULL CHECK (target <> ''),
    kinds TEXT NOT NULL CHECK (kinds <> ''),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at TEXT NOT NULL,
    last_attempt_at TEXT,
    last_delivered_at TEXT,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_routes_plan ON alert_routes (plan_id);

-- alert_plan_state: per plan and alert kind, the last state a readiness alert was sent for, so a
-- refresh that finds the same state sends nothing (an alert on a change, not on every refresh).
CREATE TABLE alert_plan_state (
    plan_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (plan_id, kind)
);

-- alert_run_sent: a run's alerts claimed for sending (execution, key: the kind and, for a hold, which
-- hold). Claimed before sending, so a run resumed after a crash never says the same thing again.
CREATE TABLE alert_run_sent (
    execution_id TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (execution_id, alert_key)
);
