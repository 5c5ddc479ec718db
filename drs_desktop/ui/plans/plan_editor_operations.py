"""What the plan editor's keys, toolbar buttons and drops do, each as one undoable edit.

A mixin of ``PlanEditorWidget`` kept in its own module so that the widget module stays about layout
and state. Every method here reads the selection, builds a ``domain.plan.edit`` function and hands it
to ``edit()``; none touches the model directly. Each drag has a keyboard twin:

==========================  ==============================  =====================
drag                        keyboard                        method
==========================  ==============================  =====================
inventory -> wave           Ctrl+Enter, pick the wave       ``open_add_dialog``
server(s) -> other wave     Ctrl+M, pick the wave           ``open_move_dialog``
wave up/down                Ctrl+Shift+Up / Down            ``shift_selection``
server up/down in its wave  Ctrl+Shift+Up / Down            ``shift_selection``
==========================  ==============================  =====================
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from drs_desktop.domain.inventory_targets import TargetInventory, connected_part
from drs_desktop.domain.plan import edit as pe
from drs_desktop.domain.plan import edit_parts as parts
from drs_desktop.domain.plan import edit_targets as pt
from drs_desktop.domain.plan.edit import EntryRef
from drs_desktop.domain.plan.edit_brief import set_brief, set_cadence
from drs_desktop.domain.plan.model import ApprovalStep, PlanTarget, RecoveryPlan, Step, WaitStep
from drs_desktop.domain.plan.problem_places import server_label, wave_label
from drs_desktop.ui.plans.plan_model import DropRequest
from drs_desktop.ui.plans.plan_undo import Edit, Ref
from drs_desktop.ui.plans.steps_editor_widget import DEFAULT_APPROVAL, DEFAULT_WAIT_MINUTES
from drs_desktop.ui.plans.wave_picker_dialog import NEW_WAVE, WavePickerDialog

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from drs_desktop.ui.plans.inventory_panel_widget import InventoryPanelWidget
    from drs_desktop.ui.plans.plan_properties_widget import PlanPropertiesWidget
    from drs_desktop.ui.plans.wave_properties_widget import WavePropertiesWidget

logger = logging.getLogger(__name__)


def count(number: int, noun: str, plural: str = "") -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _entries(number: int) -> str:
    return count(number, "entry", "entries")


def _refs(servers: Sequence[str], groups: Sequence[str]) -> list[Ref]:
    return [("server", key) for key in servers] + [("group", key) for key in groups]


def _keys(refs: Sequence[EntryRef]) -> list[str]:
    return [key for _, key in refs]


def taken_note(before: RecoveryPlan, after: RecoveryPlan, hostnames: Mapping[str, str]) -> str:
    """ "Moved db-01 (s-...) from Wave 1 'Databases'": what an edit took out of another wave ("" none).

    A server belongs to one wave, so adding one that another wave holds moves it; the operator is told,
    since the other wave may now be short of it. Waves are matched by name (an edit here renames none).
    """
    was: dict[tuple[str, str], int] = {}
    for index, wave in enumerate(before.waves):
        was.update({("server", sid): index for sid in wave.servers})
        was.update({("group", name): index for name in wave.groups})
    taken: dict[int, list[str]] = {}
    for wave in after.waves:
        entries = [("server", sid) for sid in wave.servers] + [("group", name) for name in wave.groups]
        for kind, key in entries:
            source = was.get((kind, key))
            if source is not None and before.waves[source].name != wave.name:
                label = server_label(key, hostnames) if kind == "server" else f"group {key!r}"
                taken.setdefault(source, []).append(label)
    parts = [f"{', '.join(labels)} from {wave_label(before, source)}" for source, labels in taken.items()]
    return f"Moved {'; '.join(parts)}." if parts else ""


class PlanEditorOperations:
    """Keyboard paths, toolbar actions and drops of the plan editor (mixed into the widget)."""

    _plan: RecoveryPlan | None
    _parts: tuple[TargetInventory, ...]
    inventory_panel: InventoryPanelWidget
    plan_properties: PlanPropertiesWidget
    wave_properties: WavePropertiesWidget
    editor_actions: dict[str, QAction]

    # Provided by the widget.
    def edit(self, text: str, change: Edit, *, select: Sequence[Ref] = (), merge_key: object = None) -> bool:
        raise NotImplementedError

    def _selection(self) -> tuple[list[int], list[EntryRef], list[EntryRef]]:
        raise NotImplementedError

    def _current_wave(self) -> int:
        raise NotImplementedError

    def _show_message(self, text: str) -> None:
        raise NotImplementedError

    def _show_notice(self, text: str) -> None:
        raise NotImplementedError

    def _hostnames(self) -> Mapping[str, str]:
        raise NotImplementedError

    def _update_wave_panel(self) -> None:
        raise NotImplementedError

    def _edit_entries(self, text: str, change: Edit, select: Sequence[Ref]) -> bool:
        """An edit that moves or adds entries: says which it took from another wave."""
        before = self._plan
        done = self.edit(text, change, select=select)
        if done and before is not None and self._plan is not None:
            note = taken_note(before, self._plan, self._hostnames())
            if note:
                self._show_notice(note)
        return done

    # ------------------------------------------------------------------------------------ waves

    def add_wave(self) -> None:
        """Ctrl+Shift+N: a new wave after the current one (or at the end)."""
        if self._plan is None:
            return
        current = self._current_wave()
        position = current + 1 if current >= 0 else len(self._plan.waves)
        name = pe.unique_wave_name(self._plan)
        self.edit(f"Add wave {name!r}", lambda p: pe.add_wave(p, name, position), select=[("wave", name)])

    def delete_selection(self) -> None:
        """Delete: the selected waves, or else the selected servers and groups."""
        waves, servers, groups = self._selection()
        if waves:
            names = ", ".join(repr(self._wave_name(w)) for w in waves)
            self.edit(f"Delete wave {names}", lambda p: pe.remove_waves(p, waves))
        elif servers or groups:
            self.edit(
                f"Remove {_entries(len(servers) + len(groups))}",
                lambda p: pe.remove_entries(p, servers, groups),
            )

    def shift_selection(self, step: int) -> None:
        """Ctrl+Shift+Up/Down: selected waves move one place; else selected entries within their wave."""
        waves, servers, groups = self._selection()
        where = "up" if step < 0 else "down"
        if waves:
            select: list[Ref] = [("wave", self._wave_name(w)) for w in waves]
            self.edit(f"Move wave {where}", lambda p: pe.shift_waves(p, waves, step), select=select)
            return
        entries = [*servers, *groups]
        if not entries:
            return
        if len({wave for wave, _ in entries}) != 1:
            self._show_message("Select servers of one wave to move them up or down")
            return
        wave, keys = entries[0][0], _keys(entries)
        self.edit(
            f"Move {_entries(len(keys))} {where}",
            lambda p: pe.shift_entries(p, wave, keys, step),
            select=_refs(_keys(servers), _keys(groups)),
        )

    def toggle_optional(self) -> None:
        """Ctrl+T: selected servers become OPTIONAL (or all CRITICAL when none was critical)."""
        _waves, servers, _groups = self._selection()
        if not servers:
            self._show_message("Select servers to mark them critical or optional")
            return
        self.edit(
            "Toggle critical/optional",
            lambda p: pe.toggle_impact(p, servers),
            select=_refs(_keys(servers), ()),
        )

    def add_step(self, place: str, step: Step) -> None:
        """An approval or wait before/after the current wave (edited in the wave panel)."""
        wave = self._current_wave()
        if wave < 0 or place not in ("before", "after"):
            self._show_message("Select a wave to add a step to it")
            return
        where: Any = place
        self.edit(
            f"Add step {place} {self._wave_name(wave)!r}", lambda p: parts.add_step(p, wave, where, step)
        )

    # ------------------------------------------------------------------------- moves and adds

    def open_move_dialog(self) -> WavePickerDialog | None:
        """Ctrl+M: move the selected servers and groups to a wave chosen from a list."""
        _waves, servers, groups = self._selection()
        if not (servers or groups) or self._plan is None:
            self._show_message("Select servers or groups in the plan to move them")
            return None
        return self._pick_wave(
            "Move to wave",
            f"Move {_entries(len(servers) + len(groups))} to:",
            lambda row: self.move_entries_to_wave(servers, groups, row),
        )

    def open_add_dialog(self) -> WavePickerDialog | None:
        """Ctrl+Enter: add the inventory's selected servers and groups to a wave chosen from a list."""
        servers, groups, targets = self.inventory_panel.selected_with_targets()
        if not (servers or groups) or self._plan is None:
            self._show_message("Select servers or groups in the inventory to add them")
            return None
        return self._pick_wave(
            "Add to wave",
            f"Add {_entries(len(servers) + len(groups))} to:",
            lambda row: self.add_entries_to_wave(servers, groups, row, targets=targets),
        )

    def move_entries_to_wave(
        self, servers: Sequence[EntryRef], groups: Sequence[EntryRef], wave: int, row: int | None = None
    ) -> bool:
        """Move entries to wave ``wave`` at entry ``row`` (the end when None); NEW_WAVE: a new last wave."""
        select = _refs(_keys(servers), _keys(groups))
        text = f"Move {_entries(len(servers) + len(groups))}"
        if wave == NEW_WAVE:
            end = len(self._plan.waves) if self._plan else 0
            return self._edit_entries(
                f"{text} to a new wave", lambda p: pe.move_to_new_wave(p, end, servers, groups), select
            )
        return self._edit_entries(
            f"{text} to {self._wave_name(wave)!r}",
            lambda p: pe.move_to_wave(p, wave, servers, groups, row),
            select,
        )

    def add_entries_to_wave(
        self,
        servers: Sequence[str],
        groups: Sequence[str],
        wave: int,
        row: int | None = None,
        *,
        targets: Sequence[str] = (),
    ) -> bool:
        """Add inventory entries to wave ``wave`` at entry ``row``; NEW_WAVE: a new last wave (at
        ``row`` when given). ``targets``: each server's target as the inventory names it ("" or left out:
        the connected one); a server of another target than the plan's default is added with its target,
        declared in the plan if need be (``plan.edit_targets``), all in one undoable step."""
        select = _refs(servers, groups)
        text = f"Add {_entries(len(servers) + len(groups))}"
        targeted, connected, unknown = self._targeted(servers, targets)
        if unknown:
            self._show_message(f"{text}: target {unknown!r} is no longer listed; refresh the inventory")
            return False
        if wave < 0:  # NEW_WAVE
            at = (len(self._plan.waves) if self._plan else 0) if row is None else row
            return self._edit_entries(
                f"{text} to a new wave",
                lambda p: pt.add_to_new_wave_in_targets(p, at, targeted, groups, connected=connected),
                select,
            )
        return self._edit_entries(
            f"{text} to {self._wave_name(wave)!r}",
            lambda p: pt.add_to_wave_in_targets(p, wave, targeted, groups, row, connected=connected),
            select,
        )

    def _targeted(
        self, servers: Sequence[str], targets: Sequence[str]
    ) -> tuple[list[pt.TargetedServer], PlanTarget | None, str]:
        """(each server with its target's declaration, None for the connected one; the connected
        target's declaration; the name of a target the inventory no longer lists, "" when none)."""
        parts = {part.name: part for part in self._parts}
        connected = connected_part(self._parts)
        declaration = connected.declaration if connected is not None else None
        targeted: list[pt.TargetedServer] = []
        for position, server_id in enumerate(servers):
            name = targets[position] if position < len(targets) else ""
            part = parts.get(name) if name else connected
            if name and part is None:
                return [], declaration, name
            targeted.append((server_id, None if part is None or part.connected else part.declaration))
        return targeted, declaration, ""

    def handle_drop(self, request: DropRequest) -> None:
        """A drop on the tree, from the tree or the inventory, as one undoable edit."""
        payload = request.payload
        at = request.row if request.row is not None else 0
        if payload.waves:
            select: list[Ref] = [("wave", self._wave_name(w)) for w in payload.waves]
            self.edit(
                f"Move {count(len(payload.waves), 'wave')}",
                lambda p: pe.move_waves(p, payload.waves, at),
                select=select,
            )
        elif payload.origin == "plan":
            if request.wave >= 0:
                self.move_entries_to_wave(payload.servers, payload.groups, request.wave, request.row)
                return
            self._edit_entries(
                f"Move {_entries(len(payload.servers) + len(payload.groups))} to a new wave",
                lambda p: pe.move_to_new_wave(p, at, payload.servers, payload.groups),
                _refs(_keys(payload.servers), _keys(payload.groups)),
            )
        else:
            servers, groups = _keys(payload.servers), _keys(payload.groups)
            targets = [payload.target_of(i) for i in range(len(servers))]
            self.add_entries_to_wave(
                servers, groups, request.wave, at if request.wave < 0 else request.row, targets=targets
            )

    # ----------------------------------------------------------------------- properties panels

    def _connect_properties(self) -> None:
        props = self.plan_properties
        props.name_edited.connect(
            lambda name: self.edit("Rename plan", lambda p: pe.set_name(p, name), merge_key="plan-name")
        )
        props.description_edited.connect(
            lambda text: self.edit(
                "Change description", lambda p: pe.set_description(p, text), merge_key="description"
            )
        )
        props.rto_edited.connect(lambda value: self.edit("Change RTO target", lambda p: pe.set_rto(p, value)))
        props.rpo_edited.connect(lambda value: self.edit("Change RPO target", lambda p: pe.set_rpo(p, value)))
        props.brief_edited.connect(lambda new: self.edit("Change test brief", lambda p: set_brief(p, new)))
        props.cadence_edited.connect(lambda new: self.edit("Change cadence", lambda p: set_cadence(p, new)))
        wave = self.wave_properties
        wave.name_edited.connect(self._rename_current_wave)
        wave.depends_on_edited.connect(self._set_current_dependencies)
        wave.step_added.connect(self.add_step)
        wave.step_edited.connect(
            lambda place, row, step: self._step_edit(
                "Edit step", lambda p, w: parts.replace_step(p, w, place, row, step)
            )
        )
        wave.step_removed.connect(
            lambda place, row: self._step_edit(
                "Remove step", lambda p, w: parts.remove_step(p, w, place, row)
            )
        )
        wave.step_moved.connect(
            lambda place, row, new: self._step_edit(
                "Move step", lambda p, w: parts.move_step(p, w, place, row, new)
            )
        )

    def _rename_current_wave(self, name: str) -> None:
        wave = self.wave_properties.wave_index()
        if wave >= 0:
            self.edit(
                f"Rename wave {self._wave_name(wave)!r}",
                lambda p: pe.rename_wave(p, wave, name),
                merge_key=("wave-name", wave),
            )
        self._update_wave_panel()  # a refused name goes back to the wave's

    def _set_current_dependencies(self, names: tuple[str, ...] | None) -> None:
        wave = self.wave_properties.wave_index()
        if wave >= 0:
            self.edit(
                f"Dependencies of {self._wave_name(wave)!r}", lambda p: pe.set_depends_on(p, wave, names)
            )
        self._update_wave_panel()

    def _step_edit(self, text: str, change: Callable[[RecoveryPlan, int], RecoveryPlan]) -> None:
        wave = self.wave_properties.wave_index()
        if wave >= 0:
            self.edit(f"{text} of {self._wave_name(wave)!r}", lambda p: change(p, wave))
        self._update_wave_panel()

    # --------------------------------------------------------------------------------- helpers

    def _wave_name(self, row: int) -> str:
        if self._plan is not None and 0 <= row < len(self._plan.waves):
            return self._plan.waves[row].name
        return f"wave {row + 1}"

    def _pick_wave(self, title: str, prompt: str, chosen: Callable[[int], object]) -> WavePickerDialog:
        waves = [wave.name for wave in self._plan.waves] if self._plan else []
        parent: Any = self
        dialog = WavePickerDialog(title, prompt, waves, self._current_wave(), parent)
        dialog.wave_chosen.connect(chosen)
        dialog.open()
        return dialog

    def _create_actions(self, owner: QWidget, undo: QAction, redo: QAction) -> dict[str, QAction]:
        """Every action, with its shortcut limited to the editor (other panes keep their keys)."""

        def action(key: str, text: str, shortcuts: Sequence[Any], slot: Callable[[], object]) -> QAction:
            made = QAction(text, owner)
            made.setObjectName(key)
            made.setShortcuts([QKeySequence(s) for s in shortcuts])
            made.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            made.triggered.connect(lambda _checked=False: slot())
            owner.addAction(made)
            return made

        for made in (undo, redo):
            made.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            owner.addAction(made)
        undo.setShortcuts(QKeySequence.StandardKey.Undo)
        redo.setShortcuts(QKeySequence.StandardKey.Redo)
        return {
            "undo": undo,
            "redo": redo,
            "new_wave": action("new_wave", "New wave", ["Ctrl+Shift+N"], self.add_wave),
            "delete": action("delete", "Delete", [QKeySequence.StandardKey.Delete], self.delete_selection),
            "move_up": action("move_up", "Move up", ["Ctrl+Shift+Up"], lambda: self.shift_selection(-1)),
            "move_down": action(
                "move_down", "Move down", ["Ctrl+Shift+Down"], lambda: self.shift_selection(1)
            ),
            "move_to_wave": action("move_to_wave", "Move to wave…", ["Ctrl+M"], self.open_move_dialog),
            "add_to_wave": action(
                "add_to_wave", "Add to wave…", ["Ctrl+Return", "Ctrl+Enter"], self.open_add_dialog
            ),
            "toggle_optional": action(
                "toggle_optional", "Critical/optional", ["Ctrl+T"], self.toggle_optional
            ),
            "add_approval": action(
                "add_approval",
                "Add approval",
                [],
                lambda: self.add_step("before", ApprovalStep(DEFAULT_APPROVAL)),
            ),
            "add_wait": action(
                "add_wait", "Add wait", [], lambda: self.add_step("after", WaitStep(DEFAULT_WAIT_MINUTES))
            ),
        }
