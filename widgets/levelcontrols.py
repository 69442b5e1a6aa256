"""One slider and one spin box per electrode, each limited to that electrode's range.

The slider moves in millivolts, the spin box in volts (3 decimals); they follow
each other. `level_changed(index, volts)` fires on every change the user makes
(a drag, a click on the track, typing in the box); `set_levels` shows levels
without emitting. Nothing outside [min, max] can be set from here.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSlider,
    QWidget,
)

_MV = 1000.0


class LevelControls(QWidget):
    """Rows of (name, slider, spin box, reached level) for every electrode."""

    level_changed = Signal(int, float)
    zero_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        self.grid.setColumnStretch(1, 1)
        self.sliders: list[QSlider] = []
        self.spins: list[QDoubleSpinBox] = []
        self.reached: list[QLabel] = []
        self.ranges: list[tuple[float, float]] = []
        self.names: list[str] = []
        self.zero_button = QPushButton("All to 0 V")
        self.zero_button.setObjectName("levels_to_zero")
        self.zero_button.setToolTip("Set every electrode's level to 0 V (moves at the slew rate)")
        self.zero_button.clicked.connect(self._all_to_zero)

    def set_electrodes(self, names: Sequence[str], ranges: Sequence[tuple[float, float]]) -> None:
        """One row per electrode, each limited to its [min, max] V; all at 0 V.

        The same electrodes again keep their rows and levels.
        """
        wanted = [(float(lo), float(hi)) for lo, hi in ranges]
        if wanted == self.ranges and list(names) == self.names:
            return
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None and widget is not self.zero_button:
                widget.hide()  # gone from view now, deleted when the event loop runs
                widget.deleteLater()
        self.sliders, self.spins, self.reached = [], [], []
        self.ranges, self.names = wanted, list(names)
        for row, (name, (lo, hi)) in enumerate(zip(names, self.ranges)):
            label = QLabel(name)
            label.setToolTip(f"{name}: {lo:g} .. {hi:g} V")
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"level_slider_{row}")
            slider.setRange(round(lo * _MV), round(hi * _MV))
            slider.setSingleStep(10)
            slider.setPageStep(100)
            slider.setValue(0)
            slider.setMinimumWidth(160)
            spin = QDoubleSpinBox()
            spin.setObjectName(f"level_spin_{row}")
            spin.setDecimals(3)
            spin.setRange(lo, hi)
            spin.setSingleStep(0.01)
            spin.setSuffix(" V")
            spin.setKeyboardTracking(False)  # typed text counts on Enter / focus out
            spin.setValue(0.0)
            reached = QLabel("0.000 V")
            reached.setObjectName(f"level_reached_{row}")
            reached.setToolTip("The level reached at the end of the last frame")
            reached.setMinimumWidth(70)
            slider.valueChanged.connect(lambda v, i=row: self._from_slider(i, v))
            spin.valueChanged.connect(lambda v, i=row: self._from_spin(i, v))
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(slider, row, 1)
            self.grid.addWidget(spin, row, 2)
            self.grid.addWidget(reached, row, 3)
            self.sliders.append(slider)
            self.spins.append(spin)
            self.reached.append(reached)
        self.grid.addWidget(self.zero_button, len(self.ranges), 2, 1, 2)
        for row in range(self.grid.rowCount()):
            self.grid.setRowStretch(row, 0)
        self.grid.setRowStretch(len(self.ranges) + 1, 1)  # rows stay together at the top

    # --- user edits --------------------------------------------------------------------
    def _from_slider(self, row: int, millivolts: int) -> None:
        volts = millivolts / _MV
        spin = self.spins[row]
        if abs(spin.value() - volts) > 5e-4:
            spin.blockSignals(True)
            spin.setValue(volts)
            spin.blockSignals(False)
        self.level_changed.emit(row, self._clamped(row, volts))

    def _from_spin(self, row: int, volts: float) -> None:
        slider = self.sliders[row]
        slider.blockSignals(True)
        slider.setValue(round(volts * _MV))
        slider.blockSignals(False)
        self.level_changed.emit(row, self._clamped(row, volts))

    def _clamped(self, row: int, volts: float) -> float:
        lo, hi = self.ranges[row]
        return min(max(float(volts), lo), hi)

    def _all_to_zero(self) -> None:
        for row in range(len(self.spins)):
            self.spins[row].setValue(0.0)
        self.zero_requested.emit()

    # --- from the application ---------------------------------------------------------------
    def levels(self) -> list[float]:
        return [self._clamped(i, s.value()) for i, s in enumerate(self.spins)]

    def set_levels(self, volts: Sequence[float]) -> None:
        """Show these levels (clamped to each range) without emitting `level_changed`."""
        for row, value in enumerate(volts):
            value = self._clamped(row, value)
            for widget, shown in (
                (self.spins[row], value),
                (self.sliders[row], round(value * _MV)),
            ):
                widget.blockSignals(True)
                widget.setValue(shown)
                widget.blockSignals(False)

    def show_reached(self, volts: Sequence[float]) -> None:
        for label, value in zip(self.reached, volts):
            label.setText(f"{value:.3f} V")
