-- DRS Desktop schema v10: the desktop ID is bound to where its database lives (docs/sync.md, "A copied
-- database"; storage/sync_identity.py).
--
-- A copy of the SQLite file (another machine, another path) carried the same desktop ID: both copies
-- pushed as one writer and each thought it held the other's leases. The ID now goes with a fingerprint
-- of the machine (a hash of its machine ID, never the ID itself) and the database's absolute path; a
-- database opened where the fingerprint differs mints a new ID. Empty: not bound yet (the first open
-- after this migration binds it, keeping the ID).
ALTER TABLE sync_state ADD COLUMN bound_machine TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_state ADD COLUMN bound_path TEXT NOT NULL DEFAULT '';

-- The IDs this database had before, newest last: its own executions, driven under one of them, stay its
-- own (not someone else's) when their heads come back from the table.
CREATE TABLE sync_former_ids (
    desktop_id   TEXT PRIMARY KEY NOT NULL,
    replaced_at  TEXT NOT NULL,                 -- when this database got its next ID
    bound_path   TEXT NOT NULL DEFAULT ''       -- where the database was while it had this ID
);
