-- Placeholder for migration 0017, which the alert-routes part of issue 18 adds (0017_alert_routes.sql).
-- Only here so that this branch's 0018 has no gap; delete this file when that branch is merged (two
-- files numbered 0017 make the migrator refuse to start, so it cannot be missed).
SELECT 1;
