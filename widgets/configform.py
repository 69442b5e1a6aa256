"""The sampling-config form: every setting, with problems shown next to their field.

It edits a plain dict in the bspysmg layout (`set_config` / `config_dict`) and
emits `edited(dict)` on every change; the app validates that dict and hands
back `(dotted path, message)` pairs, which `show_problems` places next to the
field they name (list items like `input_data.phase[2]` land on the electrode
table's cell). Keys the form has no editor for are kept as loaded.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from widgets.configfields import SECTIONS, SETUP, Field, FieldText, form_fields
from widgets.electrodetable import ElectrodeRow, ElectrodeTable, parse_number


class ProblemPlace(Protocol):
    """Where a problem points, split by the schema (see backend.config.fields.FieldPlace)."""

    path: str  # as the problem names it
    field: str  # without list indices
    key: str  # the field's own key
    block: str | None  # the device block of a multiple-device wiring
    index: tuple[int, ...]  # list indices in order


#: Wiring lists edited in the electrode table (one row per electrode) -> their columns.
_WIRING_COLUMNS = {
    "activation_channels": ("channel",),
    "activation_voltage_ranges": ("min", "max"),
    "activation_channel_mask": (),
}
_WAVE_COLUMN = {
    "input_frequency": "frequency",
    "phase": "phase",
    "amplitude": "amplitude",
    "offset": "offset",
}


def _get(data: dict, path: str) -> Any:
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _set(data: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


def _list_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(f"{v:.10g}" if isinstance(v, float) else str(v) for v in value)
    return "" if value is None else str(value)


def _mask_note(setup: dict) -> str:
    """Why a single device's partial mask changes nothing (brains-py ignores it)."""
    mask = setup.get("activation_channel_mask") or []
    if setup.get("multiple_devices") or all(m == 1 for m in mask):
        return ""
    return (
        "activation_channel_mask is ignored for a single device (as in brains-py): every "
        "listed channel is an electrode. Masks apply only with multiple_devices."
    )


def _parse_list(text: str) -> list[Any]:
    return [parse_number(part) for part in re.split(r"[,\s]+", text.strip()) if part]


