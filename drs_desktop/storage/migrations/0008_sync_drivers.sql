-- DRS Desktop schema v8: an execution driven by more than one desktop (docs/sync.md, "More than one driver").
--
-- A desktop that takes an execution over journals TakenOver and continues the seq numbers from the last
-- event it held; the old driver may hold events of its own under the same numbers, journaled but not
-- pushed (or pushed after the takeover). The table's lineage decides whose are the execution's; the
-- others are moved here, in the same transaction that applies the table's, never deleted.
CREATE TABLE sync_superseded_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id   TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    type           TEXT NOT NULL,
    at             TEXT NOT NULL,
    payload        TEXT NOT NULL,                    -- the event as it was journaled here
    recorded_at    TEXT NOT NULL,                    -- when it was journaled here
    superseded_at  TEXT NOT NULL,
    superseded_by  TEXT NOT NULL                     -- the desktop ID whose takeover superseded it
);

CREATE INDEX sync_superseded_execution ON sync_superseded_events (execution_id, seq);

-- The desktop that drove an execution first (seq 1 on), for executions pulled from another desktop: the
-- lineage a push sends is this, then every TakenOver in the journal. An execution created here has no
-- row (this desktop is its first driver). Filled from the executions already pulled (their writer).
CREATE TABLE sync_first_drivers (
    execution_id  TEXT PRIMARY KEY NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    desktop_id    TEXT NOT NULL
);

INSERT INTO sync_first_drivers (execution_id, desktop_id)
SELECT execution_id, writer FROM sync_foreign_executions;

-- Executions whose journal in the table could not be read as their head's lineage says (a page missing,
-- overlapping or malformed). The pull records the problem here, applies the rest of the feed and moves
-- its cursor on; every later pull reads these executions' heads again first, and a row goes once its
-- execution is applied. No foreign key: the execution may never have arrived here.
CREATE TABLE sync_blocked_executions (
    execution_id   TEXT PRIMARY KEY NOT NULL,
    problem        TEXT NOT NULL,
    first_seen_at  TEXT NOT NULL,
    last_tried_at  TEXT NOT NULL,
    tries          INTEGER NOT NULL DEFAULT 1 CHECK (tries >= 1)
);
