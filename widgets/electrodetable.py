"""The electrode table: one row per activation channel of the wiring.

Columns follow the wiring (block, DAQ channel, voltage range, on/off) and the
wave of each active electrode (frequency, phase, and amplitude/offset when
the config gives them explicitly; otherwise they are shown, greyed, as the
range they follow). Cells hold what the user typed; text that is not a number
is passed on as text so that validation can say what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("block", "channel", "min", "max", "active", "frequency", "phase", "amplitude", "offset")
HEADERS = ("Device", "Ch", "Min (V)", "Max (V)", "On", "Freq", "Phase", "Amp (V)", "Offset (V)")
_ORIGINAL = Qt.ItemDataRole.UserRole  # the exact value behind a cell's rounded text
WAVE_COLUMNS = ("frequency", "phase", "amplitude", "offset")
TIPS = {
    "channel": "DAQ analog output channel (aoN) of the activation instrument",
    "min": "lowest voltage this electrode may see",
    "max": "highest voltage this electrode may see",
    "active": "unticked channels are masked off (activation_channel_mask); masks apply only "
    "with multiple devices, as in brains-py, and masked channels still go to 0 V on stop",
    "frequency": "input_frequency: the wave runs at sqrt(value) x factor Hz",
    "phase": "phase of this electrode's wave (rad)",
    "amplitude": "explicit amplitude (tick 'explicit amplitude/offset' to edit)",
    "offset": "explicit offset (tick 'explicit amplitude/offset' to edit)",
}


@dataclass
class ElectrodeRow:
    """One wiring channel; wave fields apply only when `active`."""

    block: str = "device"
    channel: Any = 0
    vmin: Any = -1.2
    vmax: Any = 0.6
    active: bool = True
    frequency: Any = 2
    phase: Any = 0.0
    amplitude: Any = None
    offset: Any = None


def parse_number(text: str) -> Any:
    """int or float for numeric text; the text itself otherwise (validation names it)."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _value(item: QTableWidgetItem) -> Any:
    """The cell's number: the exact loaded value while its rounded text is untouched."""
    original = item.data(_ORIGINAL)
    if original is not None and item.text() == _text(original):
        return original
    return parse_number(item.text())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


