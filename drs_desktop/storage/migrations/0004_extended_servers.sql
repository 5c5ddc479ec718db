-- DRS Desktop schema v4: extended source servers in the inventory cache.
--
-- An extended source server replicates in a staging account and is recovered in this one (DRS's
-- stagingArea). The cache keeps where it comes from, so the Servers pane and the plan editor say
-- "extended from staging account X (server s-...)" offline too. Empty for every other server.

ALTER TABLE inventory ADD COLUMN staging_account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory ADD COLUMN staging_source_server_arn TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory ADD COLUMN extension_status TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory ADD COLUMN extension_error TEXT NOT NULL DEFAULT '';
