-- DRS Desktop schema v7: the outbox may queue a target's inventory cache (docs/sync.md, kind INVENTORY).
--
--   kind 'INVENTORY' key '<account>#<region>' what 'head' (no local version: NULL; the pusher reads the
--                                                           cached servers and fetched_at when it pushes)
--
-- SQLite cannot change a CHECK constraint in place, so the queue is rebuilt with the same columns and
-- rows (ids kept). Its AUTOINCREMENT counter is carried over: an id handed out before must never be
-- handed out again (see 0005), even when its entry is gone.
CREATE TABLE sync_outbox_v7 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('PLAN', 'EXEC', 'SETTING', 'INVENTORY')),
    key          TEXT NOT NULL,
    what         TEXT NOT NULL CHECK (what IN ('head', 'revision', 'journal')),
    version      INTEGER CHECK (version >= 0),
    ref          TEXT REFERENCES plan_revisions (id) ON DELETE CASCADE,
    enqueued_at  TEXT NOT NULL,
    CHECK (what <> 'revision' OR (kind = 'PLAN' AND ref IS NOT NULL AND version IS NOT NULL)),
    CHECK (what <> 'journal' OR (kind = 'EXEC' AND version IS NOT NULL)),
    CHECK ((kind IN ('SETTING', 'INVENTORY')) = (version IS NULL)),
    CHECK (kind <> 'INVENTORY' OR what = 'head'),
    CHECK (kind = 'PLAN' OR ref IS NULL)
);

INSERT INTO sync_outbox_v7 (id, kind, key, what, version, ref, enqueued_at)
SELECT id, kind, key, what, version, ref, enqueued_at FROM sync_outbox ORDER BY id;

DELETE FROM sqlite_sequence WHERE name = 'sync_outbox_v7';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'sync_outbox_v7', seq FROM sqlite_sequence WHERE name = 'sync_outbox';

DROP TABLE sync_outbox;
ALTER TABLE sync_outbox_v7 RENAME TO sync_outbox;

CREATE INDEX sync_outbox_entity ON sync_outbox (kind, key, what);
CREATE UNIQUE INDEX sync_outbox_revision ON sync_outbox (ref) WHERE what = 'revision';
