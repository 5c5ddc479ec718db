-- DRS Desktop schema v6: what the sync itself needs on top of v5 (docs/sync.md, "Conflicts").
--
-- sync_conflicts: a change of an entity that the table and this desktop both made since they last
-- agreed (a pulled head for an entity with queued, unpushed changes here, or a push the table refused on
-- its version). Neither side is applied or pushed until the operator resolves it (keep mine, take
-- theirs, save as a copy); `sync now` exits non-zero while one is open. "mine" is this desktop's side as
-- it was when the conflict was found (its local version and the document), "theirs" the table's head
-- (its version, change number, writer, deleted flag and body). A resolved conflict stays, for the record.
CREATE TABLE sync_conflicts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('PLAN', 'EXEC', 'SETTING')),
    key             TEXT NOT NULL,
    mine_version    INTEGER,                       -- the local version (plans.version, ...), NULL: none
    mine_document   TEXT NOT NULL,                 -- JSON of this desktop's side
    theirs_version  INTEGER NOT NULL CHECK (theirs_version >= 1),
    theirs_seq      INTEGER NOT NULL CHECK (theirs_seq >= 1),
    theirs_writer   TEXT NOT NULL,
    theirs_deleted  INTEGER NOT NULL DEFAULT 0 CHECK (theirs_deleted IN (0, 1)),
    theirs_body     TEXT,                          -- the head's JSON body; NULL for a tombstone
    detected_at     TEXT NOT NULL,
    resolved_at     TEXT,
    resolution      TEXT CHECK (resolution IN ('keep_mine', 'take_theirs', 'save_as_copy', 'table_recreated')),
    CHECK ((resolved_at IS NULL) = (resolution IS NULL))
);

-- At most one open conflict per entity: a newer head of theirs replaces the open one's "theirs".
CREATE UNIQUE INDEX sync_conflicts_open ON sync_conflicts (kind, key) WHERE resolved_at IS NULL;

-- Executions pulled from another desktop: someone else's, shown in history read-only. This desktop
-- never resumes or drives them (storage.executions.unfinished_executions leaves them out) and never
-- pushes them back as its own.
CREATE TABLE sync_foreign_executions (
    execution_id  TEXT PRIMARY KEY NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    writer        TEXT NOT NULL,                   -- the desktop ID that pushed it
    pulled_at     TEXT NOT NULL
);

-- Entities queued again by a start over (a table created again) that had no local change waiting: their
-- queued head only repeats what the old table held. A different head of the new table is then taken, not
-- a conflict (else every desktop but the first to come back would meet a conflict on every entity it
-- holds). through_id: the entity's last queue entry at the start over; a later one is a real local edit.
CREATE TABLE sync_requeued (
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    through_id  INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);

-- The table's header created_at when this desktop first synced with it: a table deleted and created
-- again under the same name has another one, and the sync then starts over (docs/sync.md).
ALTER TABLE sync_state ADD COLUMN table_created_at TEXT NOT NULL DEFAULT '';
