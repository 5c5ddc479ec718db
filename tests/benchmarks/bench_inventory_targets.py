"""Inventory of every target benchmark (on demand, not in the suite). Target (issue 13): the inventory of
3,000 servers across 10 targets listed and cached in under 5 s.

    PYTHONPATH=$PWD .venv/bin/python tests/benchmarks/bench_inventory_targets.py [--rounds 3]

What runs is the real thing: the simulator's ``enterprise`` scenario (10 staging accounts of 300 servers,
staging-01..05 in us-east-1 and 06..10 in us-west-2, and the recovery account with its extended servers)
over loopback HTTP, the real boto3 client, and ``InventoryService.refresh_targets`` with the 10 staging
accounts listed in the settings as profile targets (AWS profiles with each account's keys, signed with
them as ``tests/services/target_profiles.py`` explains), caching into a fresh SQLite database; then the
Servers pane's table model and filter (offscreen) list every target's servers, sorted by hostname. Prints
the seconds of each round (refresh and cache of all 11 targets, the offline read of all of them back from
the cache, the listing) and exits 1 when any round's refresh, read and listing take 5 s or more.
Round 1 builds every target's boto3 clients, as the first refresh after a start does; later rounds
reuse them, as the app's ``aws`` thread does.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.inventory_targets import save_listed_targets
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.servers.server_table_model import HOSTNAME, ServerFilterModel, ServerTableModel
from tests.services.target_profiles import profile_gateways, write_profiles

LIMIT_SECONDS = 5.0


def staging_targets() -> tuple[PlanTarget, ...]:
    return tuple(
        PlanTarget(
            f"staging-{n:02d}",
            account=f"2000000000{n:02d}",
            region="us-east-1" if n <= 5 else "us-west-2",
            profile=f"staging-{n:02d}",
        )
        for n in range(1, 11)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DRS_DESKTOP_KEYRING", "memory")
    monkeypatch = pytest.MonkeyPatch()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedSimulator("enterprise", seed=1) as sim:
        home = Path(tmp)
        write_profiles(
            home, monkeypatch, {t.profile: f"AKIASTAGING{t.name[-2:]}BENCH" for t in staging_targets()}
        )
        db = Database.open(home / "bench.sqlite3")
        save_listed_targets(db, staging_targets())
        resolver = ConnectionResolver(
            db, SecretStore(), demo_endpoint=sim.endpoint_url, demo_region="us-east-1"
        )
        app = QApplication.instance() or QApplication([])
        totals = []
        # One service, as the app's ``aws`` thread keeps it: round 1 builds every target's boto3 clients
        # (cold, what the first refresh after a start costs), the later rounds reuse them.
        service = InventoryService(db, resolver, gateway_factory=profile_gateways())
        for round_ in range(1, args.rounds + 1):
            start = time.perf_counter()
            parts = service.refresh_targets()
            refreshed = time.perf_counter() - start
            start = time.perf_counter()
            cached = service.cached_targets()
            read = time.perf_counter() - start
            failed = [f"{p.name}: {p.error}" for p in parts if p.error]
            if failed:
                print("failed targets:", *failed, sep="\n  ")
                service.close()
                return 2
            start = time.perf_counter()
            model = ServerTableModel()
            proxy = ServerFilterModel()
            proxy.setSourceModel(model)
            proxy.sort(HOSTNAME, Qt.SortOrder.AscendingOrder)
            model.set_parts(cached)
            rows = proxy.rowCount()
            listed = time.perf_counter() - start
            app.processEvents()
            staging = sum(len(p.inventory.servers) for p in parts if p.inventory and not p.connected)
            totals.append(refreshed + read + listed)
            print(
                f"round {round_} ({'cold' if round_ == 1 else 'warm'}): {len(parts)} targets, "
                f"{staging} staging servers ({rows} rows with the "
                f"recovery account's): refreshed and cached {refreshed:.2f} s, read back offline "
                f"{read:.2f} s, listed {listed:.2f} s"
            )
        service.close()
        db.close()
    monkeypatch.undo()
    worst = max(totals)
    print(
        f"worst round, refresh + cache + offline read + listing: {worst:.2f} s (limit {LIMIT_SECONDS:.0f} s)"
    )
    return 0 if worst < LIMIT_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
