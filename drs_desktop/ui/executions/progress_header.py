"""The live and history progress views' header line: plan, mode, run in DRS, status, elapsed, RTO, what
a finished drill left running, and what the run waits for. Rich text, every value escaped."""

from __future__ import annotations

import html

from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.ui.executions.history_format import duration_text


def header_html(snapshot: ProgressSnapshot) -> str:
    parts = [
        f"<b>{html.escape(snapshot.plan_name)}</b>",
        snapshot.mode.value,
        snapshot.status.value.replace("_", " "),
        f"elapsed {duration_text(snapshot.elapsed)}",
    ]
    if snapshot.native is not None:
        parts.insert(2, "<b>run in DRS</b>")
    if snapshot.rto_target is not None:
        achieved = f", achieved {duration_text(snapshot.rto_achieved)}" if snapshot.rto_achieved else ""
        parts.append(f"RTO target {duration_text(snapshot.rto_target)}{achieved}")
    if snapshot.finished and snapshot.drill_instances_running:
        running = f"{snapshot.drill_instances_running} drill instance(s) still running"
        parts.append(f"cleanup under way: {running}" if snapshot.cleanup_requested else running)
    elif snapshot.finished and snapshot.cleanup_requested:
        parts.append("drill instances terminated")
    if not snapshot.finished:  # servers held by other DRS jobs: the run waits for them (engine.busy)
        parts += [html.escape(f"wave {w.name}: {w.detail}") for w in snapshot.waves if w.busy]
    parts.extend(html.escape(problem) for problem in snapshot.instance_problems)
    if snapshot.read_only:
        parts.append("(history)")
    return " — ".join(parts)
