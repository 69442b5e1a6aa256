"""A list of data sources (files or folders) with Add files… / Add folder… / Remove.

The widget never opens dialogs or files itself: it emits what the user asked
for (`add_files_requested`, `add_folder_requested`, `remove_requested`,
`suggestion_chosen`) and shows the entries, notes and suggestions (e.g.
recordings made in this session, offered above the list) it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class SourceEntry:
    """One row of the list: the path it stands for, what it shows, its tooltip."""

    path: str
    text: str
    tip: str = ""


class SourceList(QWidget):
    """Sources in order (the first one names the default output folder)."""

    add_files_requested = Signal()
    add_folder_requested = Signal()
    remove_requested = Signal(list)  # paths selected for removal
    suggestion_chosen = Signal(str)  # a suggested path the user added

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.suggestions = QComboBox()
        self.suggestions.setObjectName("source_suggestions")
        self.suggestions.setToolTip("Recordings made in this session")
        self.add_suggestion = QPushButton("Add")
        self.add_suggestion.setObjectName("button_add_suggestion")
        self.add_suggestion.clicked.connect(self._on_add_suggestion)
        self.suggestion_row = QWidget()
        row = QHBoxLayout(self.suggestion_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("This session:"))
        row.addWidget(self.suggestions, 1)
        row.addWidget(self.add_suggestion)
        self.suggestion_row.hide()
        self.list = QListWidget()
        self.list.setObjectName("source_list")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setMinimumHeight(48)
        self.list.setMaximumHeight(76)
        self.list.setWordWrap(True)  # long file names wrap instead of hiding the facts
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.add_files = QPushButton("Add files…")
        self.add_files.setObjectName("button_add_files")
        self.add_folder = QPushButton("Add folder…")
        self.add_folder.setObjectName("button_add_folder")
        self.remove = QPushButton("Remove")
        self.remove.setObjectName("button_remove_source")
        self.add_files.clicked.connect(self.add_files_requested)
        self.add_folder.clicked.connect(self.add_folder_requested)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self.selected_paths()))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_files, self.add_folder, self.remove):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.note = QLabel("")
        self.note.setObjectName("source_note")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.suggestion_row)
        column.addWidget(self.list)
        column.addLayout(buttons)
        column.addWidget(self.note)
        self._editable = True
        self._update_buttons()

    # --- entries ----------------------------------------------------------------------
    def set_entries(self, entries: Sequence[SourceEntry]) -> None:
        self.list.clear()
        for entry in entries:
            item = QListWidgetItem(entry.text)
            item.setData(Qt.ItemDataRole.UserRole, entry.path)
            item.setToolTip(entry.tip or entry.path)
            self.list.addItem(item)
        self._update_buttons()

    def paths(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def selected_paths(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def select(self, path: str) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) == path)

    # --- suggestions and notes ----------------------------------------------------------
    def set_suggestions(self, suggestions: Sequence[SourceEntry]) -> None:
        """Offer these above the list (hidden when there are none)."""
        self.suggestions.clear()
        for entry in suggestions:
            self.suggestions.addItem(entry.text, entry.path)
            self.suggestions.setItemData(
                self.suggestions.count() - 1, entry.tip or entry.path, Qt.ItemDataRole.ToolTipRole
            )
        self.suggestion_row.setVisible(bool(suggestions))

    def suggestion_paths(self) -> list[str]:
        return [self.suggestions.itemData(i) for i in range(self.suggestions.count())]

    def set_note(self, text: str, colour: str = "") -> None:
        """A line under the list (e.g. why a merge is refused), coloured if asked."""
        self.note.setText(text)
        self.note.setStyleSheet(f"color: {colour};" if colour else "")
        self.note.setVisible(bool(text))

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        self._update_buttons()

    def _on_add_suggestion(self) -> None:
        path = self.suggestions.currentData()
        if path:
            self.suggestion_chosen.emit(path)

    def _update_buttons(self) -> None:
        editable = self._editable
        for widget in (self.add_files, self.add_folder, self.suggestions, self.add_suggestion):
            widget.setEnabled(editable)
        self.remove.setEnabled(editable and bool(self.list.selectedItems()))
