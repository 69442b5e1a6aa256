"""A one-line label that elides its text in the middle when it is too narrow.

A path or a recording's name keeps its start and its end (the folder it is in,
the time stamp and the suffix): "/home/lab/…/quick_demo_2026_12_07_0305.h5".
A tail can be kept whole ("— complete (25,000 rows)"). The whole text is the
tooltip and what `text()` returns.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """QLabel whose single line of plain text is elided in the middle to fit."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setToolTip(text)

    def setText(self, text: str, tail: str = "") -> None:
        """Show `text` + `tail`; only `text` is elided (e.g. a name, with its status kept)."""
        self._tail = tail
        super().setText(text + tail)
        self.setToolTip(text + tail)

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        """The text as drawn at the current width."""
        tail = getattr(self, "_tail", "")
        metrics = self.fontMetrics()
        head = self.text()[: len(self.text()) - len(tail)]
        width = max(0, self.contentsRect().width() - metrics.horizontalAdvance(tail))
        return metrics.elidedText(head, Qt.TextElideMode.ElideMiddle, width) + tail

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        painter.drawText(self.contentsRect(), flags, self.shown_text())
