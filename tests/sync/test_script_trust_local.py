"""This desktop's script trust stays on this desktop (issue 17): a full team sync carries none of it (the
whole table is scanned after the push), a colleague's desktop that pulls everything trusts nothing, and
neither a plan export nor a plan import carries or gives trust."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from drs_desktop.domain.errors import PlanFileError
from drs_desktop.domain.script_trust import TrustStatus
from drs_desktop.services import plans as plan_service
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.plans import save_plan
from drs_desktop.storage.script_trust import list_trust
from tests.sync.desktops import TABLE, desktop, init_table, plan
from tests.sync.dynamodb_emulator import DynamoDbEmulator


def _script(folder: Path) -> Path:
    path = folder / "dns-cutover.sh"
    path.write_text("#!/bin/sh\necho cutting over\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def _whole_table(emulator: DynamoDbEmulator) -> str:
    items, start = [], None
    client = emulator.client()
    while True:
        page = client.scan(
            TableName=TABLE, ConsistentRead=True, **({"ExclusiveStartKey": start} if start else {})
        )
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return json.dumps(items)


def test_trust_never_reaches_the_team_table_nor_a_colleagues_desktop(
    tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    try:
        path = _script(tmp_path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        queued = outbox.pending_count(a.db)
        ScriptTrustService(a.db, user=lambda: "alice").trust(str(path), str(path))
        assert outbox.pending_count(a.db) == queued  # trusting queues nothing to push
        save_plan(a.db, plan("Payroll", "s-1"))
        report = a.service.sync_now()
        assert report.pushed and report.queued == 0
        table = _whole_table(dynamodb)
        assert "PLAN#" in table  # the push did reach the table
        assert digest not in table and str(path) not in table and "alice" not in table

        pulled = b.service.sync_now()
        assert pulled.pulled.get("plans") == 1
        assert list_trust(b.db) == []
        assert ScriptTrustService(b.db).status(str(path)).status is TrustStatus.UNTRUSTED
        assert ScriptTrustService(a.db).status(str(path)).status is TrustStatus.TRUSTED
    finally:
        a.db.close()
        b.db.close()


def test_a_plan_export_carries_no_trust_and_an_import_gives_none(
    tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    a = desktop(tmp_path, "a", dynamodb)
    try:
        path = _script(tmp_path)
        trusted = ScriptTrustService(a.db, user=lambda: "alice").trust(str(path), str(path))
        save_plan(a.db, plan("Payroll", "s-1"))
        for fmt in ("yaml", "json"):
            text = plan_service.export_plan(a.db, "Payroll", fmt)
            assert "Payroll" in text
            assert trusted.sha256 not in text and str(path) not in text and "alice" not in text
        # A plan file that claims trust is refused as a plan file: trust has no place in one.
        claim = tmp_path / "claim.yaml"
        claim.write_text(
            plan_service.export_plan(a.db, "Payroll", "yaml").replace("name: Payroll", "name: Claim")
            + f"trusted_scripts:\n  - path: {tmp_path / 'other.sh'}\n    sha256: {'0' * 64}\n",
            encoding="utf-8",
        )
        with pytest.raises(PlanFileError, match="trusted_scripts"):
            plan_service.import_plan_file(a.db, claim)
        assert [t.path for t in list_trust(a.db)] == [str(path)]
    finally:
        a.db.close()
