"""The inventory worker: refresh the source servers from DRS off the GUI thread, with progress.

It lives on its own QThread (DESIGN §3.2: a slow DescribeSourceServers never freezes execution
progress) and answers through past-tense signals carrying frozen domain values:
``started`` then ``progressed(text)``... then ``refreshed(Inventory)`` or ``failed(operation, message)``.
``load_cached`` gives the offline view (the cache of the region in force) and ``load_usage`` the
"Used by" column, recomputed after a plan is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

from PySide6.QtCore import QObject, Signal, Slot

from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.server_usage import ServerUsage
from drs_desktop.services.inventory import InventoryService
from drs_desktop.workers.credential_prompts import CredentialPrompts
from drs_desktop.workers.guarded import guarded

logger = logging.getLogger(__name__)


class InventoryWorker(QObject):
    """Refresh (with progress), cached inventory and server usage for the Servers pane."""

    started = Signal()  # a refresh began
    progressed = Signal(str)  # one step of it, for the operator
    refreshed = Signal(object)  # Inventory, saved to the cache
    cache_loaded = Signal(object)  # Inventory | None: the cached inventory of the region in force
    usage_loaded = Signal(object)  # Mapping[str, ServerUsage] (read-only)
    failed = Signal(str, str)  # operation (refresh, load_cached, load_usage), message

    def __init__(
        self,
        service: InventoryService,
        prompts: CredentialPrompts | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._prompts = prompts

    @Slot()
    def close(self) -> None:
        """Release this thread's gateway and reader; ``WorkerThread(on_stop=worker.close)`` calls it."""
        try:
            self._service.close()
        except Exception:
            logger.exception("closing the inventory worker's resources failed")

    @Slot()
    @guarded("refresh")
    def refresh(self) -> None:
        self.started.emit()
        prompter = self._prompts.ask_mfa if self._prompts is not None else None
        inventory = self._service.refresh(self.progressed.emit, prompter)
        self.progressed.emit(f"{len(inventory.servers)} servers")
        self.refreshed.emit(inventory)
        self._emit_usage(inventory)

    @Slot()
    @guarded("load_cached")
    def load_cached(self) -> None:
        inventory = self._service.cached()
        self.cache_loaded.emit(inventory)
        self._emit_usage(inventory)

    @Slot()
    @guarded("load_usage")
    def load_usage(self) -> None:
        self._emit_usage(None)

    def _emit_usage(self, inventory: Inventory | None) -> None:
        usage: Mapping[str, ServerUsage] = MappingProxyType(self._service.usage(inventory))
        self.usage_loaded.emit(usage)
