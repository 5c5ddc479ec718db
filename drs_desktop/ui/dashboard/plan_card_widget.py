"""One plan's card on the dashboard: ready or not, its drill cadence (due, overdue, failed and needing a
re-test, changed), the last drill, the predicted RTO, the servers over the RPO, what changed since the
last good drill, and the two charts.

Every line says what it knows and no more: a plan not checked yet reads "checking…", never "ready";
a preflight older than ``STALE_AFTER`` (or of a revision the plan has since left) is shown grey with its
age, never as the plan's current readiness; one never drilled reads "no drill yet"; a comparison the
drill's record cannot support says so. Times are written by ``ui.change_hub.moment_text``, on the
dashboard's own clock. Texts are plain (hostnames and DRS messages are not markup).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.views.cadence import CadenceKind, PlanCadence
from drs_desktop.domain.views.dashboard import STALE_AFTER, PlanCard, Readiness
from drs_desktop.domain.views.drift import ChangeSet, ServerChange
from drs_desktop.domain.views.history import ExecutionSummary
from drs_desktop.domain.views.launch_drift import PlanDrift
from drs_desktop.domain.views.readiness import RtoPrediction
from drs_desktop.ui.change_hub import moment_text
from drs_desktop.ui.dashboard.lag_chart_widget import LagChartWidget
from drs_desktop.ui.dashboard.rto_chart_widget import RtoChartWidget

logger = logging.getLogger(__name__)

#: Failing checks listed on a card; the rest are counted.
FAILURES_SHOWN = 5
#: Servers named per kind of change; the rest are counted.
NAMES_SHOWN = 4

READY_STYLE = "background:#2e7d32;color:white;padding:2px 8px;border-radius:3px;font-weight:bold"
NOT_READY_STYLE = "background:#c62828;color:white;padding:2px 8px;border-radius:3px;font-weight:bold"
UNKNOWN_STYLE = "background:#757575;color:white;padding:2px 8px;border-radius:3px;font-weight:bold"
#: A result that is not current: no colour that could be read as today's verdict.
STALE_STYLE = "background:#e0e0e0;color:#424242;padding:2px 8px;border-radius:3px;font-weight:bold"


def age_text(span: timedelta | None) -> str:
    """ "42 min ago", "just now" (under a minute); "at an unknown time" for None."""
    if span is None:
        return "at an unknown time"
    return "just now" if span < timedelta(minutes=1) else f"{format_duration(span)} ago"


class PlanCardWidget(QFrame):
    """The card of one plan; ``show_card`` fills it (again) from a ``PlanCard``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.badge = QLabel()
        self.badge.setObjectName("readiness-badge")
        self.checked = self._text("checked")  # its own line: an age and its reason can be long
        self.checked.setStyleSheet("color:#616161")
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.badge)
        head.addStretch(1)

        self.failures = self._text("failures")
        self.cadence = self._text("cadence")
        self.cadence_reasons = self._text("cadence-reasons")
        self.cadence_reasons.setStyleSheet("color:#616161")
        cadence_box = QWidget()
        cadence_layout = QVBoxLayout(cadence_box)
        cadence_layout.setContentsMargins(0, 0, 0, 0)
        cadence_layout.setSpacing(0)
        cadence_layout.addWidget(self.cadence)
        cadence_layout.addWidget(self.cadence_reasons)
        self.last_drill = self._text("last-drill")
        self.predicted = self._text("predicted")
        self.rpo = self._text("rpo")
        self.changes = self._text("changes")
        self.launch = self._text("launch-settings")
        facts = QGridLayout()
        facts.setColumnStretch(1, 1)
        for row, (name, label) in enumerate(
            (
                ("Drill cadence", cadence_box),
                ("Last drill", self.last_drill),
                ("Predicted RTO", self.predicted),
                ("Replication", self.rpo),
                ("Since last good drill", self.changes),
                ("Launch settings", self.launch),
            )
        ):
            caption = QLabel(name)
            caption.setStyleSheet("font-weight:bold")
            facts.addWidget(caption, row, 0, Qt.AlignmentFlag.AlignTop)
            facts.addWidget(label, row, 1)

        self.lag_chart = LagChartWidget()
        self.rto_chart = RtoChartWidget()
        charts = QHBoxLayout()
        charts.addWidget(self._titled("Replication lag per server", self.lag_chart), 1)
        charts.addWidget(self._titled("Drill RTO over time", self.rto_chart), 1)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.checked)
        layout.addWidget(self.failures)
        layout.addLayout(facts)
        layout.addLayout(charts)

    @staticmethod
    def _text(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @staticmethod
    def _titled(title: str, chart: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 6, 0, 0)
        caption = QLabel(title)
        caption.setStyleSheet("font-weight:bold")
        layout.addWidget(caption)
        layout.addWidget(chart)
        layout.addStretch(1)
        return box

    def show_card(self, card: PlanCard, *, checking: bool, now: datetime) -> None:
        """Fill the card; ``checking``: its preflight is under way; ``now``: the dashboard's time, which
        ages and dates are told against."""
        self.setObjectName(f"plan-card-{card.plan_name}")
        servers = f"{card.server_count} server(s)"
        self.title.setText(f"{card.plan_name}  ·  {servers}")
        self._show_readiness(card, checking, now)
        self.last_drill.setText(last_drill_text(card.last_drill, now))
        self.predicted.setText(prediction_text(card.prediction, card.rto_target))
        self.rpo.setText(rpo_text(card))
        self.changes.setText(changes_text(card.changes, card.last_good_drill, now))
        self.lag_chart.set_lags(card.lags, card.rpo_minutes)
        predicted = card.prediction.total if card.prediction is not None else None
        self.rto_chart.set_drills(card.drills, card.rto_target, predicted)

    def show_launch(self, drift: PlanDrift | None, read_at: datetime | None, now: datetime) -> None:
        """The plan's launch settings drift line, with the reading's age (issue 16)."""
        text = launch_text(drift, read_at, now)
        self.launch.setText(text)
        drifted = drift is not None and not drift.error and (drift.drifted or drift.blocked)
        pointed = drift is not None and not drift.error and bool(drift.drill_pointed)
        # A template left on a drill version is red: a recovery would launch into the drill network.
        style = "color:#c62828;font-weight:bold" if pointed else "color:#b35c00;font-weight:bold"
        self.launch.setStyleSheet(style if drifted or pointed else "")

    def show_cadence(self, state: PlanCadence | None) -> None:
        """The plan's cadence state in words (its marker and colour repeat them, never replace them),
        the other reasons under it, and every reason in the tooltip."""
        if state is None:
            self.cadence.setText("not read")
            self.cadence.setStyleSheet("color:#616161")
            self.cadence.setToolTip("")
            self.cadence_reasons.setVisible(False)
            return
        head, others = cadence_text(state)
        self.cadence.setText(head)
        self.cadence.setStyleSheet(CADENCE_STYLES.get(state.kind, ""))
        self.cadence.setToolTip("\n".join(f"• {r.text}" for r in state.reasons))
        self.cadence_reasons.setText("\n".join(f"• {line}" for line in others))
        self.cadence_reasons.setVisible(bool(others))

    def _show_readiness(self, card: PlanCard, checking: bool, now: datetime) -> None:
        readiness = card.readiness
        if readiness is None:
            self._badge("CHECKING…" if checking else "NOT CHECKED", UNKNOWN_STYLE)
            self.checked.setText("preflight not run yet")
            self.failures.setVisible(False)
            return
        current = readiness.current(now) and not card.changed_since_check
        self.checked.setText(checked_text(card, readiness, now) + (" (checking again…)" if checking else ""))
        word, verdict, style, failures = self._verdict(readiness)
        if current:
            self._badge(verdict, style)
        else:  # the verdict of another time or revision: said with its age, grey
            self._badge(f"{word}, {age_text(readiness.age(now))}", STALE_STYLE)
        self.failures.setText(failures)
        self.failures.setStyleSheet("color:#c62828" if current and readiness.known else "color:#616161")
        self.failures.setVisible(bool(failures))

    def _badge(self, text: str, style: str) -> None:
        """Style first, then text: the width is measured in the badge's bold font (else it clips)."""
        self.badge.setStyleSheet(style)
        self.badge.setText(text)
        self.badge.setMinimumWidth(0)
        self.badge.ensurePolished()
        self.badge.setFixedWidth(self.badge.sizeHint().width())

    @staticmethod
    def _verdict(readiness: Readiness) -> tuple[str, str, str, str]:
        """The verdict in a word, the badge's text and style, and the lines under it, as if current."""
        if not readiness.known:
            return "UNKNOWN", "UNKNOWN", UNKNOWN_STYLE, f"The preflight could not run: {readiness.error}"
        if readiness.ok:
            warned = f" ({readiness.warnings} warning(s))" if readiness.warnings else ""
            return "READY", "READY" + warned, READY_STYLE, ""
        count = len(readiness.failures)
        lines = [f"• {message}" for message in readiness.failures[:FAILURES_SHOWN]]
        if count > FAILURES_SHOWN:
            lines.append(f"… and {count - FAILURES_SHOWN} more (run the preflight for the full list)")
        return "NOT READY", f"NOT READY: {count} failing check(s)", NOT_READY_STYLE, "\n".join(lines)


#: The cadence line's colour by state: amber for due or changed, red for overdue or failed. The words
#: and the marker (``CADENCE_MARKS``) carry the meaning; the colour only repeats it.
CADENCE_STYLES = {
    CadenceKind.DUE_TODAY: "color:#b35c00;font-weight:bold",
    CadenceKind.CHANGED: "color:#b35c00;font-weight:bold",
    CadenceKind.FAILED: "color:#c62828;font-weight:bold",
    CadenceKind.RETEST_DUE: "color:#c62828;font-weight:bold",
    CadenceKind.OVERDUE: "color:#c62828;font-weight:bold",
    CadenceKind.RETEST_OVERDUE: "color:#c62828;font-weight:bold",
    CadenceKind.NEVER_TESTED: "color:#c62828;font-weight:bold",
    CadenceKind.NO_CADENCE: "color:#616161",
}
CADENCE_MARKS = {
    CadenceKind.DUE_TODAY: "DUE",
    CadenceKind.CHANGED: "CHANGED",
    CadenceKind.FAILED: "RE-TEST",
    CadenceKind.RETEST_DUE: "RE-TEST",
    CadenceKind.OVERDUE: "OVERDUE",
    CadenceKind.RETEST_OVERDUE: "OVERDUE",
    CadenceKind.NEVER_TESTED: "OVERDUE",
}


def cadence_text(state: PlanCadence) -> tuple[str, list[str]]:
    """The head line, "OVERDUE: overdue by 3 days (every 30 days; last good drill 2026-05-13)", and the
    other reasons (a changed plan's head is the headline alone: every change is a reason under it)."""
    mark = CADENCE_MARKS.get(state.kind)
    head = next((r.text for r in state.reasons if r.kind is state.kind), state.headline)
    if state.kind is CadenceKind.CHANGED:
        head = state.headline
    return (f"{mark}: {head}" if mark else head), [r.text for r in state.reasons if r.text != head]


def launch_text(drift: PlanDrift | None, read_at: datetime | None, now: datetime) -> str:
    """ "launch settings: 3 servers drifted (read 14:03:12 UTC, 5 min ago)", or why nothing is known."""
    if read_at is None:
        return "launch settings: not read yet"
    if drift is None:
        return "launch settings: none desired"
    age = age_text(max(now - read_at, timedelta(0)))
    return f"{drift.summary()} (read {moment_text(read_at, now)}, {age})"


def checked_text(card: PlanCard, readiness: Readiness, now: datetime) -> str:
    """When the preflight ran, how long ago, and why it is not current when it is not."""
    when = moment_text(readiness.checked_at, now) if readiness.checked_at is not None else "at ?"
    text = f"preflight {when}, {age_text(readiness.age(now))}"
    if card.changed_since_check:
        return f"{text}: the plan was saved since (revision {card.revision})"
    if not readiness.current(now):
        return f"{text}: older than {format_duration(STALE_AFTER)}, not current"
    return text


def last_drill_text(drill: ExecutionSummary | None, now: datetime | None = None) -> str:
    if drill is None:
        return "No drill yet."
    when = moment_text(drill.record.started_at, now)
    if drill.outcome is None:
        return f"{drill.status} since {when} (not finished)."
    text = f"{drill.outcome}, started {when}"
    if drill.rto_achieved is None:
        return text + ": not every critical server was ready, so no RTO was achieved."
    achieved = format_duration(drill.rto_achieved, exact=True)
    if drill.rto_target is None:
        return f"{text}: RTO {achieved} (the plan has no RTO target)."
    target = format_duration(drill.rto_target, exact=True)
    verdict = "met" if drill.rto_achieved <= drill.rto_target else "MISSED"
    return f"{text}: RTO {achieved} against a target of {target} ({verdict})."


def prediction_text(prediction: RtoPrediction | None, target: timedelta | None) -> str:
    if prediction is None or prediction.drills == 0:
        return "No drill yet: nothing to predict from."
    if prediction.total is None:
        missing = ", ".join(f"'{name}'" for name in prediction.missing)
        return f"No prediction: no successful drill ran wave(s) {missing} as the plan has them now."
    waves = ", ".join(
        f"{w.name} {format_duration(w.to_ready or 0)}" for w in prediction.waves if w.to_ready is not None
    )
    text = (
        f"{format_duration(prediction.total, exact=True)} (median of {prediction.drills} drill(s); {waves})"
    )
    if target is not None:
        text += "; within the target" if prediction.total <= target else "; OVER the target"
    return text + ". Approvals not counted."


def rpo_text(card: PlanCard) -> str:
    if card.rpo_minutes is None:
        return "The plan has no RPO target."
    if not card.lags:
        return f"RPO {card.rpo_minutes} min: no server of the plan in the inventory."
    if not card.breaches:
        return f"All {len(card.lags)} server(s) within the RPO of {card.rpo_minutes} min."
    names = ", ".join(
        f"{b.label} {format_duration(b.lag_seconds)}"
        + (f" ({b.replication_state})" if b.replication_state else "")
        for b in card.breaches[:NAMES_SHOWN]
    )
    more = f" and {len(card.breaches) - NAMES_SHOWN} more" if len(card.breaches) > NAMES_SHOWN else ""
    return f"{len(card.breaches)} server(s) over the RPO of {card.rpo_minutes} min: {names}{more}."


def _names(changes: tuple[ServerChange, ...], *, detail: bool = False) -> str:
    shown = [f"{c.label} ({c.detail})" if detail and c.detail else c.label for c in changes[:NAMES_SHOWN]]
    more = f" and {len(changes) - NAMES_SHOWN} more" if len(changes) > NAMES_SHOWN else ""
    return ", ".join(shown) + more


def changes_text(
    changes: ChangeSet | None, good: ExecutionSummary | None, now: datetime | None = None
) -> str:
    if good is None:
        return "No successful drill to compare with."
    when = moment_text(good.record.started_at, now)
    if changes is None:
        return f"Not compared with the drill of {when} (no inventory cached)."
    since = f"since the drill of {when}"
    parts = []
    if changes.added:
        parts.append(f"added: {_names(changes.added)}")
    if changes.removed:
        parts.append(f"removed: {_names(changes.removed)}")
    if changes.retagged:
        parts.append(f"re-tagged: {_names(changes.retagged, detail=True)}")
    if changes.launch_changed:
        parts.append(f"launch settings changed: {_names(changes.launch_changed, detail=True)}")
    unknown = []
    if not changes.tags_compared:
        unknown.append("tags")
    if not changes.launch_compared:
        unknown.append("launch settings")
    caveat = (
        f" ({' and '.join(unknown)} not compared: not recorded by that drill or not read yet)"
        if unknown
        else ""
    )
    if not parts:
        if not unknown:
            return f"No change {since}: same servers, tags and launch settings."
        return f"No server added or removed {since}{caveat}."
    return f"{changes.count} change(s) {since}: " + "; ".join(parts) + caveat + "."
