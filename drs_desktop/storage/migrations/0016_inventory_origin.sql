-- DRS Desktop schema v16: each cached source server keeps where its EC2 instance runs when it is
-- AWS-hosted (DRS's sourceCloudProperties: originAccountID, originRegion; "" for a server on premises or
-- when DRS does not say), so EC2 facts read from the cache are read in the instance's own Region
-- (docs/launch-settings.md, "EC2 facts into DRS"), and a cached inventory equals the one it was refreshed
-- from. Servers cached before v16 have "" until the next refresh.
ALTER TABLE inventory ADD COLUMN origin_account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory ADD COLUMN origin_region TEXT NOT NULL DEFAULT '';
