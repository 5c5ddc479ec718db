-- DRS Desktop schema v3: the control inbox.
--
-- An operator control (pause, approve, retry, ...) sent from another process while a driver runs an
-- execution is not journaled by the sender: only the driver appends to its execution's journal. The sender
-- queues the control here; the driver takes it between two decisions, checks it against its state, and
-- either journals it (state 'journaled', seq = the journal entry, in the same transaction as the append,
-- so a control is never journaled twice) or refuses it (state 'refused', with the reason). The sender
-- polls its row to tell the operator which.

CREATE TABLE control_inbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id  TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    control       TEXT NOT NULL,                   -- JSON of the control event, "type" included
    submitted_at  TEXT NOT NULL,
    submitted_by  TEXT NOT NULL DEFAULT '',        -- who and from where: "alice (pid 1234 on host)"
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'journaled', 'refused')),
    reason        TEXT,                            -- why it was refused
    seq           INTEGER,                         -- the journal entry it became, once journaled
    decided_at    TEXT,
    CHECK ((state = 'journaled') = (seq IS NOT NULL))
);

CREATE INDEX control_inbox_queued ON control_inbox (execution_id, id) WHERE state = 'queued';
