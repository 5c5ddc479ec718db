"""The report's "How it ended" part: ``views.end_states`` as report data and as an HTML section.

The same facts the progress view's end-state panel and ``drs-desktop executions show`` give: each
server's final state, the DRS jobs still running when the run ended, an abandoned run's reason, and after
a RECOVERY the recovery instances it launched, running in production, with what comes next (failing back
after a complete recovery; a deliberate decision per instance after a cancelled or partial one;
production instances: never "cleanup"). ``end`` is null while the run goes on.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from drs_desktop.domain.engine.state import ExecutionState
from drs_desktop.domain.views.end_states import end_states
from drs_desktop.domain.views.report import ExecutionView

logger = logging.getLogger(__name__)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def end_document(view: ExecutionView) -> dict[str, Any] | None:
    """The report document's ``end`` key (None: the run has not stopped)."""
    return end_data(view.state, view.hostnames)


def end_data(state: ExecutionState, names: Mapping[str, str]) -> dict[str, Any] | None:
    """How the run ended, as JSON data (the report's ``end``, ``executions show --json``'s ``end``)."""
    end = end_states(state)
    if end is None:
        return None
    return {
        "finished": end.finished,
        "headline": end.headline,
        "servers": [
            {
                "server_id": s.server_id,
                "hostname": names.get(s.server_id) or None,
                "wave_index": s.wave_index,
                "final_state": s.state,
                "detail": s.text,
            }
            for s in end.servers
        ],
        "waiting_for_jobs": list(end.waiting_for_jobs),
        "gives_up_at": _iso(end.gives_up_at),
        "jobs_still_running_in_drs": list(end.jobs_left_running),
        "abandoned": (
            {"reason": end.abandoned_reason, "by": end.abandoned_by}
            if end.abandoned_reason is not None
            else None
        ),
        "production": {
            "applies": end.recovery,
            "recovered_everything": end.recovered,
            "instances": [
                {
                    "server_id": p.server_id,
                    "hostname": names.get(p.server_id) or None,
                    "recovery_instance_id": p.recovery_instance_id,
                    "ec2_instance_id": p.ec2_instance_id,
                    "running_since": _iso(p.since),
                }
                for p in end.production
            ],
            "may_still_launch": list(end.production_unknown),
            "advice": end.production_advice or None,
        },
    }


def _e(value: object) -> str:
    return html.escape("—" if value is None else str(value))


def end_html(doc: Mapping[str, Any]) -> str:
    """The "How it ended" section of the HTML report (empty when the run has not stopped)."""
    end = doc.get("end")
    if not end:
        return ""
    parts = [f"<p><strong>{_e(end['headline'])}</strong></p>"]
    abandoned = end.get("abandoned")
    if abandoned:
        by = f" by {abandoned['by']}" if abandoned.get("by") else ""
        parts.append(f'<p class="fail">Ended{_e(by)} without its DRS target: {_e(abandoned["reason"])}</p>')
    parts += [
        f'<p class="fail">Job <span class="mono">{_e(job)}</span> was still running in DRS when the run '
        "ended: instances it may launch are not known to this run (look in DRS).</p>"
        for job in end["jobs_still_running_in_drs"]
    ]
    rows = "".join(
        f"<tr><td>{_e(s['hostname'] or s['server_id'])}</td><td>{_e(s['final_state'])}</td>"
        f"<td>{_e(s['detail'])}</td></tr>"
        for s in end["servers"]
    )
    parts.append(
        "<table><thead><tr><th>Server</th><th>Final state</th><th>Detail</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    production = end["production"]
    if production["applies"] and (
        production["instances"] or production["may_still_launch"] or end["finished"]
    ):
        count = len(production["instances"])
        parts.append(f"<h3>Running in production ({count})</h3>")
        if count:
            rows = "".join(
                f"<tr><td>{_e(p['hostname'] or p['server_id'])}</td>"
                f'<td class="mono">{_e(p["recovery_instance_id"])}</td>'
                f'<td class="mono">{_e(p["ec2_instance_id"])}</td><td>{_e(p["running_since"])}</td></tr>'
                for p in production["instances"]
            )
            parts.append(
                "<table><thead><tr><th>Server</th><th>Recovery instance</th><th>EC2 instance</th>"
                f"<th>Running since (UTC)</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        else:
            parts.append("<p>Nothing this recovery launched.</p>")
        if production["may_still_launch"]:
            parts.append(
                "<p>May still launch in production (their DRS job did not end): "
                f"{_e(', '.join(production['may_still_launch']))}</p>"
            )
        if production["advice"]:
            parts.append(f"<p><strong>{_e(production['advice'])}</strong></p>")
    return "\n".join(parts)
