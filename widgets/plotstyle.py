"""How every plot's axes look: the theme's foreground, units as given.

pyqtgraph paints axes in its own colours and rescales units ('nA' becomes 'knA'
for large currents); each plot widget follows the theme's foreground and keeps
the units it was given, through these two functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyqtgraph as pg


def colour_axes(
    item: pg.PlotItem, foreground: str, sides: Iterable[str] = ("left", "bottom")
) -> None:
    """Draw the axis lines and tick labels of `sides` in `foreground`."""
    pen = pg.mkPen(foreground)
    for side in sides:
        axis = item.getAxis(side)
        axis.setPen(pen)
        axis.setTextPen(pen)


def label_axes(item: pg.PlotItem, labels: Mapping[str, tuple[str, str]], foreground: str) -> None:
    """Colour and label each side as `labels[side] = (text, units)`; units never rescaled."""
    colour_axes(item, foreground, labels)
    for side, (text, units) in labels.items():
        item.getAxis(side).enableAutoSIPrefix(False)  # 'nA' must not become 'knA'
        item.setLabel(side, text, units=units or None, color=foreground)
