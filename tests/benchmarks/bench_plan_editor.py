"""Plan editor benchmark (on demand, not in the suite). Target: a 1,000-server plan opens in < 200 ms.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_plan_editor.py [--repeat 5]

Prints, best of ``--repeat`` runs, for a 1,000-server plan in 10 waves with its 1,000-server inventory:

1. ``PlanTreeModel.load_plan`` alone (the model reset);
2. opening the plan in a shown ``PlanEditorWidget``: validation against the inventory, model reset,
   expanding every wave, the inventory panel and properties, and the first paint (``processEvents``);
3. one edit (move 10 servers to another wave) and its undo, each with validation and fine-grained
   model updates;
4. giving the editor a new inventory (re-validation and inventory model reset).

Exits 1 when opening (2) takes 200 ms or more.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtWidgets import QApplication

from drs_desktop.ui.plans.plan_editor_widget import PlanEditorWidget
from drs_desktop.ui.plans.plan_model import PlanTreeModel
from tests.ui.plan_helpers import big_plan

TARGET_MS = 200.0


def best(repeat: int, fn: Callable[[], object], before: Callable[[], object] = lambda: None) -> float:
    times = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--waves", type=int, default=10)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    plan, inventory = big_plan(args.servers, args.waves)
    servers = sum(len(w.servers) for w in plan.waves)

    model = PlanTreeModel()
    model.set_inventory(inventory)
    model_ms = best(args.repeat, lambda: model.load_plan(plan))

    editor = PlanEditorWidget()
    editor.resize(1400, 900)
    editor.set_inventory(inventory)
    editor.show()
    app.processEvents()

    def open_plan() -> None:
        editor.load_plan(plan)
        app.processEvents()

    def close_plan() -> None:
        editor.load_plan(None)
        app.processEvents()

    open_ms = best(args.repeat, open_plan, before=close_plan)

    editor.load_plan(plan)
    moving = [(0, sid) for sid in plan.waves[0].servers[:10]]

    def edit_and_undo() -> None:
        editor.move_entries_to_wave(moving, [], 5)
        app.processEvents()
        editor.undo_stack.undo()
        app.processEvents()

    edit_ms = best(args.repeat, edit_and_undo)

    def show_inventory() -> None:
        editor.set_inventory(inventory)
        app.processEvents()

    inventory_ms = best(args.repeat, show_inventory)

    print(f"plan: {servers} servers in {len(plan.waves)} waves; inventory: {len(inventory.servers)} servers")
    print(f"PlanTreeModel.load_plan:                 {model_ms:7.1f} ms")
    print(f"open in PlanEditorWidget (target <{TARGET_MS:.0f}):  {open_ms:7.1f} ms")
    print(f"move 10 servers + undo:                  {edit_ms:7.1f} ms")
    print(f"new inventory:                           {inventory_ms:7.1f} ms")
    editor.close()
    return 0 if open_ms < TARGET_MS else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # PySide6 6.12.0 under Python 3.11 drops a reference to True on every Signal.emit() from Python, so
    # after this many edits the interpreter aborts while finalizing (bool_dealloc); leave without it.
    os._exit(code)
