"""Team sync at scale through moto's DynamoDB server (run on demand, not in the suite; issue 14 item 8).

    .venv/bin/python tests/benchmarks/bench_sync.py [--plans 200] [--revisions 20] [--executions 100]
        [--events 300]

Desktop A's SQLite file (a real one, in a temporary folder) gets ``--plans`` plans saved ``--revisions``
times each and ``--executions`` finished executions with ``--events`` journal events each (a few hundred
bytes an event), through the storage functions, which queue everything for sync as the application does
(tests/sync/scale.py). moto's server is started on a free loopback port (tests/sync/dynamodb_emulator.py)
and ``sync init``'s table made on it. Then, each a ``SyncService.sync_now`` (pull, push, pull) with the
real boto3 client:

1. A's first push: the whole history;
2. B's first sync: a second desktop, empty, pulls everything;
3. one plan saved once more on A: A's incremental sync (pushes one revision and one head), then B's
   (pulls them), then B's sync when nothing changed.

Prints, for each: the wall time; what was pushed or pulled; the capacity DynamoDB reported
(``SyncReport.capacity``: moto reports a flat figure per call and none for transactions or UpdateItem, so
it is not what a real table charges) beside an estimate by DynamoDB's on-demand rules from the items'
sizes (tests/sync/scale.py ``CallMeter``); the calls per operation and the items read. The times are
moto's on loopback, on this machine: a real table adds the network's round trip to every call, so what
matters across runs is the number of calls.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.sync.scale import Phase, run_scale


def describe(phase: Phase) -> str:
    report, calls = phase.report, phase.calls
    moved = ", ".join(
        f"{kind} {what}" for kind, what in (("pushed", report.pushed), ("pulled", report.pulled)) if what
    )
    per_operation = ", ".join(f"{name} {n}" for name, n in sorted(calls.calls.items()))
    return "\n".join(
        [
            f"{phase.name}",
            f"    time              {phase.seconds:8.2f} s",
            f"    moved             {moved or 'nothing'}",
            f"    calls             {sum(calls.calls.values())} ({per_operation})",
            f"    items read        {calls.total_items_read} "
            f"({', '.join(f'{n} {k}' for k, n in sorted(calls.items_read.items())) or 'none'}); "
            f"items written {sum(calls.items_written.values())}",
            f"    units, estimated  {calls.read_units:,.0f} read, {calls.write_units:,.0f} write "
            "(DynamoDB's on-demand rules, from item sizes)",
            f"    units, reported   {report.capacity.read_units:,.1f} read, "
            f"{report.capacity.write_units:,.1f} write, by {report.capacity.calls} calls "
            "(moto's flat figures)",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--revisions", type=int, default=20)
    parser.add_argument("--executions", type=int, default=100)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()

    emulator = DynamoDbEmulator()
    emulator.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as folder:
            built, phases = run_scale(
                Path(folder),
                emulator,
                plans=args.plans,
                revisions=args.revisions,
                executions=args.executions,
                events=args.events,
                say=lambda line: print(f"... {line}", flush=True),
            )
    finally:
        emulator.stop()
    print(
        f"\n{args.plans} plans x {args.revisions} revisions, {args.executions} executions x {args.events} "
        f"events (history built in {built:.1f} s)\n"
    )
    for phase in phases:
        print(describe(phase))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