class ConfigForm(QWidget):
    """Edits a sampling config dict; `edited` carries the whole dict after each change."""

    edited = Signal(dict)
    folder_requested = Signal(str)  # the field path whose folder the user wants to pick

    def __init__(
        self, texts: Mapping[str, FieldText] | None = None, parent: QWidget | None = None
    ) -> None:
        """`texts`: field path -> label, tooltip and choices, from the schema (default: the key)."""
        super().__init__(parent)
        self.texts = dict(texts or {})
        self._base: dict = {}
        self._loading = False
        self._multi = False
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._rows: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.general = QLabel()
        self.general.setObjectName("config_problems")
        self.general.setWordWrap(True)
        self.general.hide()
        self.summary = QLabel()
        self.summary.setObjectName("config_summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.general)
        for title, fields in SECTIONS:
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for field in fields:
                form.addRow(self.label(field.path), self._make_row(field))
            if title == "Waves":
                form.addRow(self.summary)
            layout.addWidget(box)
            if title == "Waves":
                self.table = ElectrodeTable()
                self.table.edited.connect(self._changed)
                box = QGroupBox("Electrodes")
                QVBoxLayout(box).addWidget(self.table)
                layout.addWidget(box)
        layout.addStretch(1)
        self.set_error_colour("#c62828")

    # --- building -------------------------------------------------------------------
    def _make_row(self, field: Field) -> QWidget:
        if field.kind == "bool":
            editor: QWidget = QCheckBox()
            editor.toggled.connect(self._changed)
        elif field.kind == "choice":
            editor = QComboBox()
            editor.addItems(list(self.text(field.path).choices))
            editor.currentTextChanged.connect(self._changed)
        else:
            editor = QLineEdit()
            editor.textChanged.connect(self._changed)
        editor.setObjectName(field.path)
        editor.setToolTip(self.text(field.path).tip)
        self.editors[field.path] = editor
        error = QLabel()
        error.setObjectName(f"{field.path}:error")
        error.setWordWrap(True)
        error.hide()
        self.errors[field.path] = error
        row = QWidget()
        box = QVBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(1)
        if field.kind == "folder":
            line = QHBoxLayout()
            line.addWidget(editor, 1)
            browse = QToolButton(text="…", toolTip="Choose the folder")
            browse.setObjectName(f"{field.path}:browse")
            browse.clicked.connect(lambda: self.folder_requested.emit(field.path))
            line.addWidget(browse)
            box.addLayout(line)
        else:
            box.addWidget(editor)
        box.addWidget(error)
        self._rows[field.path] = row
        return row

    def text(self, path: str) -> FieldText:
        """What field `path` shows: its label, tooltip and choices."""
        known = self.texts.get(path)
        return known or FieldText(path.rsplit(".", 1)[-1].replace("_", " ").capitalize())

    def label(self, path: str) -> str:
        """The label field `path` shows."""
        return self.text(path).label

    # --- data in / out --------------------------------------------------------------
    def set_config(self, data: dict) -> None:
        """Show `data` (bspysmg layout, plain values); emits nothing."""
        self._loading = True
        try:
            self._base = copy.deepcopy(data)
            setup = _get(data, SETUP) or {}
            self._multi = bool(setup.get("multiple_devices"))
            for field in form_fields():
                self._put(field, _get(data, field.path))
                hidden = field.single_only and self._multi
                self._rows[field.path].setVisible(not hidden)
                label = self._label_of(field.path)
                if label is not None:
                    label.setVisible(not hidden)
            self.table.set_rows(
                self._electrode_rows(data), self._multi, self._custom(data), _mask_note(setup)
            )
        finally:
            self._loading = False
        self.show_problems([])

    def _put(self, field: Field, value: Any) -> None:
        editor = self.editors[field.path]
        if field.kind == "bool":
            editor.setChecked(bool(value))
        elif field.kind == "choice":
            editor.setCurrentText(str(value))
        elif field.kind in ("floats", "ints"):
            editor.setText(_list_text(value))
        else:
            editor.setText(_list_text(value))

    def set_value(self, path: str, value: Any) -> None:
        """Set one field as if the user typed it (emits `edited`)."""
        fields = {f.path: f for f in form_fields()}
        self._put(fields[path], value)

    def _custom(self, data: dict) -> bool:
        return _get(data, "input_data.amplitude") is not None

    def _blocks(self, data: dict) -> list[tuple[str, dict]]:
        setup = _get(data, SETUP) or {}
        if not setup.get("multiple_devices"):
            return [("device", setup)]
        return [(k, v) for k, v in setup.items() if isinstance(v, dict)]

    def _electrode_rows(self, data: dict) -> list[ElectrodeRow]:
        waves = {k: list(_get(data, f"input_data.{k}") or []) for k in _WAVE_COLUMN}
        rows, k = [], 0
        for name, block in self._blocks(data):
            channels = block.get("activation_channels") or []
            ranges = block.get("activation_voltage_ranges") or []
            # As brains-py: a mask applies only with multiple devices.
            mask = (self._multi and block.get("activation_channel_mask")) or [1] * len(channels)
            for i, channel in enumerate(channels):
                lo, hi = (*ranges[i], None, None)[:2] if i < len(ranges) else (None, None)
                active = i >= len(mask) or mask[i] == 1
                row = ElectrodeRow(name, channel, lo, hi, active, None, None)
                if active:
                    for key, column in _WAVE_COLUMN.items():
                        values = waves[key]
                        setattr(row, column, values[k] if k < len(values) else None)
                    k += 1
                rows.append(row)
        return rows

    def config_dict(self) -> dict:
        """The config as edited: the loaded dict with every editor's value applied."""
        data = copy.deepcopy(self._base)
        for field in form_fields():
            if field.single_only and self._multi:
                continue
            _set(data, field.path, self._read(field))
        rows = self.table.rows()
        active = [r for r in rows if r.active]
        for name, block in self._blocks(data):
            mine = [r for r in rows if r.block == name] if self._multi else rows
            block["activation_channels"] = [r.channel for r in mine]
            block["activation_voltage_ranges"] = [[r.vmin, r.vmax] for r in mine]
            masked = "activation_channel_mask" in block or not all(r.active for r in mine)
            if self._multi and masked:
                block["activation_channel_mask"] = [1 if r.active else 0 for r in mine]
        inputs = data.setdefault("input_data", {})
        inputs["input_frequency"] = [r.frequency for r in active]
        inputs["phase"] = [r.phase for r in active]
        for key in ("amplitude", "offset"):
            if self.table.custom:
                inputs[key] = [getattr(r, key) for r in active]
            else:
                inputs.pop(key, None)
        inputs["activation_electrode_no"] = len(active)
        readouts = sum(len(block.get("readout_channels") or []) for _, block in self._blocks(data))
        inputs["readout_electrode_no"] = readouts
        return data

    def _read(self, field: Field) -> Any:
        editor = self.editors[field.path]
        if field.kind == "bool":
            return editor.isChecked()
        if field.kind == "choice":
            return editor.currentText()
        text = editor.text()
        if field.kind in ("int", "float"):
            return parse_number(text)
        if field.kind in ("floats", "ints"):
            return _parse_list(text)
        return text

    def _changed(self, *_args: Any) -> None:
        if not self._loading:
            self.edited.emit(self.config_dict())

    # --- problems -------------------------------------------------------------------
    def set_error_colour(self, colour: str) -> None:
        for label in (*self.errors.values(), self.general):
            label.setStyleSheet(f"color: {colour};")
        self.table.set_error_colour(colour)

    def show_problems(self, problems: Sequence[tuple[ProblemPlace, str]]) -> None:
        """Place each (place, message) next to its field, cell or, failing that, on top.

        A place is the schema's split of the problem's path (`field_place`): field
        without indices, own key, device block and list indices; no path is parsed here.
        """
        by_field: dict[str, list[str]] = {}
        cells: list[tuple[int, tuple[str, ...], str]] = []
        table_general: list[str] = []
        general: list[str] = []
        active = self.table.active_rows()
        rows = self.table.rows()
        for place, message in problems:
            target = self._field_of(place)
            wiring = place.field.startswith(SETUP) and place.key in _WIRING_COLUMNS
            wave = place.field.startswith("input_data.") and place.key in _WAVE_COLUMN
            if target is not None:
                by_field.setdefault(target, []).append(message)
            elif wiring:
                block = place.block or "device"
                where = [i for i, r in enumerate(rows) if r.block == block or not self._multi]
                columns = _WIRING_COLUMNS[place.key]
                if place.index and place.index[0] < len(where) and columns:
                    if len(place.index) > 1 and len(columns) > 1:  # one end of a range
                        columns = (columns[place.index[1] % 2],)
                    cells.append((where[place.index[0]], columns, message))
                else:
                    table_general.append(message)
            elif wave and place.index and place.index[0] < len(active):
                cells.append((active[place.index[0]], (_WAVE_COLUMN[place.key],), message))
            elif wave or place.field == "input_data.activation_electrode_no":
                table_general.append(message)
            else:
                general.append(message)
        for path, label in self.errors.items():
            text = "\n".join(by_field.get(path, []))
            label.setText(text)
            label.setVisible(bool(text))
        self.table.set_problems(cells, table_general)
        self.general.setText("\n".join(general))
        self.general.setVisible(bool(general))

    def _field_of(self, place: ProblemPlace) -> str | None:
        """The field a problem belongs to: its path, or its field without list indices."""
        if place.path in self.editors:
            return place.path
        bare = place.field
        if bare in self.editors and not (self._multi and bare.startswith(SETUP)):
            return bare
        if bare == "input_data.readout_electrode_no" and not self._multi:
            return f"{SETUP}.readout_channels"
        return None

    def problem(self, path: str) -> str:
        """The message shown next to field `path` ('' when it is fine)."""
        label = self.errors[path]
        return label.text() if label.isVisible() else ""

    def general_problems(self) -> str:
        return self.general.text() if self.general.isVisible() else ""

    # --- state ----------------------------------------------------------------------
    def set_summary(self, text: str) -> None:
        self.summary.setText(text)

    def set_editable(self, editable: bool) -> None:
        for editor in self.editors.values():
            editor.setEnabled(editable)
        for path in self.editors:
            browse = self.findChild(QToolButton, f"{path}:browse")
            if browse is not None:
                browse.setEnabled(editable)
        self.table.set_editable(editable)

    def _label_of(self, path: str) -> QWidget | None:
        row = self._rows[path]
        form = row.parentWidget().layout() if row.parentWidget() else None
        return form.labelForField(row) if isinstance(form, QFormLayout) else None
