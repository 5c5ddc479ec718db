"""Plan validation benchmark (on demand, not in the suite). Target: linear in plan size; an 800-wave plan
whose waves name unknown groups validates in well under a second.

    .venv/bin/python tests/benchmarks/bench_plan_validation.py [--waves 800] [--repeat 3]

Prints, best of ``--repeat`` runs, the time of ``validate_plan`` (and of ``parse_plan_text``, which
parses, checks the document and validates) for plans built to hit every path that once grew faster than
the plan:

1. ``unknown groups``: W waves each naming a protection group that does not exist but is close to one of
   the W groups that do, and depending on a wave that does not exist (each asks for a "did you mean");
2. ``dependency cycle``: W waves, each depending on the next, the last on the first (each reports the
   cycle);
3. ``tag groups + inventory``: W tag-selector groups, one per wave, against an inventory of 5 W servers;
4. ``double size``: case 1 with 2 W waves; linear means about twice case 1, quadratic four times;
5. ``220 KB file``: a plan file (JSON, then YAML) of case 1's kind grown to about 220 KB, run end to end
   as an operator would, ``python -m drs_desktop plan validate FILE`` in a subprocess (interpreter start
   included).

Exits 1 when case 1 takes a second or more.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import yaml

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.document import plan_from_document
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.storage.planfile import parse_plan_text

ROOT = Path(__file__).resolve().parents[2]
TARGET_S = 1.0


def server(number: int) -> str:
    return f"s-{number:017d}"


def unknown_groups(waves: int) -> dict[str, object]:
    return {
        "format": "drs-desktop/plan@1",
        "name": "unknown groups",
        "protection_groups": [{"name": f"group {i}", "servers": [server(i)]} for i in range(waves)],
        "waves": [
            {"name": f"wave {i}", "groups": [f"grup {i}"], "depends_on": [f"wave {i}x"]} for i in range(waves)
        ],
    }


def dependency_cycle(waves: int) -> dict[str, object]:
    return {
        "format": "drs-desktop/plan@1",
        "name": "cycle",
        "waves": [
            {"name": f"wave {i}", "servers": [server(i)], "depends_on": [f"wave {(i + 1) % waves}"]}
            for i in range(waves)
        ],
    }


def tag_groups(waves: int) -> tuple[dict[str, Any], Inventory]:
    doc = {
        "format": "drs-desktop/plan@1",
        "name": "tags",
        "protection_groups": [{"name": f"group {i}", "tags": {"App": f"app{i}"}} for i in range(waves)],
        "waves": [{"name": f"wave {i}", "groups": [f"group {i}"]} for i in range(waves)],
    }
    servers = tuple(
        SourceServer(server(n), tags={"App": f"app{n % waves}", "Tier": "web"}) for n in range(5 * waves)
    )
    return doc, Inventory(servers=servers, account_id="111122223333", region="us-east-1")


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def parse(text: str) -> None:
    try:
        parse_plan_text(text, "bench.json")
    except Exception as error:
        del error


def row(label: str, doc: dict[str, object], repeat: int, inventory: Inventory | None = None) -> float:
    plan = plan_from_document(doc)
    problems = validate_plan(plan, inventory)
    validate_s = best(repeat, lambda: validate_plan(plan, inventory))
    text = json.dumps(doc, indent=1)
    parse_s = best(repeat, lambda: parse(text)) if inventory is None else float("nan")
    print(
        f"{label:<26} {len(plan.waves):>6} {len(text) // 1024:>6} KB {len(problems):>8} "
        f"{validate_s * 1000:>10.1f} {parse_s * 1000:>10.1f}",
        flush=True,
    )
    return validate_s


def dump(doc: dict[str, object], fmt: str) -> str:
    return json.dumps(doc, indent=1) if fmt == "json" else yaml.safe_dump(doc, sort_keys=False)


def end_to_end(kilobytes: int, fmt: str) -> float:
    """Seconds for ``drs-desktop plan validate`` of a ~``kilobytes`` KB plan file, in a subprocess."""
    waves = 100
    while len(dump(unknown_groups(waves), fmt)) < kilobytes * 1024:
        waves += 100
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"big.{fmt}"
        path.write_text(dump(unknown_groups(waves), fmt), encoding="utf-8")
        size = path.stat().st_size
        command = [sys.executable, "-m", "drs_desktop", "--home", folder, "plan", "validate", str(path)]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
        elapsed = time.perf_counter() - start
    lines = done.stdout.count("\n")
    print(
        f"{kilobytes} KB {fmt} file, end to end: {size // 1024} KB, {waves} waves, exit {done.returncode}, "
        f"{lines} problem lines, {elapsed:.2f} s"
    )
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=800)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-file", action="store_true", help="leave the end-to-end file run out")
    args = parser.parse_args()
    waves = args.waves
    print(f"{'case':<26} {'waves':>6} {'file':>9} {'problems':>8} {'validate ms':>10} {'parse ms':>10}")
    first = row("unknown groups", unknown_groups(waves), args.repeat)
    row("dependency cycle", dependency_cycle(waves), args.repeat)
    doc, inventory = tag_groups(waves)
    row("tag groups + inventory", doc, args.repeat, inventory)
    double = row("unknown groups, double", unknown_groups(2 * waves), args.repeat)
    print(f"double / single: {double / first:.1f} (linear: about 2)")
    if not args.skip_file:
        for fmt in ("json", "yaml"):
            end_to_end(220, fmt)
    verdict = "OK" if first < TARGET_S else "TOO SLOW"
    print(f"{verdict}: {waves} waves naming unknown groups validate in {first * 1000:.0f} ms (target < 1 s)")
    return 0 if first < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
