"""A readable summary: labelled facts on top, a per-channel table below.

Plain text in (the page formats the numbers), selectable and copyable out:
Ctrl+C on a selection copies it as tab-separated text for a lab notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def _table(name: str) -> QTableWidget:
    table = QTableWidget()
    table.setObjectName(name)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(20)
    table.setWordWrap(False)
    shortcut = QShortcut(QKeySequence.StandardKey.Copy, table)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # this table only
    shortcut.activated.connect(lambda: _copy(table))
    return table


def _copy(table: QTableWidget) -> None:
    ranges = table.selectedRanges()
    if not ranges:
        return
    r = ranges[0]
    lines = []
    for row in range(r.topRow(), r.bottomRow() + 1):
        cells = []
        for col in range(r.leftColumn(), r.rightColumn() + 1):
            item = table.item(row, col)
            cells.append(item.text() if item else "")
        lines.append("\t".join(cells))
    QGuiApplication.clipboard().setText("\n".join(lines))


class SummaryTable(QWidget):
    """Facts (label -> value) and a channel table (header + rows of text)."""

    def __init__(self, side_by_side: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.facts = _table("summary_facts")
        self.facts.setColumnCount(2)
        self.facts.setHorizontalHeaderLabels(["", "Value"])
        self.facts.horizontalHeader().setVisible(False)
        header = self.facts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.facts.setWordWrap(True)
        self.channels = _table("summary_channels")
        self.channels.horizontalHeader().setStretchLastSection(True)
        self.empty = QLabel("")
        self.empty.setObjectName("summary_empty")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.empty)
        tables = QHBoxLayout() if side_by_side else QVBoxLayout()
        tables.addWidget(self.facts, 1)
        tables.addWidget(self.channels, 1)
        column.addLayout(tables, 1)
        self.clear("")

    def set_summary(
        self,
        facts: Sequence[tuple[str, str]],
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
    ) -> None:
        self.empty.hide()
        self.facts.setRowCount(len(facts))
        for i, (label, value) in enumerate(facts):
            self.facts.setItem(i, 0, QTableWidgetItem(label))
            item = QTableWidgetItem(value)
            item.setToolTip(value)
            self.facts.setItem(i, 1, item)
        self.facts.resizeRowsToContents()  # long values (file lists) wrap
        self.channels.clear()
        self.channels.setColumnCount(len(header))
        self.channels.setHorizontalHeaderLabels(list(header))
        self.channels.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                self.channels.setItem(i, j, QTableWidgetItem(text))
        self.channels.resizeColumnsToContents()
        self.facts.show()
        self.channels.show()

    def clear(self, message: str = "") -> None:
        """No summary yet; `message` says why (e.g. 'Run to see the summary')."""
        self.facts.setRowCount(0)
        self.channels.setRowCount(0)
        self.facts.hide()
        self.channels.hide()
        self.empty.setText(message)
        self.empty.setVisible(bool(message))

    def fact(self, label: str) -> str:
        """The value shown for `label` ('' if absent)."""
        for i in range(self.facts.rowCount()):
            if self.facts.item(i, 0).text() == label:
                return self.facts.item(i, 1).text()
        return ""

    def fact_labels(self) -> list[str]:
        return [self.facts.item(i, 0).text() for i in range(self.facts.rowCount())]

    def channel_rows(self) -> list[list[str]]:
        return [
            [self.channels.item(r, c).text() for c in range(self.channels.columnCount())]
            for r in range(self.channels.rowCount())
        ]

    def channel_header(self) -> list[str]:
        return [
            self.channels.horizontalHeaderItem(c).text() for c in range(self.channels.columnCount())
        ]
