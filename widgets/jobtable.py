"""A table of independent jobs: one row each, a progress bar while it runs, then its status.

Plain text in (the page formats the cells): `set_rows` takes each row's cells,
its progress (None: not running) and whether it failed (drawn in the error
colour). Double-clicking a row emits `activated(row)`; Ctrl+C copies the
selected rows as tab-separated text, as the summary tables do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)


@dataclass(frozen=True)
class JobRow:
    cells: Sequence[str]  # the last cell is the status
    progress: float | None = None  # 0..1 while the job runs
    failed: bool = False
    tips: Sequence[str] | None = None  # each cell's tooltip (default: its text)


class JobTable(QTableWidget):
    """Rows of jobs; the status column shows a progress bar for a running job."""

    activated = Signal(int)

    def __init__(self, header: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(header), parent)
        self.setHorizontalHeaderLabels(list(header))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        head = self.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        head.setStretchLastSection(True)
        self.error_colour = "#c0392b"
        self.cellDoubleClicked.connect(lambda row, _col: self.activated.emit(row))
        copy = QShortcut(QKeySequence.StandardKey.Copy, self)
        copy.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy.activated.connect(self.copy_selection)

    def set_rows(self, rows: Sequence[JobRow]) -> None:
        """Show `rows` (same count as before: cells updated in place, selection kept)."""
        if self.rowCount() != len(rows):
            self.setRowCount(len(rows))
        last = self.columnCount() - 1
        widths_changed = False
        for i, row in enumerate(rows):
            tips = row.tips or row.cells
            for j, text in enumerate(row.cells):
                item = self.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(i, j, item)
                widths_changed |= j < last and item.text() != text
                item.setText(text)
                item.setToolTip(tips[j])
                item.setForeground(QBrush(QColor(self.error_colour)) if row.failed else QBrush())
            self._progress_cell(i, last, row)
        if widths_changed:  # every column but the status (it stretches) fits its texts
            for j in range(last):
                self.resizeColumnToContents(j)

    def _progress_cell(self, i: int, column: int, row: JobRow) -> None:
        bar = self.cellWidget(i, column)
        if row.progress is None:
            if bar is not None:
                self.removeCellWidget(i, column)
            return
        if not isinstance(bar, QProgressBar):
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            self.setCellWidget(i, column, bar)
        bar.setValue(round(1000 * row.progress))
        bar.setFormat(row.cells[column])

    def status(self, row: int) -> str:
        """The status cell's text of `row`."""
        return self.item(row, self.columnCount() - 1).text()

    def set_error_colour(self, colour: str) -> None:
        self.error_colour = colour

    def copy_selection(self) -> None:
        rows = sorted({index.row() for index in self.selectedIndexes()})
        lines = ["\t".join(self.item(r, c).text() for c in range(self.columnCount())) for r in rows]
        if lines:
            QGuiApplication.clipboard().setText("\n".join(lines))
