"""The GUI process's interpreter settings: garbage collection and the GIL's switch interval.

Applied once by the composition root (``app.run_gui``) after the window is built, and by the progress
benchmark (tests/benchmarks/bench_progress.py), so that the benchmark measures what ships. Here, in
workers, because it is about the threads the GUI runs and needs only QtCore's timer.
"""

from __future__ import annotations

import gc
import logging
import sys

from PySide6.QtCore import QObject, QTimer

logger = logging.getLogger(__name__)


#: Full collections (generation 2) run on the GUI thread's timer this often, never on their own.
FULL_COLLECTION_INTERVAL_MS = 10 * 60 * 1000
#: Generation 2's threshold: so many generation-1 collections before an automatic full one, i.e. never.
_NO_AUTOMATIC_FULL_COLLECTION = 1_000_000_000
#: Seconds a thread may hold the GIL while another waits for it (Python's default: 0.005).
GIL_SWITCH_INTERVAL = 0.001


def tune_interpreter() -> None:
    """The application's interpreter settings, applied once the window is built (``run_gui``; the
    progress benchmark calls this same function, so it measures what ships).

    Why: the GUI thread must never stall 50 ms or more (DESIGN §3), and two things of the interpreter made
    it do so while a 1,000-server execution updated every second:

    - Garbage collection. A full collection walks every tracked object holding the GIL, and any thread may
      trigger it, an execution's loop thread included: 70-90 ms several times a minute. So the long-lived
      objects built so far, which never become garbage, leave the collector (``gc.freeze()``); full
      collections no longer start on their own (generation 2's threshold out of reach; generations 0 and
      1, a few ms each, keep Python's defaults); and ``start_full_collections`` runs one on the GUI thread
      every ``FULL_COLLECTION_INTERVAL_MS`` (5-15 ms measured), so cyclic garbage is still freed.
    - The GIL's switch interval. Whenever the GUI thread runs Python (a timer, applying a snapshot) it
      takes the GIL back from whichever thread holds it; while a loop thread parses a DRS answer or
      builds a snapshot, each of those waits lasted up to Python's 5 ms. At 1 ms the stalls measured
      halved (worst 24-44 ms instead of 33-87, p99 3-6 ms instead of 6-11); the loop threads, which
      mostly sleep, lose nothing that matters. (Painting the progress tree then called its Python model
      ~1,500 times; it calls none since: ``ui.executions.progress_model``.)
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _NO_AUTOMATIC_FULL_COLLECTION)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


def start_full_collections(parent: QObject) -> QTimer:
    """The GUI thread's timer for the full collections ``tune_interpreter`` took from Python."""
    timer = QTimer(parent)
    timer.setObjectName("full-garbage-collection")
    timer.setInterval(FULL_COLLECTION_INTERVAL_MS)
    timer.timeout.connect(_collect_everything)
    timer.start()
    return timer


def _collect_everything() -> None:
    freed = gc.collect()
    logger.debug("full garbage collection: %d objects freed", freed)
