-- DRS Desktop schema v14: each cached source server keeps the EC2 instance it replicates when it is
-- AWS-hosted (DRS's sourceProperties.identificationHints.awsInstanceID; "" for a server on premises), so
-- copying EC2 facts (tags, instance type) into DRS knows its servers from the cache
-- (docs/launch-settings.md, "EC2 facts into DRS"). Servers cached before v14 have "" until the next refresh.
ALTER TABLE inventory ADD COLUMN aws_instance_id TEXT NOT NULL DEFAULT '';
