"""One place where the GUI hears that plans, the inventory or the executions changed.

Why: the same data shows in several panes (plans in the Plans list, the Groups picker, the run dialog and
the Servers pane's "Used by"; the inventory in the Servers pane and both editors; executions in the
History list), and pane-to-pane wiring had left some of them stale ("No plans yet" beside a saved plan,
an editor validating against an older inventory than the Servers pane showed). Now a pane that changes
something announces it here, and every pane that shows it listens here; the composition root
(``drs_desktop/app.py``, ``DesktopApp._wire_changes``) owns the hub and makes both connections, so no pane
knows another.

The hub also keeps the newest inventory: a refresh from DRS always wins, and a cache read that answers
late (the editors read the cache at startup, on the ``local`` thread) never replaces a newer one
(``is_newer``). The "updated at" stamps are the panes', on the clock each is given (the app's one clock).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Signal

from drs_desktop.domain.inventory import Inventory

logger = logging.getLogger(__name__)


def is_newer(candidate: Inventory | None, current: Inventory | None) -> bool:
    """True when ``candidate`` should replace ``current``: there is none yet, or it was read no earlier.

    An inventory without a read time is never preferred to one with a time, and none replaces one.
    """
    if candidate is None:
        return False
    if current is None:
        return True
    if candidate.fetched_at is None:
        return current.fetched_at is None
    return current.fetched_at is None or candidate.fetched_at >= current.fetched_at


def moment_text(at: datetime, now: datetime | None = None) -> str:
    """ "14:03:12 UTC", with the date when it is not ``now``'s day: every pane's way to write a moment."""
    moment = at.astimezone(UTC)
    today = (now or moment).astimezone(UTC).date()
    shown = f"{moment:%H:%M:%S}" if moment.date() == today else f"{moment:%Y-%m-%d %H:%M:%S}"
    return f"{shown} UTC"


def updated_text(at: datetime, now: datetime | None = None) -> str:
    """ "updated 14:03:12 UTC", with the date when it is not ``now``'s day."""
    return f"updated {moment_text(at, now)}"


class ChangeHub(QObject):
    """Announcements of changed data, fanned out to the panes by the composition root."""

    plans_changed = Signal()  # a plan was saved, imported or deleted: re-read the plans
    inventory_changed = Signal(object)  # Inventory, or None: the target changed, the old one's is gone
    executions_changed = Signal()  # an execution started or ended, or a cleanup finished

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._inventory: Inventory | None = None

    def inventory(self) -> Inventory | None:
        return self._inventory

    def forget_inventory(self) -> None:
        """The target changed: the next inventory read (even a cache read, whose time may be earlier on
        the new target's clock) replaces the old target's, which no longer describes the screen. Told
        to every pane (``inventory_changed(None)``): an editor must not validate against the old one."""
        self._inventory = None
        self.inventory_changed.emit(None)

    def announce_plans(self, *_: object) -> None:
        self.plans_changed.emit()

    def announce_executions(self, *_: object) -> None:
        self.executions_changed.emit()

    def announce_inventory(self, inventory: Inventory | None, *, live: bool = True) -> bool:
        """A refresh from DRS (``live``) is the newest by definition; a cache read only if no newer is
        held. True when the hub took it (and told the panes)."""
        if inventory is None or (not live and not is_newer(inventory, self._inventory)):
            return False
        self._inventory = inventory
        self.inventory_changed.emit(inventory)
        return True
