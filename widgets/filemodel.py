"""The file system as the data browser's tree lists it: Status and Rows columns added,
and file sizes read from disk when drawn.

`QFileSystemModel` learns from the folder's watcher when files come and go, not
when a file grows; a recording being written showed the size it had when first
listed. `FileFacts` is what a caller's scan found a file to be.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QLocale, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QFileSystemModel, QWidget

SIZE, STATUS, ROWS = 1, 4, 5
BASE_COLUMNS = 4  # QFileSystemModel's own (name, size, type, date); Status and Rows are ours
SORT = Qt.ItemDataRole.UserRole + 1  # a number to sort Size and Rows by


@dataclass(frozen=True)
class FileFacts:
    """What a scan found a file to be: its kind, and for recordings status and rows."""

    kind: str
    status: str = ""
    rows: int | None = None
    modified: float = 0.0


class DataFileModel(QFileSystemModel):
    """The file system, with Status and Rows columns and sizes read fresh from disk.

    The watched folder tells the model when files come and go, not when a file
    grows: a recording being written showed the size it had when first listed.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.facts: dict[str, FileFacts] = {}

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        base = super().columnCount(QModelIndex() if parent is None else parent)
        return base + 2 if base else 0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if section >= BASE_COLUMNS and role == Qt.ItemDataRole.DisplayRole:
            return ("Status", "Rows")[section - BASE_COLUMNS]
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        column = index.column()
        if column >= BASE_COLUMNS:
            facts = self.facts.get(self.filePath(index))
            if facts is None:
                return None
            if role == Qt.ItemDataRole.DisplayRole:
                if column == STATUS:
                    return facts.status
                return "" if facts.rows is None else f"{facts.rows:,}"
            if role == SORT:
                return facts.status if column == STATUS else (facts.rows or 0)
            if role == Qt.ItemDataRole.TextAlignmentRole and column == ROWS:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if column == SIZE and role in (Qt.ItemDataRole.DisplayRole, SORT):
            size = self._size_now(index)
            if size is not None:
                return size if role == SORT else QLocale().formattedDataSize(size)
        return super().data(index, role)

    def _size_now(self, index: QModelIndex | QPersistentModelIndex) -> int | None:
        if self.isDir(index):
            return None
        try:
            return os.stat(self.filePath(index)).st_size
        except OSError:
            return None

    def file_changed(self, path: str) -> None:
        """Repaint a file's row (its size, status and rows may have changed)."""
        index = self.index(path)
        if index.isValid():
            last = index.siblingAtColumn(self.columnCount(index.parent()) - 1)
            self.dataChanged.emit(index.siblingAtColumn(0), last)
