"""Plans and their revisions in the database, and the diff between two revisions."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest

from drs_desktop.domain.errors import PlanNotFoundError, StorageError
from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.document import plan_to_document
from drs_desktop.domain.plan.model import ApprovalStep, ProtectionGroup, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import (
    canonical_json,
    delete_plan,
    diff_revisions,
    get_plan,
    list_plans,
    list_revisions,
    load_plan,
    plan_name_taken,
    rename_plan,
    save_plan,
)
from tests.storage.conftest import DB_1, NET_1, WEB_1, WEB_2, sample_plan

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _with_wave(plan: RecoveryPlan, index: int, **changes: object) -> RecoveryPlan:
    waves = list(plan.waves)
    waves[index] = dataclasses.replace(waves[index], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(plan, waves=tuple(waves))


# ---------------------------------------------------------------------------------------- revisions


def test_first_save_creates_revision_one(db: Database) -> None:
    saved = save_plan(db, sample_plan(), comment="first draft", author="ana", now=T0)
    assert isinstance(saved, PlanRevision)
    assert (saved.name, saved.revision, saved.comment, saved.author) == ("Payroll", 1, "first draft", "ana")
    assert saved.saved_at == T0
    assert re.fullmatch(r"[0-9a-f]{64}", saved.content_hash)
    assert get_plan(db, "Payroll") == sample_plan()


def test_saving_identical_content_adds_no_revision(db: Database) -> None:
    first = save_plan(db, sample_plan(), now=T0)
    again = save_plan(db, sample_plan(), comment="no change", now=T0 + timedelta(hours=1))
    assert again == first
    assert [r.revision for r in list_revisions(db, "Payroll")] == [1]


def test_every_changed_save_is_a_new_revision(db: Database) -> None:
    v1 = sample_plan()
    v2 = dataclasses.replace(v1, rto_minutes=45)
    v3 = _with_wave(v2, 2, servers=(WEB_1,), optional=())
    save_plan(db, v1, now=T0)
    second = save_plan(db, v2, comment="tighter RTO", now=T0 + timedelta(minutes=1))
    third = save_plan(db, v3, now=T0 + timedelta(minutes=2))
    assert (second.revision, third.revision) == (2, 3)
    assert second.plan_id == third.plan_id
    assert second.content_hash != third.content_hash
    revisions = list_revisions(db, "Payroll")
    assert [(r.revision, r.comment) for r in revisions] == [(1, ""), (2, "tighter RTO"), (3, "")]
    assert [r.saved_at for r in revisions] == [T0 + timedelta(minutes=n) for n in range(3)]
    assert get_plan(db, "Payroll", 1) == v1
    assert get_plan(db, "Payroll", 2) == v2
    assert get_plan(db, "Payroll") == v3
    assert load_plan(db, "Payroll", 2).revision == second


def test_reverting_to_older_content_is_still_a_new_revision(db: Database) -> None:
    v1 = sample_plan()
    save_plan(db, v1)
    save_plan(db, dataclasses.replace(v1, rpo_minutes=5))
    back = save_plan(db, v1)
    assert back.revision == 3
    assert back.content_hash == list_revisions(db, "Payroll")[0].content_hash


def test_names_are_case_insensitive_and_follow_the_latest_save(db: Database) -> None:
    save_plan(db, sample_plan("Payroll"))
    renamed = save_plan(db, sample_plan("PAYROLL"))
    assert renamed.revision == 2
    assert [p.name for p in list_plans(db)] == ["PAYROLL"]
    assert get_plan(db, "payroll").name == "PAYROLL"


def test_list_plans_summarises_the_latest_revision(db: Database) -> None:
    save_plan(db, sample_plan("b-plan"), now=T0)
    save_plan(db, RecoveryPlan(name="A-plan", waves=(Wave("only", servers=(WEB_1, WEB_1)),)), now=T0)
    save_plan(db, dataclasses.replace(sample_plan("b-plan"), waves=sample_plan().waves[:2]), now=T0)
    summaries = list_plans(db)
    assert [(s.name, s.latest_revision, s.wave_count, s.server_count) for s in summaries] == [
        ("A-plan", 1, 1, 1),
        # NET_1 through the "network" group plus DB_1; the tag-selected group is not counted.
        ("b-plan", 2, 2, 2),
    ]
    assert summaries[0].created_at == T0 and summaries[0].updated_at == T0


def test_full_plan_counts_servers_of_groups_and_waves(db: Database) -> None:
    save_plan(db, sample_plan())
    (summary,) = list_plans(db)
    assert (summary.wave_count, summary.server_count) == (3, len({NET_1, DB_1, WEB_1, WEB_2}))


def test_missing_plan_and_revision_are_reported(db: Database) -> None:
    with pytest.raises(PlanNotFoundError, match=r"^no plan named 'Nope'$"):
        get_plan(db, "Nope")
    with pytest.raises(PlanNotFoundError):
        list_revisions(db, "Nope")
    save_plan(db, sample_plan())
    save_plan(db, dataclasses.replace(sample_plan(), rto_minutes=1))
    with pytest.raises(PlanNotFoundError, match=r"^plan 'Payroll' has no revision 7 \(latest is 2\)$"):
        get_plan(db, "Payroll", 7)


def test_delete_leaves_a_tombstone_and_frees_the_name(db: Database) -> None:
    first = save_plan(db, sample_plan())
    delete_plan(db, "payroll")
    assert list_plans(db) == []
    with pytest.raises(PlanNotFoundError):
        get_plan(db, "Payroll")
    with pytest.raises(PlanNotFoundError):
        delete_plan(db, "Payroll")
    reborn = save_plan(db, dataclasses.replace(sample_plan(), description="new"))
    assert reborn.revision == 1 and reborn.plan_id != first.plan_id
    with db.reader() as conn:
        kept = conn.execute(
            "SELECT deleted_at IS NOT NULL, version FROM plans WHERE id = ?", (first.plan_id,)
        )
        assert kept.fetchone() == (1, 2)
        assert conn.execute("SELECT count(*) FROM plan_revisions").fetchone()[0] == 2


def test_rename_keeps_identity_and_history(db: Database) -> None:
    first = save_plan(db, sample_plan())
    renamed = rename_plan(db, "Payroll", "Payroll DR")
    assert (renamed.plan_id, renamed.revision, renamed.name) == (first.plan_id, 2, "Payroll DR")
    assert renamed.comment == "renamed from 'Payroll'"
    assert get_plan(db, "Payroll DR") == sample_plan("Payroll DR")
    assert [r.name for r in list_revisions(db, "Payroll DR")] == ["Payroll DR", "Payroll DR"]
    with pytest.raises(PlanNotFoundError):
        get_plan(db, "Payroll")


def test_rename_onto_an_existing_name_is_refused(db: Database) -> None:
    save_plan(db, sample_plan("One"))
    save_plan(db, sample_plan("Two"))
    with pytest.raises(StorageError, match="a plan named 'two' already exists"):
        rename_plan(db, "One", "two")
    assert sorted(p.name for p in list_plans(db)) == ["One", "Two"]
    assert [r.revision for r in list_revisions(db, "One")] == [1]


def test_damaged_stored_document_is_a_one_line_storage_error(db: Database) -> None:
    save_plan(db, sample_plan())
    save_plan(db, dataclasses.replace(sample_plan(), rto_minutes=5))
    with db.transaction() as conn:
        conn.execute("UPDATE plan_revisions SET document = '{\"format\": 7' WHERE revision = 1")
    with pytest.raises(StorageError) as caught:
        get_plan(db, "Payroll", 1)
    assert str(caught.value).startswith("stored plan 'Payroll' revision 1 cannot be read: ")
    assert "\n" not in str(caught.value)
    assert get_plan(db, "Payroll").rto_minutes == 5  # the other revisions still open


def test_stored_text_is_canonical_json_of_the_document(db: Database) -> None:
    saved = save_plan(db, sample_plan())
    with db.reader() as conn:
        (text,) = conn.execute(
            "SELECT document FROM plan_revisions WHERE id = ?", (saved.revision_id,)
        ).fetchone()
    assert text == canonical_json(plan_to_document(sample_plan()))
    assert ": " not in text and text.startswith('{"description"')


# --------------------------------------------------------------------------------------------- diff


def test_diff_of_two_revisions(db: Database) -> None:
    save_plan(db, sample_plan())
    changed = _with_wave(dataclasses.replace(sample_plan(), rto_minutes=45), 0, depends_on=("DB",))
    save_plan(db, changed)
    assert diff_revisions(db, "Payroll", 1, 2) == [
        "rto_minutes: 60 -> 45",
        "wave 'Net': depends_on [] -> ['DB']",
    ]
    assert diff_revisions(db, "Payroll", 2) == []
    assert diff_revisions(db, "Payroll", 2, 1) == [
        "rto_minutes: 45 -> 60",
        "wave 'Net': depends_on ['DB'] -> []",
    ]


def test_diff_names_waves_servers_and_steps() -> None:
    old = sample_plan()
    new = dataclasses.replace(
        old,
        name="Payroll v2",
        description="",
        rpo_minutes=None,
        waves=(
            old.waves[1],
            dataclasses.replace(old.waves[0], servers=(DB_1,)),
            Wave("Batch", servers=(WEB_2,)),
            dataclasses.replace(old.waves[2], servers=(WEB_2, WEB_1), optional=(WEB_1,), after=()),
        ),
    )
    assert diff_plans(old, new) == [
        "name: 'Payroll' -> 'Payroll v2'",
        "description: 'Payroll recovery, tier 1' -> ''",
        "rpo_minutes: 15 -> none",
        "wave 'Batch' added (1 server)",
        "waves reordered: ['Net', 'DB', 'Web'] -> ['DB', 'Net', 'Web']",
        f"wave 'Net': server {DB_1} added",
        f"wave 'Web': servers reordered: ['{WEB_1}', '{WEB_2}'] -> ['{WEB_2}', '{WEB_1}']",
        f"wave 'Web': server {WEB_2}: OPTIONAL -> CRITICAL",
        f"wave 'Web': server {WEB_1}: CRITICAL -> OPTIONAL",
        "wave 'Web': steps after: [wait 5 min] -> []",
    ]


def test_diff_of_removed_wave_groups_and_tags() -> None:
    old = sample_plan()
    new = dataclasses.replace(
        old,
        protection_groups=(
            ProtectionGroup("databases", tags={"tier": "database", "site": "dr"}),
            ProtectionGroup("apps", server_ids=(WEB_1,)),
        ),
        waves=(
            dataclasses.replace(old.waves[1], groups=(), before=(ApprovalStep("Go?"), WaitStep(2))),
            dataclasses.replace(old.waves[2], depends_on=None),
        ),
    )
    assert diff_plans(old, new) == [
        "protection group 'network' removed",
        "protection group 'apps' added (1 server)",
        "protection group 'databases': tag 'tier': 'db' -> 'database'",
        "protection group 'databases': tag 'app' removed",
        "protection group 'databases': tag 'site'='dr' added",
        "wave 'Net' removed",
        "wave 'DB': group 'databases' removed",
        "wave 'DB': steps before: [approval 'Storage team ready?'] -> [approval 'Go?', wait 2 min]",
        "wave 'Web': depends_on ['DB', 'Net'] -> (previous wave)",
    ]


def test_diff_of_equal_plans_is_empty() -> None:
    assert diff_plans(sample_plan(), sample_plan()) == []


def test_diff_never_hides_a_difference() -> None:
    old = RecoveryPlan("p", waves=(Wave("w", servers=(WEB_1,), optional=(WEB_1, WEB_2)),))
    new = RecoveryPlan("p", waves=(Wave("w", servers=(WEB_1,), optional=(WEB_2, WEB_1)),))
    assert diff_plans(old, new) == [f"wave 'w': optional: ['{WEB_1}', '{WEB_2}'] -> ['{WEB_2}', '{WEB_1}']"]
    twins = RecoveryPlan("p", waves=(Wave("w"), Wave("w", servers=(WEB_1,))))
    assert diff_plans(twins, dataclasses.replace(twins, waves=twins.waves[:1])) == [
        "waves: ['w', 'w'] -> ['w'] (duplicate names; compare documents)"
    ]


def test_a_name_is_taken_by_a_live_plan_only_whatever_its_case(db: Database) -> None:
    save_plan(db, sample_plan())
    name = sample_plan().name
    assert plan_name_taken(db, name) and plan_name_taken(db, name.upper())
    assert not plan_name_taken(db, f"{name} (copy)")
    delete_plan(db, name)
    assert not plan_name_taken(db, name), "a deleted plan's name is free again"