class ElectrodeTable(QWidget):
    """Edits the electrodes; emits `edited` on every change the user makes."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("electrode_table")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        for col, key in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(col).setToolTip(TIPS.get(key, ""))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.custom_waves = QCheckBox("explicit amplitude/offset")
        self.custom_waves.setToolTip(
            "Unticked: each wave spans its electrode's voltage range (the usual case)."
        )
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add an activation electrode")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected electrode")
        self.error_label = QLabel()
        self.error_label.setObjectName("electrode_errors")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.note = QLabel()
        self.note.setObjectName("electrode_note")
        self.note.setWordWrap(True)
        self.note.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.custom_waves)
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.error_label)
        layout.addWidget(self.note)
        self._multi = False
        self._error_colour = "#c62828"
        self.table.itemChanged.connect(self._on_item_changed)
        self.custom_waves.toggled.connect(self._on_custom_toggled)
        self.add_button.clicked.connect(self._add_row)
        self.remove_button.clicked.connect(self._remove_row)

    # --- data in / out --------------------------------------------------------------
    def set_rows(
        self, rows: Sequence[ElectrodeRow], multi: bool, custom_waves: bool, note: str = ""
    ) -> None:
        """Show `rows`; the on/off (mask) column only for multiple devices, where it applies."""
        self._multi = multi
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.table.blockSignals(True)
        self.custom_waves.blockSignals(True)
        self.custom_waves.setChecked(custom_waves)
        self.table.setRowCount(0)
        for row in rows:
            self._append(row)
        self.table.setColumnHidden(COLUMNS.index("block"), not multi)
        self.table.setColumnHidden(COLUMNS.index("active"), not multi)
        tip = "Edit device blocks in the config file" if multi else ""
        for button in (self.add_button, self.remove_button):
            button.setEnabled(not multi)
            button.setToolTip(tip or button.toolTip())
        self._refresh_derived()
        self.custom_waves.blockSignals(False)
        self.table.blockSignals(False)
        self._fit_height()

    def rows(self) -> list[ElectrodeRow]:
        out = []
        for r in range(self.table.rowCount()):
            cell = {key: self._cell(r, key) for key in COLUMNS}
            active = cell["active"].checkState() == Qt.CheckState.Checked
            values = {k: _value(cell[k]) for k in COLUMNS if k != "active"}
            values["block"] = cell["block"].text()
            custom = self.custom_waves.isChecked()
            out.append(
                ElectrodeRow(
                    block=values["block"],
                    channel=values["channel"],
                    vmin=values["min"],
                    vmax=values["max"],
                    active=active,
                    frequency=values["frequency"] if active else None,
                    phase=values["phase"] if active else None,
                    amplitude=values["amplitude"] if active and custom else None,
                    offset=values["offset"] if active and custom else None,
                )
            )
        return out

    @property
    def custom(self) -> bool:
        return self.custom_waves.isChecked()

    def active_rows(self) -> list[int]:
        """Table rows of the active electrodes, in electrode order."""
        return [i for i, row in enumerate(self.rows()) if row.active]

    def cell(self, row: int, key: str) -> QTableWidgetItem:
        return self._cell(row, key)

    def set_editable(self, editable: bool) -> None:
        self.table.setEnabled(editable)
        self.custom_waves.setEnabled(editable)
        for button in (self.add_button, self.remove_button):
            button.setEnabled(editable and not self._multi)

    # --- problems -------------------------------------------------------------------
    def set_error_colour(self, colour: str) -> None:
        self._error_colour = colour
        self.error_label.setStyleSheet(f"color: {colour};")

    def set_problems(
        self, cells: Sequence[tuple[int, tuple[str, ...], str]], general: Sequence[str]
    ) -> None:
        """Mark bad cells (tooltip = why) and list every message under the table.

        `cells` holds (row, column keys, message); `general` messages name no cell.
        """
        marked: dict[tuple[int, str], str] = {}
        for row, keys, message in cells:
            for key in keys:
                marked[(row, key)] = message
        self.table.blockSignals(True)
        tint = QColor(self._error_colour)
        tint.setAlpha(70)
        for r in range(self.table.rowCount()):
            for key in COLUMNS:
                item = self._cell(r, key)
                message = marked.get((r, key))
                item.setBackground(QBrush(tint) if message else QBrush())
                item.setToolTip(message or TIPS.get(key, ""))
        self.table.blockSignals(False)
        # Messages name their field and electrode ("Phase of Input 4 must be a number").
        lines = list(general) + [message for _, _, message in cells]
        self.error_label.setText("\n".join(lines))
        self.error_label.setVisible(bool(lines))

    def problem_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() else ""

    # --- internals ------------------------------------------------------------------
    def _cell(self, row: int, key: str) -> QTableWidgetItem:
        return self.table.item(row, COLUMNS.index(key))

    def _append(self, row: ElectrodeRow) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        values = {
            "block": row.block,
            "channel": row.channel,
            "min": row.vmin,
            "max": row.vmax,
            "frequency": row.frequency,
            "phase": row.phase,
            "amplitude": row.amplitude,
            "offset": row.offset,
        }
        for col, key in enumerate(COLUMNS):
            item = QTableWidgetItem()
            if key == "active":
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if row.active else Qt.CheckState.Unchecked)
            else:
                item.setText(_text(values[key]))
                if isinstance(values[key], float):
                    item.setData(_ORIGINAL, values[key])
            if key == "block":
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip(TIPS.get(key, ""))
            self.table.setItem(r, col, item)

    def _refresh_derived(self) -> None:
        """Row names, which wave cells are editable, and ranges shown as amplitude/offset."""
        custom = self.custom_waves.isChecked()
        disabled = self.palette().color(
            self.palette().ColorGroup.Disabled, self.palette().ColorRole.Text
        )
        k = 0
        for r in range(self.table.rowCount()):
            active = self._cell(r, "active").checkState() == Qt.CheckState.Checked
            self.table.setVerticalHeaderItem(r, QTableWidgetItem(f"Input {k}" if active else "off"))
            k += active
            for key in WAVE_COLUMNS:
                item = self._cell(r, key)
                editable = active and (custom or key in ("frequency", "phase"))
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                item.setFlags(flags | Qt.ItemFlag.ItemIsEditable if editable else flags)
                item.setForeground(QBrush() if editable else QBrush(disabled))
                if not active and key != "frequency" and key != "phase":
                    item.setText("")
            if active and not custom:
                lo = parse_number(self._cell(r, "min").text())
                hi = parse_number(self._cell(r, "max").text())
                numeric = all(isinstance(v, (int, float)) for v in (lo, hi))
                self._cell(r, "amplitude").setText(_text((hi - lo) / 2) if numeric else "")
                self._cell(r, "offset").setText(_text((hi + lo) / 2) if numeric else "")

    def changeEvent(self, event: QEvent) -> None:
        """Re-grey the derived cells when the palette (theme) changes."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.table.blockSignals(True)
            self._refresh_derived()
            self.table.blockSignals(False)

    def _on_item_changed(self, _item: QTableWidgetItem) -> None:
        self.table.blockSignals(True)
        self._refresh_derived()
        self.table.blockSignals(False)
        self.edited.emit()

    def _on_custom_toggled(self, _checked: bool) -> None:
        self._on_item_changed(None)

    def _add_row(self) -> None:
        rows = self.rows()
        used = {r.channel for r in rows}
        channel = next(c for c in range(len(rows) + 1) if c not in used)
        template = rows[-1] if rows else ElectrodeRow()
        new = replace(template, channel=channel, active=True, frequency=template.frequency or 2)
        new.phase = 0.0
        self.table.blockSignals(True)
        self._append(new)
        self._refresh_derived()
        self.table.blockSignals(False)
        self._fit_height()
        self.edited.emit()

    def _remove_row(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}) or [
            self.table.rowCount() - 1
        ]
        if self.table.rowCount() <= 1:
            return
        for r in reversed(rows):
            self.table.removeRow(r)
        self._on_item_changed(None)
        self._fit_height()

    def _fit_height(self) -> None:
        """Show every row without an inner scroll bar (the form scrolls instead)."""
        header = self.table.horizontalHeader().sizeHint().height()
        rows = self.table.verticalHeader().length()
        scroll = self.table.horizontalScrollBar().sizeHint().height()
        self.table.setFixedHeight(header + rows + 2 * self.table.frameWidth() + scroll)
