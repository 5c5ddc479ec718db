-- DRS Desktop schema v5: the local side of team sync (docs/sync.md): what to push, what was synced.
--
-- sync_outbox is the queue of local changes a sync task pushes, in the order they were made. Storage
-- writes each entry in the SAME transaction as the change itself (storage/sync_outbox.py), so a crash
-- never leaves a change without its entry nor an entry without its change. Changes are queued always,
-- whether or not sync is configured: a desktop that turns sync on later pushes its whole history in the
-- order it was made, with no separate "first sync" path.
--
-- An entry says "this entity changed; local version N". The pusher reads the entity's data when it
-- pushes. Kinds and keys are those of docs/sync.md:
--   kind 'PLAN'    key plan id       what 'revision' (one per revision, never merged: revisions are
--                                      append-only; version = the local revision number, ref = its id)
--                                     what 'head'     (version = plans.version, ref = latest revision id)
--   kind 'EXEC'    key execution id  what 'journal'  (version = the last journal seq to push)
--                                     what 'head'     (version = executions.version)
--   kind 'SETTING' key setting key   what 'head'     (no local version: NULL; a missing override row
--                                                     means "back to the default", pushed as deleted)
-- Heads are coalesced: a new head entry replaces the entity's queued one and goes to the end of the
-- queue, after the revisions or journal it names. The one exception: a plan head is not moved behind a
-- queued entry of an execution of that plan (the execution must reach the table after a head naming its
-- pinned revision); a second head entry is queued instead. The journal entry of an execution is
-- coalesced the same way (pages are cut from the local events when pushing).

-- AUTOINCREMENT, not a plain rowid: coalescing deletes the newest entry and inserts another, and a plain
-- rowid would hand the deleted entry's id to the new one, which a push still holding the old id would
-- then take off the queue unpushed.
CREATE TABLE sync_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,     -- the order of the changes
    kind         TEXT NOT NULL CHECK (kind IN ('PLAN', 'EXEC', 'SETTING')),
    key          TEXT NOT NULL,
    what         TEXT NOT NULL CHECK (what IN ('head', 'revision', 'journal')),
    version      INTEGER CHECK (version >= 0),
    ref          TEXT REFERENCES plan_revisions (id) ON DELETE CASCADE,
    enqueued_at  TEXT NOT NULL,
    CHECK (what <> 'revision' OR (kind = 'PLAN' AND ref IS NOT NULL AND version IS NOT NULL)),
    CHECK (what <> 'journal' OR (kind = 'EXEC' AND version IS NOT NULL)),
    CHECK ((kind = 'SETTING') = (version IS NULL)),
    CHECK (kind = 'PLAN' OR ref IS NULL)
);

CREATE INDEX sync_outbox_entity ON sync_outbox (kind, key, what);
-- A revision is queued once.
CREATE UNIQUE INDEX sync_outbox_revision ON sync_outbox (ref) WHERE what = 'revision';

-- This desktop and the table it syncs with: one row. The desktop ID is a random UUID made here, once;
-- the table is named by name, Region, endpoint and profile name, never by credentials (the keyring).
-- table_name '' means sync is not configured.
CREATE TABLE sync_state (
    id             INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    desktop_id     TEXT NOT NULL,
    table_name     TEXT NOT NULL DEFAULT '',
    region         TEXT NOT NULL DEFAULT '',
    endpoint       TEXT NOT NULL DEFAULT '',
    profile        TEXT NOT NULL DEFAULT '',
    cursor         INTEGER NOT NULL DEFAULT 0 CHECK (cursor >= 0),  -- every change up to it was seen
    last_sync_at   TEXT,                                           -- the last sync that succeeded
    last_error     TEXT,                                           -- NULL once a sync succeeds again
    last_error_at  TEXT
);

INSERT INTO sync_state (id, desktop_id)
VALUES (
    1,
    lower(
        hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
        || substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
        || hex(randomblob(6))
    )
);

-- Per entity, what the table held when this desktop last pushed or pulled it: the version a local
-- edit is based on (a push conditions on it; a mismatch is a conflict) and its change seq. An EXEC also
-- keeps the last journal event the table has. version and seq are NULL while only journal pages went.
CREATE TABLE sync_entities (
    kind          TEXT NOT NULL CHECK (kind IN ('PLAN', 'EXEC', 'SETTING', 'INVENTORY')),
    key           TEXT NOT NULL,
    version       INTEGER CHECK (version >= 1),
    seq           INTEGER CHECK (seq >= 1),
    journal_last  INTEGER NOT NULL DEFAULT 0 CHECK (journal_last >= 0),
    synced_at     TEXT NOT NULL,
    PRIMARY KEY (kind, key),
    CHECK ((version IS NULL) = (seq IS NULL))
);

-- The number the table gave each revision (REV#<number>). A revision without a row here is PENDING:
-- saved on this desktop, not yet numbered by the team. plan_revisions.revision stays what it was, the
-- revision's number on this desktop (NOT NULL, the order of the plan's history here; executions copy
-- it for listings but pin the revision by id and content hash): rebuilding that table to make the
-- number nullable would change every reader for a state only sync knows. The two numbers agree unless
-- two desktops edited the same plan before a push (a conflict the sync resolves). UNIQUE keeps two
-- revisions of one plan from ever holding the same team number.
CREATE TABLE sync_revisions (
    revision_id  TEXT PRIMARY KEY NOT NULL REFERENCES plan_revisions (id) ON DELETE CASCADE,
    plan_id      TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL CHECK (number >= 1),
    synced_at    TEXT NOT NULL,
    UNIQUE (plan_id, number)
);

-- Queue the history written before this schema, so that it is pushed like any later change: every
-- revision (in the order saved), then every plan head, then every execution (its journal, then its
-- head), then the shared settings overrides (domain/settings/shared.py, SHARED_SETTINGS: a test checks
-- that this list is the same).
INSERT INTO sync_outbox (kind, key, what, version, ref, enqueued_at)
SELECT kind, key, what, version, ref,
       strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.' || substr(strftime('%f', 'now'), 4) || '000+00:00'
FROM (
    SELECT 1 AS part, r.created_at AS at, r.plan_id AS tiebreak, r.revision AS n,
           'PLAN' AS kind, r.plan_id AS key, 'revision' AS what, r.revision AS version, r.id AS ref
    FROM plan_revisions r
    UNION ALL
    SELECT 2, p.created_at, p.id, 0, 'PLAN', p.id, 'head', p.version,
           (SELECT r.id FROM plan_revisions r WHERE r.plan_id = p.id ORDER BY r.revision DESC LIMIT 1)
    FROM plans p
    UNION ALL
    SELECT 3, e.created_at, e.id, 0, 'EXEC', e.id, 'journal',
           (SELECT max(v.seq) FROM execution_events v WHERE v.execution_id = e.id), NULL
    FROM executions e
    WHERE EXISTS (SELECT 1 FROM execution_events v WHERE v.execution_id = e.id)
    UNION ALL
    SELECT 3, e.created_at, e.id, 1, 'EXEC', e.id, 'head', e.version, NULL
    FROM executions e
    UNION ALL
    SELECT 4, '', s.key, 0, 'SETTING', s.key, 'head', NULL, NULL
    FROM settings s
    WHERE s.key IN ('engine.poll_interval_seconds', 'engine.wave_timeout_minutes',
                    'engine.cancel_grace_minutes')
)
ORDER BY part, at, tiebreak, n;
