-- DRS Desktop schema v11: a native plan link knows a publish that did not finish, and the native plan's
-- name and description as published (docs/native-plans.md).
--
-- pending_revision_id: the revision whose publish started and did not finish ('' when none): DRS may hold
-- part of it, which is our unfinished publish, not drift. native_name / native_description: what DRS was
-- given, so that a rename or a new description made in DRS shows as drift ('' on links made before v11:
-- not compared). Links of deleted plans are dropped: a deleted plan has no native plan any more, and a
-- link left behind would block importing that native plan again. The trigger drops a link whichever path
-- deletes the plan (the editor's delete, a tombstone pulled by team sync).
ALTER TABLE native_plan_links ADD COLUMN pending_revision_id TEXT NOT NULL DEFAULT '';
ALTER TABLE native_plan_links ADD COLUMN native_name TEXT NOT NULL DEFAULT '';
ALTER TABLE native_plan_links ADD COLUMN native_description TEXT NOT NULL DEFAULT '';
DELETE FROM native_plan_links WHERE plan_id IN (SELECT id FROM plans WHERE deleted_at IS NOT NULL);

CREATE TRIGGER native_plan_links_follow_plan_delete
AFTER UPDATE OF deleted_at ON plans
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM native_plan_links WHERE plan_id = NEW.id;
END;
