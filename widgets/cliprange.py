"""The clipping choice: the default range, no clipping, or custom LO / HI limits (nA).

Rows whose mean output is not strictly inside the range are dropped. The
widget shows the default range it was told, validates the custom limits
(LO < HI, message under them) and shows the estimate the page computes
("would drop 3.2 % ..."). It emits `changed` on every edit.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QRadioButton,
    QWidget,
)

LIMIT = 1e9  # nA; far beyond any amplifier


def _spin(name: str, value: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setRange(-LIMIT, LIMIT)
    spin.setDecimals(3)
    spin.setSuffix(" nA")
    spin.setValue(value)
    spin.setKeyboardTracking(True)  # the estimate follows every keystroke
    spin.setToolTip(tip)
    spin.setMinimumWidth(105)
    return spin


class ClipRange(QWidget):
    """Default / none / custom clipping, the custom limits and the drop estimate."""

    changed = Signal()

    MODES = ("default", "none", "custom")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[str, QRadioButton] = {}
        self.group = QButtonGroup(self)
        texts = {
            "default": "Default (±4 V × amplification)",
            "none": "None (keep every row)",
            "custom": "Custom",
        }
        for mode in self.MODES:
            button = QRadioButton(texts[mode])
            button.setObjectName(f"clip_{mode}")
            self.group.addButton(button)
            self.buttons[mode] = button
        self.buttons["default"].setChecked(True)
        self.default_label = QLabel("")
        self.default_label.setObjectName("clip_default_range")
        self.lo = _spin("clip_lo", -150.0, "Drop rows whose mean output is at or below this")
        self.hi = _spin("clip_hi", 150.0, "Drop rows whose mean output is at or above this")
        self.problem = QLabel("")
        self.problem.setObjectName("clip_problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.estimate = QLabel("")
        self.estimate.setObjectName("clip_estimate")
        self.estimate.setWordWrap(True)
        font = self.estimate.font()
        font.setBold(True)
        self.estimate.setFont(font)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.buttons["default"], 0, 0, 1, 3)
        grid.addWidget(self.default_label, 0, 3, 1, 3)
        grid.addWidget(self.buttons["none"], 1, 0, 1, 6)
        grid.addWidget(self.buttons["custom"], 2, 0)
        grid.addWidget(QLabel("LO"), 2, 1)
        grid.addWidget(self.lo, 2, 2, 1, 2)
        grid.addWidget(QLabel("HI"), 2, 4)
        grid.addWidget(self.hi, 2, 5)
        grid.addWidget(self.problem, 3, 0, 1, 6)
        grid.addWidget(self.estimate, 4, 0, 1, 6)
        grid.setColumnStretch(6, 1)
        self.group.buttonToggled.connect(self._on_toggled)
        self.lo.valueChanged.connect(self._on_value)
        self.hi.valueChanged.connect(self._on_value)
        self._error_colour = "#c62828"
        self._update()

    # --- what the user chose ----------------------------------------------------------
    def mode(self) -> str:
        return next(m for m, b in self.buttons.items() if b.isChecked())

    def set_mode(self, mode: str) -> None:
        self.buttons[mode].setChecked(True)

    def custom_limits(self) -> tuple[float, float]:
        return self.lo.value(), self.hi.value()

    def set_custom_limits(self, lo: float, hi: float, switch: bool = True) -> None:
        """Show limits chosen elsewhere (dragged on the plot); `switch` selects custom."""
        for spin, value in ((self.lo, lo), (self.hi, hi)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        if switch and self.mode() != "custom":
            self.set_mode("custom")  # emits changed
        else:
            self._update()
            self.changed.emit()

    def is_valid(self) -> bool:
        return self.problem_text() == ""

    def problem_text(self) -> str:
        if self.mode() == "custom":
            lo, hi = self.custom_limits()
            if not lo < hi:
                return "LO must be below HI: this range keeps no rows."
        return ""

    # --- what the page tells it --------------------------------------------------------
    def set_default_text(self, text: str) -> None:
        self.default_label.setText(text)

    def set_estimate(self, text: str) -> None:
        self.estimate.setText(text)

    def set_error_colour(self, colour: str) -> None:
        self._error_colour = colour
        self._update()

    def set_editable(self, editable: bool) -> None:
        for button in self.buttons.values():
            button.setEnabled(editable)
        self._update(editable)

    # --- internals --------------------------------------------------------------------
    def _on_toggled(self, _button: QRadioButton, checked: bool) -> None:
        if checked:
            self._update()
            self.changed.emit()

    def _on_value(self, _value: float) -> None:
        self._update()
        self.changed.emit()

    def _update(self, editable: bool | None = None) -> None:
        editable = self.buttons["custom"].isEnabled() if editable is None else editable
        custom = self.mode() == "custom"
        self.lo.setEnabled(custom and editable)
        self.hi.setEnabled(custom and editable)
        text = self.problem_text()
        self.problem.setText(text)
        self.problem.setStyleSheet(f"color: {self._error_colour};")
        self.problem.setVisible(bool(text))
