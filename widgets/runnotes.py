"""Run notes: the sample or device, who runs the session, and free text, typed before Start.

Plain strings in and out; the app stores them in the recording.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLineEdit, QPlainTextEdit, QWidget


class RunNotesForm(QWidget):
    """Sample / device ID, operator and notes; `changed` fires on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sample_id = QLineEdit()
        self.sample_id.setObjectName("note_sample_id")
        self.sample_id.setPlaceholderText("e.g. D-17, chip 4")
        self.sample_id.setToolTip("Which sample or device is measured; stored in the recording")
        self.operator = QLineEdit()
        self.operator.setObjectName("note_operator")
        self.operator.setToolTip("Who runs the session; stored in the recording")
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("note_text")
        self.notes.setPlaceholderText("Conditions, what changed since the last run…")
        self.notes.setToolTip("Free text stored in the recording")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(self.notes.fontMetrics().lineSpacing() * 4 + 12)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Sample / device", self.sample_id)
        form.addRow("Operator", self.operator)
        form.addRow("Notes", self.notes)
        for edit in (self.sample_id, self.operator):
            edit.textChanged.connect(self.changed)
        self.notes.textChanged.connect(self.changed)

    def values(self) -> dict[str, str]:
        return {
            "sample_id": self.sample_id.text(),
            "operator": self.operator.text(),
            "notes": self.notes.toPlainText(),
        }

    def set_values(self, sample_id: str = "", operator: str = "", notes: str = "") -> None:
        self.sample_id.setText(sample_id)
        self.operator.setText(operator)
        self.notes.setPlainText(notes)

    def set_editable(self, editable: bool) -> None:
        """Notes are stored when the session starts: locked while it runs."""
        for edit in (self.sample_id, self.operator):
            edit.setReadOnly(not editable)
        self.notes.setReadOnly(not editable)
