"""How to run a session: which device, real-time pacing, and an optional seed.

Devices arrive as plain `DeviceChoice` entries; an unusable one (NI driver
missing, say) stays visible, greyed out, saying why in its label and tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QWidget


@dataclass(frozen=True)
class DeviceChoice:
    key: str  # what the app passes on: 'simulated', 'nidaq', 'nidaq:cDAQ1'...
    label: str
    enabled: bool = True
    tip: str = ""
    kind: str = "simulated"  # 'simulated' or 'nidaq'


class DeviceChoiceModel(QAbstractListModel):
    """The combo box's rows, straight from the `DeviceChoice` list.

    A plain list model instead of QComboBox's QStandardItemModel: greying out an
    item there needs QStandardItem wrappers, which shiboken keeps alive after
    `clear()` deletes their items, so a later Qt object at the same address came
    back from Qt as a stale "QStandardItem" (a crash under load).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._choices: list[DeviceChoice] = []

    def set_choices(self, choices: Sequence[DeviceChoice]) -> None:
        self.beginResetModel()
        self._choices = list(choices)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's API
        return 0 if parent.isValid() else len(self._choices)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._choices):
            return None
        choice = self._choices[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return choice.label
        if role == Qt.ItemDataRole.UserRole:
            return choice.key
        if role == Qt.ItemDataRole.ToolTipRole:
            return choice.tip or None
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid() or not 0 <= index.row() < len(self._choices):
            return Qt.ItemFlag.NoItemFlags
        if self._choices[index.row()].enabled:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.NoItemFlags


class RunOptions(QWidget):
    """Device chooser, pacing and seed; `changed` fires on any user edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = QComboBox()
        self.device_model = DeviceChoiceModel(self.device)
        self.device.setModel(self.device_model)
        self.device.setObjectName("device_choice")
        self.device.setToolTip("The device the session drives")
        self.device_note = QLabel()
        self.device_note.setObjectName("device_note")
        self.device_note.setWordWrap(True)
        self.realtime = QCheckBox("pace batches in real time")
        self.realtime.setObjectName("realtime")
        self.realtime.setToolTip(
            "Simulated device only: take as long as the hardware would (off: as fast as possible)"
        )
        self.seed = QLineEdit()
        self.seed.setObjectName("seed")
        self.seed.setPlaceholderText("random")
        self.seed.setValidator(QIntValidator(0, 2**31 - 1, self.seed))
        self.seed.setToolTip("Seed for phases and simulated noise; empty = a fresh one per session")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Device", self.device)
        form.addRow("", self.device_note)
        form.addRow("Pacing", self.realtime)
        form.addRow("Seed", self.seed)
        self._choices: list[DeviceChoice] = []
        self._editable = True
        self.device.currentIndexChanged.connect(self._on_device)
        self.realtime.toggled.connect(self.changed)
        self.seed.textChanged.connect(self.changed)

    def set_devices(self, choices: Sequence[DeviceChoice], note: str = "") -> None:
        """Offer `choices`, keeping the current one if it is still usable."""
        current = self.device_key()
        self._choices = list(choices)
        self.device.blockSignals(True)
        self.device_model.set_choices(self._choices)
        self.device.blockSignals(False)
        self.device_note.setText(note)
        self.device_note.setVisible(bool(note))
        if not self.select_device(current or ""):
            self.select_device(next((c.key for c in self._choices if c.enabled), ""))
        self._on_device()

    def choices(self) -> list[DeviceChoice]:
        return list(self._choices)

    def select_device(self, key: str) -> bool:
        """Choose device `key` if offered and usable; False otherwise."""
        for i, choice in enumerate(self._choices):
            if choice.key == key and choice.enabled:
                self.device.setCurrentIndex(i)
                return True
        return False

    def device_key(self) -> str | None:
        return self.device.currentData()

    def device_choice(self) -> DeviceChoice | None:
        i = self.device.currentIndex()
        return self._choices[i] if 0 <= i < len(self._choices) else None

    def seed_value(self) -> int | None:
        text = self.seed.text().strip()
        return int(text) if text else None

    def realtime_value(self) -> bool:
        return self.realtime.isChecked() and self.realtime.isEnabled()

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        self.device.setEnabled(editable)
        self.seed.setEnabled(editable)
        self._enable_realtime()

    def _enable_realtime(self) -> None:
        """Pacing is the simulated device's, and never changes while a session runs (a new
        device list arriving mid-session enabled it again)."""
        choice = self.device_choice()
        simulated = choice is not None and choice.kind == "simulated"
        self.realtime.setEnabled(self._editable and simulated)

    def _on_device(self, *_args: object) -> None:
        choice = self.device_choice()
        self._enable_realtime()
        if choice is not None:
            self.device.setToolTip(choice.tip or "The device the session drives")
        self.changed.emit()
