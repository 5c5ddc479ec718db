"""What the PDF evidence report carries to the thread that lays it out: its page as rich text and its
timeline as data to paint.

Why a payload of its own: the PDF is laid out off the GUI thread by a function of the ui layer (it needs
QtGui), which may import neither services nor storage. The task thread builds this frozen value from the
report document (``services.report_pdf``) and hands it to that function, so the picture and the tables
say exactly what the JSON, CSV and HTML forms say. Times on the chart are seconds from the execution's
start, so nothing here needs a clock or a time zone. Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TIMELINE_IMAGE", "ChartRow", "ChartSegment", "PdfReport", "TimelineChart"]

#: The image name of timeline picture N (0-based) in the report's HTML, where the layout puts it.
TIMELINE_IMAGE = "timeline-{}"

#: Segment kinds, in the order a server goes through them (a wave's own bar is "wave").
SEGMENT_KINDS = ("queued", "snapshot", "conversion", "launch", "post_launch", "wave")


@dataclass(frozen=True)
class ChartSegment:
    """A stretch of one row: ``kind`` (``SEGMENT_KINDS``) from ``start`` to ``end`` seconds after the
    execution began. ``failed`` marks the stage DRS failed; ``earlier`` an attempt that was retried, so
    a retry keeps its failed try on the picture."""

    kind: str
    start: float
    end: float
    failed: bool = False
    earlier: bool = False


@dataclass(frozen=True)
class ChartRow:
    """A wave (``server_id`` empty) or one of its servers, with its outcome and its segments."""

    label: str
    server_id: str
    outcome: str
    segments: tuple[ChartSegment, ...]

    @property
    def is_wave(self) -> bool:
        return not self.server_id


@dataclass(frozen=True)
class TimelineChart:
    """The execution on its own time axis: ``span`` seconds wide, starting at ``started_at`` (the UTC
    time it began, as text for the axis), with the RTO target and the RTO achieved as lines."""

    started_at: str
    span: float
    rows: tuple[ChartRow, ...]
    rto_target: float | None = None
    rto_achieved: float | None = None


@dataclass(frozen=True)
class PdfReport:
    """A PDF report ready to lay out: its ``title``, its ``html`` (the rich text subset Qt lays out, with
    ``<img src="timeline-N">`` where the timeline pictures go) and the ``timeline`` they are painted
    from, ``timeline_pages`` pictures of at most ``rows_per_picture`` rows each."""

    title: str
    html: str
    timeline: TimelineChart
    rows_per_picture: int

    @property
    def timeline_pages(self) -> int:
        rows = len(self.timeline.rows)
        return max(1, -(-rows // self.rows_per_picture))

    def picture_rows(self, page: int) -> tuple[ChartRow, ...]:
        first = page * self.rows_per_picture
        return self.timeline.rows[first : first + self.rows_per_picture]
