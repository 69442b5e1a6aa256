"""Saturated output samples while sampling, with the threshold that makes them a warning.

It shows plain numbers it is given (the newest batch's count and share, the
session's total, the worst batch) and turns into a warning, in the theme's
warning colour and with a sign, when a batch's saturated share reaches the
threshold. The warning stays until the next session: a batch that saturated
earlier is as important as the newest one.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

DEFAULT_THRESHOLD_PCT = 1.0


class SaturationView(QWidget):
    """'Saturated: ...' text plus a 'warn at N %' box; `threshold_changed(pct)` on edits."""

    threshold_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setObjectName("saturation_text")
        self.text.setWordWrap(True)
        self.text.setToolTip(
            "Output samples at the ADC limit (4 V x amplification): the device's current "
            "was at least that large and is clipped in the recording"
        )
        self.threshold = QDoubleSpinBox()
        self.threshold.setObjectName("saturation_threshold")
        self.threshold.setRange(0.01, 100.0)
        self.threshold.setDecimals(2)
        self.threshold.setSingleStep(0.5)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(DEFAULT_THRESHOLD_PCT)
        self.threshold.setToolTip("Warn when this share of a batch's output samples saturates")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(QLabel("warn at"))
        row.addWidget(self.threshold)
        self.warning = False
        self._colours = ("", "#a15c00")
        self._last: tuple | None = None
        self.threshold.valueChanged.connect(self._on_threshold)
        self.reset()

    def set_colours(self, normal: str, warning: str) -> None:
        self._colours = (normal, warning)
        self._paint()

    def threshold_pct(self) -> float:
        return float(self.threshold.value())

    def reset(self) -> None:
        self._last = None
        self.warning = False
        self.text.setText("Saturated samples: none yet")
        self._paint()

    def show_counts(
        self,
        batch: int,
        count: int,
        samples: int,
        total: int,
        batches_saturated: int,
        batches: int,
        worst_batch: int,
        worst_fraction: float,
    ) -> None:
        """The newest counts (from the session's saturation report)."""
        self._last = (
            batch,
            count,
            samples,
            total,
            batches_saturated,
            batches,
            worst_batch,
            worst_fraction,
        )
        self._update()

    def _on_threshold(self, value: float) -> None:
        self.threshold_changed.emit(float(value))
        if self._last is not None:
            self._update()

    def _update(self) -> None:
        batch, count, samples, total, saturated, batches, worst, worst_fraction = self._last
        limit = self.threshold_pct() / 100
        share = count / samples if samples else 0.0
        text = (
            f"Saturated samples: {count:,} in batch {batch} ({share:.2%}); "
            f"{total:,} in {saturated:,} of {batches:,} batches"
        )
        self.warning = share >= limit or worst_fraction >= limit
        if self.warning:
            text = f"⚠ {text}. Batch {worst} had {worst_fraction:.2%}: above {limit:.2%}"
        self.text.setText(text)
        self._paint()

    def _paint(self) -> None:
        normal, warning = self._colours
        colour = warning if self.warning else normal
        weight = "font-weight: bold;" if self.warning else ""
        self.text.setStyleSheet(f"color: {colour}; {weight}" if colour else weight)
