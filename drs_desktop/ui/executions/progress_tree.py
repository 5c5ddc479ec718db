"""The progress view's tree of waves and servers: one row per wave, its servers under it, a progress bar
per row in the Progress column.

A stock ``QTreeView``, set up here, never a Python subclass: the view paints from the C++ model and its
stock delegate, and a Python override would run on every repaint and take the GIL back from the loop
thread each time (``tests/ui/test_progress_model.py``). The bars are pictures the model paints
(``ProgressTreeModel.restyle_bars``), so they must be as wide as the column and drawn in the tree's font
and on its screen: ``fit_bars`` repaints them when the column is resized, and the progress view calls it
again when its style, palette, font or screen changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView

from drs_desktop.ui.executions.progress_model import COLUMNS, PROGRESS, ProgressTreeModel

__all__ = ["COLUMN_WIDTHS", "fit_bars", "progress_tree"]

#: Starting widths (pixels) of the columns; the operator may resize them. The first holds a step's
#: line too ("after launch: SSM document “web smoke test”").
COLUMN_WIDTHS = (330, 140, 110, 220, 150, 110, 70, 190, 150, 180)


def progress_tree(model: ProgressTreeModel) -> QTreeView:
    """The tree over ``model``: read-only, one row selected at a time, every wave open as it fills."""
    tree = QTreeView()
    tree.setObjectName("progress-tree")
    tree.setModel(model)
    tree.setUniformRowHeights(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    # Every wave shows open, as its first server rows arrive (a large run's come a slice at a time).
    model.wave_filled.connect(lambda wave: tree.expand(model.index(wave, 0)))
    # A server's label ends with its target ("web-01 · staging-07"): elide the middle, not the end.
    tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    header = tree.header()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for column, width in enumerate(COLUMN_WIDTHS[: len(COLUMNS)]):
        header.resizeSection(column, width)
    header.sectionResized.connect(
        lambda column, _old, _new: fit_bars(tree, model) if column == PROGRESS else None
    )
    fit_bars(tree, model)
    return tree


def fit_bars(tree: QTreeView, model: ProgressTreeModel, *, repaint: bool = False) -> None:
    """The progress column's bars as wide as the column (less the view's margin), in the tree's font and
    on its screen."""
    model.restyle_bars(
        width=tree.header().sectionSize(PROGRESS) - 10,
        height=tree.fontMetrics().height(),
        ratio=tree.devicePixelRatioF(),
        repaint=repaint,
    )
