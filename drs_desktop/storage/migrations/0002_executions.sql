-- DRS Desktop schema v2: executions and their journal.
--
-- An execution is event-sourced (docs/ARCHITECTURE.md §2): execution_events is the append-only journal the
-- runner writes *before* each side effect (the intent) and right after it (the result); the execution's
-- state is rebuilt by replaying it. The executions row is a summary for listings, kept in step with the
-- journal in the same transaction.

CREATE TABLE executions (
    id                TEXT PRIMARY KEY NOT NULL,    -- UUID; also the tag the DRS jobs carry
    plan_id           TEXT NOT NULL REFERENCES plans (id),
    plan_revision_id  TEXT NOT NULL REFERENCES plan_revisions (id),  -- the revision it ran, pinned
    plan_name         TEXT NOT NULL,
    plan_revision     INTEGER NOT NULL,
    mode              TEXT NOT NULL CHECK (mode IN ('DRILL', 'RECOVERY')),
    status            TEXT NOT NULL,                -- live status or outcome, for listings
    outcome           TEXT,                         -- SUCCEEDED / FAILED / CANCELLED once finished
    spec              TEXT NOT NULL DEFAULT '{}',   -- JSON: the resolved waves and servers the engine runs
    options           TEXT NOT NULL DEFAULT '{}',   -- JSON: recovery point, poll interval, endpoint, ...
    identity          TEXT NOT NULL DEFAULT '{}',   -- JSON: the operator's AWS account, ARN, user id
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)
);

CREATE INDEX executions_started ON executions (started_at);
CREATE INDEX executions_unfinished ON executions (finished_at) WHERE finished_at IS NULL;

CREATE TABLE execution_events (
    execution_id  TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL CHECK (seq >= 1),  -- 1, 2, 3... without gaps
    type          TEXT NOT NULL,
    at            TEXT NOT NULL,
    payload       TEXT NOT NULL,                      -- JSON of the event, "type" included
    recorded_at   TEXT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);
