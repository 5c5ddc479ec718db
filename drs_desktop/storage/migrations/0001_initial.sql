-- DRS Desktop schema v1: plans with revisions, the inventory cache, settings overrides.
--
-- Conventions (docs/ARCHITECTURE.md, "Storage"):
-- * Times are UTC ISO-8601 text with microseconds ("2025-01-31T09:15:00.000000+00:00"): fixed width, so
--   text order is time order.
-- * Rows that a team may share through DynamoDB (plans, plan_revisions) carry a UUID id, created_at,
--   updated_at and an integer version that grows by one on every change.
-- * The migrator wraps this file in one transaction with the user_version bump: no BEGIN/COMMIT here.
-- * Plain column types, no STRICT tables: older SQLite builds (3.31 on Ubuntu 20.04) must still open the
--   file and say what is wrong rather than call the whole schema malformed.

CREATE TABLE plans (
    id          TEXT PRIMARY KEY NOT NULL,          -- UUID
    name        TEXT NOT NULL COLLATE NOCASE,       -- the latest revision's plan name
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- Deleting a plan leaves a tombstone: sync must learn of the deletion, and executions keep
    -- pointing at the revision they ran.
    deleted_at  TEXT
);

-- A name belongs to at most one live plan; a deleted plan's name may be used again.
CREATE UNIQUE INDEX plans_live_name ON plans (name COLLATE NOCASE) WHERE deleted_at IS NULL;

CREATE TABLE plan_revisions (
    id            TEXT PRIMARY KEY NOT NULL,        -- UUID; executions pin this row
    plan_id       TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    revision      INTEGER NOT NULL CHECK (revision >= 1),
    document      TEXT NOT NULL,                    -- canonical JSON of plan_to_document(plan)
    content_hash  TEXT NOT NULL,                    -- sha256 hex of document's UTF-8 bytes
    wave_count    INTEGER NOT NULL DEFAULT 0,
    server_count  INTEGER NOT NULL DEFAULT 0,       -- distinct server IDs the waves name directly
    comment       TEXT NOT NULL DEFAULT '',
    author        TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,                    -- when this revision was saved
    updated_at    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    UNIQUE (plan_id, revision)
);

-- The last-known source servers of each account and region, so plans can be edited offline.
-- A cache, never synced: a refresh replaces all rows of its account and region.
CREATE TABLE inventory_snapshots (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    fetched_at    TEXT NOT NULL,
    server_count  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, region)
);

CREATE INDEX inventory_snapshots_fetched ON inventory_snapshots (fetched_at);

CREATE TABLE inventory (
    account_id          TEXT NOT NULL,
    region              TEXT NOT NULL,
    source_server_id    TEXT NOT NULL,
    position            INTEGER NOT NULL,           -- order as DRS listed the servers
    hostname            TEXT NOT NULL DEFAULT '',
    tags                TEXT NOT NULL DEFAULT '{}', -- JSON object of string to string
    replication_state   TEXT NOT NULL DEFAULT '',
    lag_seconds         INTEGER,
    os                  TEXT NOT NULL DEFAULT '',
    last_launch_status  TEXT NOT NULL DEFAULT '',
    last_launched_at    TEXT,
    arn                 TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, region, source_server_id),
    FOREIGN KEY (account_id, region) REFERENCES inventory_snapshots (account_id, region) ON DELETE CASCADE
);

-- Overrides of the settings declared in code (domain/settings.py); a key absent here has its default.
-- Never secrets: keys go to the OS keyring.
CREATE TABLE settings (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL,                      -- JSON
    updated_at  TEXT NOT NULL
);
