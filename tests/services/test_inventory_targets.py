"""The settings' target list (stored, validated) and the inventory of every target, against the
two-account simulator over loopback: each target's servers cached and named, one failing target alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.settings import SettingError
from drs_desktop.domain.settings.target_list import CONNECTED_NAME, field_problems
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.inventory import InventoryService, cached_inventory
from drs_desktop.services.inventory_targets import aws_target_for, listed_targets, save_listed_targets
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import settings as settings_store
from drs_desktop.storage.db import Database
from tests.secrets.memory_keyring import MemoryKeyring
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture  # noqa: F401
from tests.services.target_profiles import profile_gateways, write_profiles
from tests.simulator.accounts_scenario import (
    RECOVERY,
    RECOVERY_KEY,
    STAGING,
    STAGING_KEY,
    two_accounts_sim,  # noqa: F401
)

PROD = PlanTarget("prod-eu", account="123456789012", region="eu-west-1", profile="prod")
ROLE = PlanTarget(
    "staging-role",
    account=STAGING,
    region="us-east-1",
    role_arn=f"arn:aws:iam::{STAGING}:role/ReadOnly",
    source_profile="ops",
    external_id="ext-5a1d",
    mfa_serial=f"arn:aws:iam::{RECOVERY}:mfa/operator",
)


def test_the_target_list_round_trips_through_the_settings(db: Database) -> None:
    assert listed_targets(db) == ()
    assert save_listed_targets(db, (PROD, ROLE)) == (PROD, ROLE)
    assert listed_targets(db) == (PROD, ROLE)
    with db.reader() as conn:
        (stored,) = conn.execute("SELECT value FROM settings WHERE key = 'aws.targets'").fetchone()
    assert '"role_arn"' in stored and '"source_profile": "ops"' in stored
    assert '"role_arn"' not in stored.split("}")[0]  # the profile target stores only the keys it has
    assert save_listed_targets(db, ()) == ()  # back to the default: the override is removed
    assert settings_store.overrides(db) == {}


@pytest.mark.parametrize(
    ("target", "field", "words"),
    [
        (PlanTarget("a", account="12345", region="eu-west-1", profile="p"), "account", "12 digits"),
        (PlanTarget("a", account="123456789012", region="Europe", profile="p"), "region", "AWS Region"),
        (PlanTarget("a", account="123456789012", region="eu-west-1"), "", "profile, or role_arn"),
        (
            PlanTarget("a", account=STAGING, region="eu-west-1", role_arn=ROLE.role_arn),
            "source_profile",
            "needs source_profile",
        ),
        (
            PlanTarget("a", account="123456789012", region="eu-west-1", profile="AKIAABCDEFGHIJKLMNOP"),
            "profile",
            "never holds a secret",
        ),
        (PlanTarget(CONNECTED_NAME, account=STAGING, region="eu-west-1", profile="p"), "name", "connected"),
    ],
)
def test_a_bad_target_is_refused_at_its_field_and_nothing_is_stored(
    db: Database, target: PlanTarget, field: str, words: str
) -> None:
    save_listed_targets(db, (PROD,))
    with pytest.raises(SettingError, match=words) as refused:
        save_listed_targets(db, (PROD, target))
    assert "AKIAABCDEFGHIJKLMNOP" not in str(refused.value)
    assert words in field_problems((PROD, target), 1)[field]
    assert listed_targets(db) == (PROD,)


def test_duplicate_names_are_refused_at_the_second(db: Database) -> None:
    problems = field_problems((PROD, PROD), 1)
    assert "duplicate target name" in problems["name"]
    assert field_problems((PROD, PROD), 0) == {}


def test_a_role_target_becomes_its_role_assumed_from_its_source_profile() -> None:
    role = aws_target_for(ROLE, endpoint_url=None)
    assert role.role is not None and role.role.role_arn == ROLE.role_arn
    assert role.role.source_profile == ROLE.source_profile
    assert aws_target_for(PROD, endpoint_url=None).profile == "prod"


def _service(db: Database, sim: EmbeddedSimulator) -> InventoryService:
    resolver = ConnectionResolver(db, SecretStore(), demo_endpoint=sim.endpoint_url, demo_region="us-east-1")
    return InventoryService(db, resolver, gateway_factory=profile_gateways(read_max_attempts=1))


def test_a_refresh_across_two_accounts_caches_each_named_by_its_target(
    db: Database,
    two_accounts_sim: EmbeddedSimulator,  # noqa: F811
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_profiles(tmp_path, monkeypatch, {"recovery": RECOVERY_KEY, "staging": STAGING_KEY})
    save_listed_targets(
        db,
        (
            PlanTarget("staging", account=STAGING, region="us-east-1", profile="staging"),
            PlanTarget("recovery-west", account=RECOVERY, region="us-west-2", profile="recovery"),
        ),
    )
    service = _service(db, two_accounts_sim)
    steps: list[str] = []
    try:
        parts = service.refresh_targets(steps.append)
        cached = service.cached_targets()
    finally:
        service.close()
    assert [(p.name, p.error) for p in parts] == [
        (CONNECTED_NAME, ""),
        ("staging", ""),
        ("recovery-west", ""),
    ]
    hosts = {p.name: sorted(s.hostname[:3] for s in p.inventory.servers) for p in parts if p.inventory}
    assert hosts == {CONNECTED_NAME: ["rec"] * 3, "staging": ["stg"] * 4, "recovery-west": ["wes"] * 2}
    assert [p.label for p in parts] == [
        f"connected ({RECOVERY} · us-east-1)",
        f"staging ({STAGING} · us-east-1)",
        f"recovery-west ({RECOVERY} · us-west-2)",
    ]
    assert any(step.startswith(f"staging ({STAGING} · us-east-1), 1 of 3: asking DRS") for step in steps)
    # The cache holds each account and Region apart, and reads back offline as it was refreshed.
    assert [p.inventory for p in cached] == [p.inventory for p in parts]
    staging_cache = cached_inventory(db, account_id=STAGING, region="us-east-1")
    assert staging_cache is not None and len(staging_cache.servers) == 4


def test_a_failing_target_says_why_and_the_others_still_refresh(
    db: Database,
    two_accounts_sim: EmbeddedSimulator,  # noqa: F811
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_profiles(tmp_path, monkeypatch, {"staging": STAGING_KEY, "wrong": RECOVERY_KEY})
    targets = (
        # DRS was never initialized for the staging account in us-west-2: the call is refused.
        PlanTarget("staging-west", account=STAGING, region="us-west-2", profile="staging"),
        # The profile's keys are the recovery account's, not the account the target names.
        PlanTarget("mislabelled", account="444444444444", region="us-east-1", profile="wrong"),
        PlanTarget("staging", account=STAGING, region="us-east-1", profile="staging"),
        PlanTarget("gone", account="333333333333", region="us-east-1", profile="no-such-profile"),
    )
    save_listed_targets(db, targets)
    service = _service(db, two_accounts_sim)
    try:
        parts = {part.name: part for part in service.refresh_targets()}
    finally:
        service.close()
    assert parts[CONNECTED_NAME].error == "" and parts["staging"].error == ""
    assert parts["staging"].inventory is not None and len(parts["staging"].inventory.servers) == 4
    assert "initializ" in parts["staging-west"].error
    assert parts["staging-west"].inventory is None
    reached = f"its credentials reach account {RECOVERY}, not 444444444444"
    assert parts["mislabelled"].error.startswith(reached)
    # On the simulator a profile that does not exist signs with the demo's keys (AWS would say
    # ProfileNotFound): the account check refuses it all the same, and nothing is cached.
    assert "333333333333" in parts["gone"].error and "nothing was cached" in parts["gone"].error
    assert parts["gone"].inventory is None
    assert cached_inventory(db, account_id="333333333333") is None


def test_a_stored_list_that_cannot_be_read_any_more_is_kept_in_a_file_before_a_save(db: Database) -> None:
    """A list stored before a newer rule (two targets in one account and Region) reads as empty; the
    next save keeps it in a file beside the database instead of losing it."""
    old = (
        '[{"name": "a", "account": "111111111111", "region": "eu-west-1", "profile": "p1"}, '
        '{"name": "b", "account": "111111111111", "region": "eu-west-1", "profile": "p2"}]'
    )
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
            ("aws.targets", old, "2026-12-01T00:00:00.000000Z"),
        )
    assert listed_targets(db) == ()
    saved = save_listed_targets(db, (PROD,))
    assert saved == (PROD,)
    (kept,) = db.path.parent.glob("aws-targets-unreadable-*.json")
    assert kept.read_text(encoding="utf-8") == old
