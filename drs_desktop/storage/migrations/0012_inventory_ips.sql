-- DRS Desktop schema v12: each cached source server keeps its IP addresses (DRS's
-- sourceProperties.networkInterfaces[].ips, the primary interface's first), as a JSON list: desired launch
-- settings map a server's IP to a subnet and check that a copied private IP fits it (docs/plan-format.md,
-- "Launch settings"). Servers cached before v12 have none until the next refresh.
ALTER TABLE inventory ADD COLUMN ips TEXT NOT NULL DEFAULT '[]';
