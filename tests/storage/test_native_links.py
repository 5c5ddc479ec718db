"""``storage.native_links`` and migration 0011: an old link keeps working, a deleted plan's link is
dropped, and an ARN is never taken from another plan's link."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from drs_desktop.storage.schema import load_migrations

_ARN = "arn:aws:drs:us-east-1:123456789012:recovery-plan/rp-1"


def _plan(name: str) -> RecoveryPlan:
    return RecoveryPlan(name=name, waves=(Wave("W", servers=("s-0123456789abcdef0",)),))


def _old_link(db: Database, plan_id: str, revision_id: str, arn: str) -> None:
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO native_plan_links (plan_id, account_id, region, recovery_plan_arn, revision_id, "
            "content_hash, steps, published_at, published_by) VALUES (?, '123456789012', 'us-east-1', ?, ?, "
            "'h', '[]', '2026-01-05T08:00:00.000000Z', 'alice')",
            (plan_id, arn, revision_id),
        )


def test_migration_0011_keeps_live_links_and_drops_the_links_of_deleted_plans(tmp_path: Path) -> None:
    path = tmp_path / "drs.sqlite3"
    with Database.open(path, migrations=load_migrations()[:10]) as old:
        live = plan_store.save_plan(old, _plan("Live"))
        gone = plan_store.save_plan(old, _plan("Gone"))
        plan_store.delete_plan(old, "Gone")
        _old_link(old, live.plan_id, live.revision_id, _ARN)
        _old_link(old, gone.plan_id, gone.revision_id, _ARN + "2")  # left by the code before 0011
    with Database.open(path) as db:
        link = native_links.get_link(db, live.plan_id)
        assert link is not None and link.recovery_plan_arn == _ARN
        assert not link.incomplete and link.native_name == "" and link.published_by == "alice"
        assert native_links.get_link(db, gone.plan_id) is None
        assert native_links.link_for_arn(db, _ARN + "2") is None


def _link(db: Database, rev: plan_store.PlanRevision) -> native_links.NativeLink:
    return native_links.save_link(
        db,
        plan_id=rev.plan_id,
        account_id="123456789012",
        region="us-east-1",
        recovery_plan_arn=_ARN,
        revision_id=rev.revision_id,
        content_hash=rev.content_hash,
        steps=[],
    )


def test_an_arn_linked_to_another_plan_is_refused_and_nothing_is_replaced(tmp_path: Path) -> None:
    with Database.open(tmp_path / "drs.sqlite3") as db:
        one = plan_store.save_plan(db, _plan("One"))
        two = plan_store.save_plan(db, _plan("Two"))
        _link(db, one)
        with pytest.raises(native_links.LinkTaken, match="linked to another local plan"):
            _link(db, two)
        kept = native_links.link_for_arn(db, _ARN)
        assert kept is not None and kept.plan_id == one.plan_id
        assert native_links.get_link(db, two.plan_id) is None
        assert _link(db, one).plan_id == one.plan_id  # its own plan may write it again


def test_a_plan_deleted_by_any_path_loses_its_link(tmp_path: Path) -> None:
    with Database.open(tmp_path / "drs.sqlite3") as db:
        edited = plan_store.save_plan(db, _plan("Edited"))
        pulled = plan_store.save_plan(db, _plan("Pulled"))
        _link(db, edited)
        native_links.save_link(
            db,
            plan_id=pulled.plan_id,
            account_id="123456789012",
            region="us-east-1",
            recovery_plan_arn=_ARN + "2",
            revision_id=pulled.revision_id,
            content_hash=pulled.content_hash,
            steps=[],
        )
        plan_store.delete_plan(db, "Edited")  # the editor's delete
        with db.transaction() as conn:  # what a pulled tombstone does (storage/sync_apply.py)
            conn.execute(
                "UPDATE plans SET deleted_at = '2026-01-05T08:00:00.000000Z' WHERE id = ?", (pulled.plan_id,)
            )
        assert native_links.list_links(db) == []
