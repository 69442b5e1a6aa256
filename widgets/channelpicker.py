"""Check boxes to show or hide channels, each with its name, unit and curve colour.

It doubles as the plot's legend (the swatch is the curve's colour), so the
plot area stays free for data. Groups (e.g. "Inputs (V)", "Output (nA)") get
a bold heading and their own All / None switch.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


def swatch(colour: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class ChannelPicker(QScrollArea):
    """One check box per channel, under group headings; emits what the user toggled."""

    visibility_changed = Signal(int, bool)  # channel index, shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.boxes: list[QCheckBox] = []
        self._inner = QWidget()
        self._layout = QVBoxLayout(self._inner)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(2)
        self._layout.addStretch(1)
        self.setWidget(self._inner)
        self.setMinimumWidth(170)

    def set_channels(
        self,
        names: Sequence[str],
        units: Sequence[str],
        colours: Sequence[str],
        groups: Sequence[tuple[str, Sequence[int]]] = (),
        shown: Sequence[bool] | None = None,
    ) -> None:
        """Rebuild the boxes; `groups` are (heading, channel indices) in display order."""
        self._inner = QWidget()  # a fresh page: the old one (boxes, headings) is deleted
        self._layout = QVBoxLayout(self._inner)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(2)
        self.boxes = []
        for i, (name, unit) in enumerate(zip(names, units)):
            box = QCheckBox(f"{name} ({unit})" if unit else name)
            box.setObjectName(f"channel_{i}")
            box.setIcon(swatch(colours[i % len(colours)] if colours else "#808080"))
            box.setChecked(True if shown is None else bool(shown[i]))
            box.toggled.connect(lambda on, i=i: self.visibility_changed.emit(i, on))
            self.boxes.append(box)
        if not groups and self.boxes:
            groups = [("Channels", range(len(self.boxes)))]
        for heading, members in groups:
            members = list(members)
            self._layout.addLayout(self._heading(heading, members))
            for i in members:
                self._layout.addWidget(self.boxes[i])
        self._layout.addStretch(1)
        self.setWidget(self._inner)

    def _heading(self, text: str, members: list[int]) -> QHBoxLayout:
        row = QHBoxLayout()
        label = QLabel(f"<b>{text}</b>")
        label.setWordWrap(True)
        row.addWidget(label, 1)
        for caption, state in (("All", True), ("None", False)):
            button = QToolButton()
            button.setText(caption)
            button.setAutoRaise(True)
            button.setToolTip(f"{'Show' if state else 'Hide'} every channel of {text}")
            button.clicked.connect(lambda _=False, s=state, m=members: self.set_shown(m, s))
            row.addWidget(button)
        return row

    def set_shown(self, indices: Sequence[int], shown: bool) -> None:
        for i in indices:
            self.boxes[i].setChecked(shown)

    def shown(self) -> list[bool]:
        return [box.isChecked() for box in self.boxes]

    def set_colours(self, colours: Sequence[str]) -> None:
        for i, box in enumerate(self.boxes):
            box.setIcon(swatch(colours[i % len(colours)]))
