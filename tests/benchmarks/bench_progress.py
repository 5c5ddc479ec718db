"""Progress view benchmark (on demand, not in the suite). Target: event-loop stalls under 50 ms on the GUI
thread while a 1,000-server execution updates every second.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=$PWD .venv/bin/python tests/benchmarks/bench_progress.py
        [--updates 30] [--simulator thread|process] [--gc app|default] [--no-view] [--trace]

What runs is the real thing, as the composition root builds it: the "scale" simulator estate, a
1,000-server drill (10 waves of 100 with no dependencies between them, so the engine keeps 500 servers
in flight), driven by an ``ExecutionDesk``: the execution's own loop thread runs ``ExecutionRunner.run()``
(the CLI's loop, asleep until the engine's next wake-up) and publishes snapshots; the desk's timer applies
the latest one to a shown ProgressWidget (tree, timeline, event log) at most 5 times a second. The engine
polls DRS every ``--poll-interval`` virtual seconds, which pass in one real second at the default
``--time-scale``: the 1,000 servers change every second. A 5 ms QTimer on the GUI thread measures how
late each of its ticks fires: that lateness is the event-loop stall an operator feels.

``--simulator thread`` (demo mode): the simulator runs inside the process, its clock scaled, and the loop
sleeps the engine's waits at the same scale (the app's demo pace). ``--simulator process`` (like AWS: DRS
is elsewhere): the simulator runs as its own process at ``--time-scale``, and the runner's clock follows
it. ``--gc app`` (the default): the interpreter settings of the application (garbage collector, GIL switch
interval), applied by the same functions ``app.run_gui`` calls once the window is built
(``workers.interpreter.tune_interpreter``, ``start_full_collections``); ``--gc default``: Python's own,
to compare.

``--targets``: the same across 10 DRS targets instead (the ``enterprise`` scenario's staging accounts,
five in us-east-1 and five in us-west-2, each wave an equal share of each account's servers:
``bench_targets.py``), so the engine runs one view per target and every row names its target.

Prints the snapshot build time (loop thread), the time to apply one (GUI thread), the lateness of the
probe (worst, p99, p95) and the garbage collections during the run. Exits 1 when the worst stall during
the updates is 50 ms or more.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_targets
from PySide6.QtCore import QElapsedTimer, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.engine.events import event_from_json
from drs_desktop.domain.engine.reducer import replay
from drs_desktop.domain.engine.state import Mode, spec_from_json
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.views import progress as progress_view
from drs_desktop.domain.views.progress import ProgressSnapshot, ProgressTracker
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.services.executions import prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.workers.execution_desk import APPLY_INTERVAL_MS, ExecutionDesk
from drs_desktop.workers.interpreter import start_full_collections, tune_interpreter

TARGET_MS = 50.0
PROBE_MS = 5
SCENARIO, SEED = "scale", 11


# -- where DRS runs


@dataclass
class Estate:
    endpoint_url: str
    region: str
    clock: Callable[[], datetime]


@contextmanager
def estate_in_thread(scale: float, scenario: str = SCENARIO) -> Iterator[Estate]:
    with EmbeddedSimulator(scenario, seed=SEED, time_scale=scale) as sim:
        yield Estate(sim.endpoint_url, sim.region, sim.clock.now)


@contextmanager
def estate_in_process(scale: float, scenario: str = SCENARIO) -> Iterator[Estate]:
    command = [sys.executable, "-m", "drs_desktop.simulator", "--scenario", scenario, "--seed", str(SEED)]
    command += ["--time-scale", str(scale)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        origin, real = datetime.now(UTC), time.monotonic()

        def clock() -> datetime:  # the simulator's scaled clock, as near as a second process can tell
            return origin + timedelta(seconds=scale * (time.monotonic() - real))

        yield Estate(url, "us-east-1", clock)
    finally:
        process.terminate()
        process.wait(10)


# -- the GUI side


class Receiver(QObject):
    """On the GUI thread: counts the snapshots the desk applies, keeps the last, notes failures."""

    def __init__(self) -> None:
        super().__init__()
        self.last: ProgressSnapshot | None = None
        self.count = 0
        self.changed: list[int] = []
        self.failures: list[str] = []

    def on_progressed(self, snapshot: ProgressSnapshot) -> None:
        self.count += 1
        self.changed.append(len(snapshot.delta.servers))
        self.last = snapshot  # only the last: a benchmark that hoards snapshots measures its own hoard

    def on_failed(self, operation: str, message: str) -> None:
        self.failures.append(f"{operation}: {message}")


class TimedProgressWidget(ProgressWidget):
    """The real widget, timing each snapshot it applies."""

    def __init__(self) -> None:
        super().__init__()
        self.apply_ms: list[float] = []
        self.arrivals: list[tuple[float, int]] = []

    def show_snapshot(self, snapshot: ProgressSnapshot) -> None:
        start = time.perf_counter()
        super().show_snapshot(snapshot)
        self.apply_ms.append((time.perf_counter() - start) * 1000)
        self.arrivals.append((start, len(snapshot.delta.servers)))


class StallMeter(QObject):
    """A 5 ms timer; records how late each tick fires while ``recording``."""

    def __init__(self) -> None:
        super().__init__()
        self.lateness: list[float] = []
        self.big: list[tuple[float, float]] = []
        self.recording = False
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0

    def start(self) -> None:
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer.start()

    def record(self) -> None:
        """Start recording from now (what happened before, a set-up collection included, is not a stall)."""
        self._last = self._clock.elapsed()
        self.recording = True

    def _tick(self) -> None:
        now = self._clock.elapsed()
        if self.recording:
            late = max(0.0, float(now - self._last - PROBE_MS))
            self.lateness.append(late)
            if late >= 20:
                self.big.append((time.perf_counter(), late))
        self._last = now


class GcTimes:
    """How long each garbage collection took, by generation (a collection holds the GIL throughout)."""

    def __init__(self) -> None:
        self.times: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.full_at: list[float] = []
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        self.times[info["generation"]].append((time.perf_counter() - self._start) * 1000)
        if info["generation"] == 2:
            self.full_at.append(time.perf_counter())

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> str:
        return ", ".join(f"gen{g}: {len(t)} (max {max(t, default=0):.1f} ms)" for g, t in self.times.items())


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    """Run the event loop until ``condition()`` holds (checked every 20 ms) or ``seconds`` pass."""
    loop = QEventLoop()
    deadline = time.perf_counter() + seconds
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: loop.quit() if condition() or time.perf_counter() > deadline else None)
    check.start()
    if not condition():
        loop.exec()
    check.stop()


def timed(store: list[float], fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            store.append((time.perf_counter() - start) * 1000)

    return run


def big_plan(gateway: DrsGateway, servers: int, waves: int) -> RecoveryPlan:
    inventory = gateway.inventory()
    healthy = sorted(s.source_server_id for s in inventory.servers if s.replication_state == "CONTINUOUS")
    chosen = healthy[:servers]
    size = len(chosen) // waves
    return RecoveryPlan(
        name="Scale",
        rto_minutes=240,
        waves=tuple(
            Wave(name=f"Wave {n + 1}", servers=tuple(chosen[n * size : (n + 1) * size]), depends_on=())
            for n in range(waves)
        ),
    )


def describe(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    return (
        f"mean {statistics.fmean(ordered):6.1f} ms, median {statistics.median(ordered):6.1f} ms, "
        f"max {ordered[-1]:6.1f} ms (n={len(ordered)})"
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=30, help="snapshots applied on the GUI thread")
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--poll-interval", type=float, default=30.0, help="virtual seconds between polls")
    parser.add_argument("--time-scale", type=float, default=30.0, help="virtual seconds per real second")
    parser.add_argument("--simulator", choices=("thread", "process"), default="thread")
    parser.add_argument("--gc", choices=("app", "default"), default="app", help="interpreter settings")
    parser.add_argument("--no-view", action="store_true", help="do not feed the widget (isolates the rest)")
    parser.add_argument("--trace", action="store_true", help="print each stall of 20 ms or more")
    parser.add_argument(
        "--targets",
        action="store_true",
        help="a drill across the 10 staging accounts of the enterprise scenario (bench_targets.py)",
    )
    args = parser.parse_args()
    _app = QApplication.instance() or QApplication(sys.argv[:1])

    build_ms: list[float] = []
    progress_view.ProgressTracker.update = timed(build_ms, ProgressTracker.update)  # type: ignore[method-assign]
    scale = args.time_scale
    profiles = tempfile.TemporaryDirectory()
    if args.targets:
        bench_targets.write_profiles(Path(profiles.name))
    scenario = "enterprise" if args.targets else SCENARIO
    in_thread = args.simulator == "thread"
    estate_of = estate_in_thread(scale, scenario) if in_thread else estate_in_process(scale, scenario)

    with tempfile.TemporaryDirectory() as home, estate_of as estate:
        db = Database.open(Path(home) / "bench.sqlite3")
        profile = "staging-01" if args.targets else None
        target = AwsTarget(profile=profile, region=estate.region, endpoint_url=estate.endpoint_url)
        gateway = DrsGateway(target)
        if args.targets:
            plan = bench_targets.targets_plan(estate.endpoint_url, args.servers, args.waves)
        else:
            plan = big_plan(gateway, args.servers, args.waves)
        save_plan(db, plan)

        def services() -> ExecutionServices:  # one per thread, as the composition root builds them
            return ExecutionServices(
                db,
                DrsGateway(target),
                clock=estate.clock,
                operator="bench",
                poll_interval_seconds=args.poll_interval,
            )

        main_services = services()
        choice = RunChoice(plan.name, Mode.DRILL)
        prepared = prepare_execution(db, gateway, main_services.request_for(choice))

        desk = ExecutionDesk(services, pace=lambda seconds: seconds / scale)  # the app's demo pace
        receiver = Receiver()
        desk.progressed.connect(receiver.on_progressed)
        desk.failed.connect(receiver.on_failed)
        widget = TimedProgressWidget()
        widget.resize(1400, 900)
        if not args.no_view:
            widget.connect_desk(desk)
        widget.show()
        meter = StallMeter()
        meter.start()
        desk.start(prepared, choice, receiver.failures.append)
        wait_for(lambda: receiver.count > 0 and (bool(widget.apply_ms) or args.no_view), 120)
        first_apply = widget.apply_ms[0] if widget.apply_ms else float("nan")
        default_thresholds, default_switch = gc.get_threshold(), sys.getswitchinterval()
        if args.gc == "app":
            tune_interpreter()  # exactly what run_gui does once the window is built
            start_full_collections(widget)
        gc_times = GcTimes()
        meter.record()
        run_start = time.perf_counter()
        goal = receiver.count + args.updates
        wait_for(lambda: receiver.count >= goal, args.updates * 5 + 60)
        meter.recording = False
        gc_times.stop()
        run_seconds = time.perf_counter() - run_start
        start = time.perf_counter()
        gc.collect()  # what the app's timer does every FULL_COLLECTION_INTERVAL_MS, execution running
        full_gc_ms = (time.perf_counter() - start) * 1000
        desk.stop()
        main_services.close()
        gc.set_threshold(*default_thresholds)
        sys.setswitchinterval(default_switch)
        idle_paint: dict[str, list[float]] = {"tree": [], "timeline": [], "log": []}
        if not args.no_view:  # what a repaint costs the GUI thread with no other thread running
            for name, part in (
                ("tree", widget.tree.viewport()),
                ("timeline", widget.timeline),
                ("log", widget.log.viewport()),
            ):
                for _ in range(5):
                    start = time.perf_counter()
                    part.repaint()
                    idle_paint[name].append((time.perf_counter() - start) * 1000)

        # Building a snapshot of the last state of the run (replayed from the journal), off the loop.
        last = receiver.last
        assert last is not None
        record = journal.get_execution(db, last.execution_id)
        events = [event_from_json(e.payload) for e in journal.load_journal(db, record.execution_id)]
        state = replay(spec_from_json(record.spec), events)
        tracker = ProgressTracker()
        start = time.perf_counter()
        tracker.update(state, last.now)
        full_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        tracker.update(state, last.now + timedelta(seconds=1))
        clock_ms = (time.perf_counter() - start) * 1000
        db.close()

    lateness = meter.lateness
    worst = max(lateness, default=0.0)
    changed = receiver.changed[1:]
    servers = len(prepared.server_ids)
    print(
        f"execution: {servers} servers in {args.waves} waves, simulator in a {args.simulator} at "
        f"{scale:g}x, a poll every {args.poll_interval:g} virtual s, gc {args.gc}; {args.updates} updates "
        f"applied in {run_seconds:.1f} s (the desk applies at most one per {APPLY_INTERVAL_MS} ms)"
    )
    mean_changed = statistics.fmean(changed) if changed else 0
    print(f"servers changed per update: mean {mean_changed:.0f}, max {max(changed, default=0)}")
    print(f"snapshot build (loop thread):    {describe(build_ms)}")
    print(f"snapshot build, all rows new:    {full_ms:6.1f} ms;  only the clock moved: {clock_ms:6.1f} ms")
    print(f"first snapshot on the GUI:       {first_apply:6.1f} ms (rows inserted, every wave expanded)")
    print(f"apply a snapshot (GUI thread):   {describe(widget.apply_ms[1:])}")
    paints = ", ".join(f"{name} {statistics.median(ms):.1f} ms" for name, ms in idle_paint.items() if ms)
    print(f"repaint, nothing else running:   {paints}")
    print(
        f"event-loop lateness ({PROBE_MS} ms probe, {len(lateness)} ticks): worst {worst:.1f} ms, "
        f"p99 {percentile(lateness, 0.99):.1f} ms, p95 {percentile(lateness, 0.95):.1f} ms, "
        f"{sum(1 for v in lateness if v >= TARGET_MS)} tick(s) >= {TARGET_MS:.0f} ms "
        f"(target: worst < {TARGET_MS:.0f} ms)"
    )
    print(f"garbage collections during the run: {gc_times.summary()}")
    print(f"one full collection, execution running (the app's timer, every 10 min): {full_gc_ms:.1f} ms")
    if args.trace:
        for moment, late in meter.big:
            near = [(round((a - moment) * 1000), n) for a, n in widget.arrivals if abs(a - moment) < 1.2]
            full = [round((t - moment) * 1000) for t in gc_times.full_at if abs(t - moment) < 0.2]
            print(f"  stall {late:.0f} ms; snapshots applied (ms from it, rows changed): {near}; gc2: {full}")
    if receiver.failures:
        print("failures:", *receiver.failures[:5], sep="\n  ")
    widget.close()
    return 0 if worst < TARGET_MS and not receiver.failures else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
