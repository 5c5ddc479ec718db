-- DRS Desktop schema v9: the link between a local plan and the native DRS recovery plan it was published
-- as (or imported from): docs/native-plans.md.
--
-- One link per local plan: a native plan lives in one account and Region. The steps are kept as DRS read
-- them back once the publish was complete (JSON: the ListRecoveryPlanSteps items, in order), so that a
-- later change made in DRS is found by comparing with them (drift). No credential, ever.
CREATE TABLE native_plan_links (
    plan_id              TEXT PRIMARY KEY NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    account_id           TEXT NOT NULL,
    region               TEXT NOT NULL,
    recovery_plan_arn    TEXT NOT NULL,
    revision_id          TEXT NOT NULL REFERENCES plan_revisions (id),
    content_hash         TEXT NOT NULL,
    steps                TEXT NOT NULL,                -- JSON array of DRS's step items as read back
    published_at         TEXT NOT NULL,
    published_by         TEXT NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX native_plan_links_arn ON native_plan_links (recovery_plan_arn);
