"""An open sync conflict as the conflicts dialog shows it: both sides, the diff, and the three choices
each said in one line. Pure.

The texts of the choices say what ``services.sync_resolve.resolve`` does (docs/sync.md, "Conflicts"),
in the operator's words: keep mine pushes this desktop's version over theirs at the next sync; take
theirs applies theirs here and drops this desktop's unsent change; save as a copy saves this desktop's
plan under a new name and applies theirs. Built by ``services.team_sync.conflict_views``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["CHOICE_LABELS", "ConflictView", "choice_text"]

#: The buttons, in order (the keys are ``resolve``'s choices).
CHOICE_LABELS: tuple[tuple[str, str], ...] = (
    ("keep_mine", "Keep mine"),
    ("take_theirs", "Take theirs"),
    ("save_as_copy", "Save as a copy"),
)


@dataclass(frozen=True)
class ConflictView:
    """One open conflict. ``kind`` is ``PLAN``, ``EXEC`` or ``SETTING``; ``name`` what the operator calls
    it (the plan's name); ``who`` the other side in words ("alice on desktop 1a2b3c4d"); ``changed_at``
    when the other side saved it (their revision's time; None when not known), ``detected_at`` when this
    desktop found the conflict. ``mine_text`` / ``theirs_text``: each side in full (a plan as its plan
    file); ``diff``: what theirs changes compared with mine, one line each (``domain.plan.diff``, the
    plan history's diff), empty when not comparable (``diff_note`` says why)."""

    kind: str
    key: str
    name: str
    who: str
    writer: str
    changed_at: datetime | None
    detected_at: datetime
    summary: str
    mine_title: str
    mine_text: str
    theirs_title: str
    theirs_text: str
    diff: tuple[str, ...]
    diff_note: str
    copy_name: str
    mine_deleted: bool
    theirs_deleted: bool

    @property
    def label(self) -> str:
        if self.kind == "PLAN":
            return f"plan {self.name!r}"
        if self.kind == "EXEC":
            return f"execution {self.key[:8]}"
        return f"setting {self.key}"

    def can(self, choice: str) -> bool:
        """Save as a copy needs a plan this desktop still has (``resolve`` refuses the others)."""
        if choice == "save_as_copy":
            return self.kind == "PLAN" and not self.mine_deleted
        return True


def choice_text(view: ConflictView, choice: str) -> str:
    """What ``choice`` will do, in one line."""
    other = view.who
    if choice == "keep_mine":
        if view.mine_deleted:
            return f"Keep it deleted: the next sync deletes it for the team too, over {other}'s change."
        return f"Push this desktop's version at the next sync, over {other}'s (theirs stays in the history)."
    if choice == "take_theirs":
        if view.theirs_deleted:
            return f"Delete it here as {other} did, and drop this desktop's unsent change."
        return f"Apply {other}'s version here and drop this desktop's unsent change."
    if choice == "save_as_copy":
        if not view.can(choice):
            if view.kind != "PLAN":
                return "Only a plan can be saved as a copy."
            return "This desktop deleted the plan: there is nothing to save as a copy."
        return f"Save this desktop's version as the new plan {view.copy_name!r}, then apply {other}'s."
    raise ValueError(f"unknown choice {choice!r}")
