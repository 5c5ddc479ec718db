"""The Servers pane's filter bar: search, target, replication state, operating system and tags.

Each control sets one filter of the pane's ``ServerFilterModel`` as the operator types or picks, so the
table narrows at once; ``filters_changed`` tells the pane to recount. The target and state lists follow
the servers shown (``show_choices``), but an operator's choice is kept while no server matches it any more
(a state no server is in after a refresh, a target that left the list): the filter they set never jumps
back to "All" behind their back. The target list is hidden while there is only one target to choose.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QWidget

from drs_desktop.domain.inventory_targets import TargetInventory
from drs_desktop.ui.servers.server_table_model import ServerFilterModel

__all__ = ["ALL_OS", "ALL_STATES", "ALL_TARGETS", "OS_FAMILIES", "ServerFiltersWidget"]

ALL_STATES = "All replication states"
ALL_OS = "All operating systems"
ALL_TARGETS = "All targets"
OS_FAMILIES = ("Linux", "Windows", "Unknown")


class ServerFiltersWidget(QWidget):
    """The filter controls of the Servers pane, driving its filter model."""

    filters_changed = Signal()  # a filter was applied: the number of servers shown may have changed

    def __init__(self, proxy: ServerFilterModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._proxy = proxy
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("servers-search")
        self.search_edit.setPlaceholderText("Search hostname, ID, OS, tags, plans…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._search_changed)
        self.state_combo = QComboBox()
        self.state_combo.setObjectName("servers-state-filter")
        self.state_combo.addItem(ALL_STATES, "")
        self.state_combo.currentIndexChanged.connect(
            lambda _i: self._proxy.set_state(str(self.state_combo.currentData() or ""))
        )
        self.os_combo = QComboBox()
        self.os_combo.setObjectName("servers-os-filter")
        self.os_combo.addItem(ALL_OS, "")
        for family in OS_FAMILIES:
            self.os_combo.addItem(family, family)
        self.os_combo.currentIndexChanged.connect(
            lambda _i: self._proxy.set_os(str(self.os_combo.currentData() or ""))
        )
        self.target_combo = QComboBox()
        self.target_combo.setObjectName("servers-target-filter")
        self.target_combo.addItem(ALL_TARGETS, "")
        self.target_combo.currentIndexChanged.connect(
            lambda _i: self._filter_target(str(self.target_combo.currentData() or ""))
        )
        self.target_combo.hide()  # shown once there is more than one target to choose from
        self.tag_edit = QLineEdit()
        self.tag_edit.setObjectName("servers-tag-filter")
        self.tag_edit.setPlaceholderText("Tags: key=value, …")
        self.tag_edit.setClearButtonEnabled(True)
        self.tag_edit.textChanged.connect(self._tags_changed)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)  # one row with the pane's buttons, as if it were the pane's own
        row.addWidget(self.search_edit, 3)
        row.addWidget(self.target_combo, 1)
        row.addWidget(self.state_combo, 1)
        row.addWidget(self.os_combo, 1)
        row.addWidget(self.tag_edit, 2)

    def show_choices(self, parts: tuple[TargetInventory, ...], states: list[str]) -> None:
        """Offer the targets and replication states of the servers shown now."""
        self._refresh_target_choices(parts)
        self._refresh_state_choices(states)

    def _search_changed(self, text: str) -> None:
        self._proxy.set_search(text)
        self.filters_changed.emit()

    def _tags_changed(self, text: str) -> None:
        self._proxy.set_tag_filter(text)
        self.filters_changed.emit()

    def _filter_target(self, name: str) -> None:
        self._proxy.set_target(name)
        self.filters_changed.emit()

    def _refresh_target_choices(self, parts: tuple[TargetInventory, ...]) -> None:
        """The target filter offers every target shown (kept when its target left, like the state's)."""
        current = str(self.target_combo.currentData() or "")
        names = [part.name for part in parts]
        if current and current not in names:
            names.append(current)
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self.target_combo.addItem(ALL_TARGETS, "")
        for part in parts:
            self.target_combo.addItem(part.label, part.name)
        if current and current not in [part.name for part in parts]:
            self.target_combo.addItem(current, current)
        self.target_combo.setCurrentIndex(max(0, self.target_combo.findData(current)))
        self.target_combo.blockSignals(False)
        self.target_combo.setVisible(len(names) > 1)

    def _refresh_state_choices(self, states: list[str]) -> None:
        current = str(self.state_combo.currentData() or "")
        if current and current not in states:
            states.append(current)  # keep the operator's filter even if no server is in that state now
        self.state_combo.blockSignals(True)
        self.state_combo.clear()
        self.state_combo.addItem(ALL_STATES, "")
        for state in sorted(states):
            self.state_combo.addItem(state, state)
        self.state_combo.setCurrentIndex(max(0, self.state_combo.findData(current)))
        self.state_combo.blockSignals(False)
