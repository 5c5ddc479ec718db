-- DRS Desktop schema v15: this desktop's trust in local scripts (issue 17; docs/script-trust.md).
--
-- script_trust: one row per script path this desktop trusts. path: absolute, as a plan's script step
-- names it (the key); resolved_path: the file it led to (symbolic links followed) when it was trusted;
-- sha256: that file's bytes then (64 lowercase hex digits); trusted_by: the OS user who confirmed;
-- trusted_at: when (UTC ISO-8601); shown_command: the command line the confirmation showed.
-- Local to this desktop by design: no UUID, no version, never queued in sync_outbox, never in a plan
-- file or an export. A plan can name a script; only a person at this desktop can make it run.
CREATE TABLE script_trust (
    path TEXT PRIMARY KEY CHECK (path <> ''),
    resolved_path TEXT NOT NULL CHECK (resolved_path <> ''),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    trusted_by TEXT NOT NULL,
    trusted_at TEXT NOT NULL,
    shown_command TEXT NOT NULL
);
