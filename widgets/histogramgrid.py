"""A grid of small histograms, one per channel (e.g. each electrode's coverage).

The number of columns follows the widget's shape, and small plots drop their
count axis before they get too flat or narrow (the shape is what they show).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import QWidget

from widgets.histogramplot import FALLBACK_COLOURS, HistogramData, step_curve
from widgets.plotstyle import colour_axes

#: The narrowest a small histogram of the grid is drawn with its count axis (pixels),
#: the axis's width, and the least height at which its tick labels do not overlap.
MIN_PLOT_WIDTH, AXIS_WIDTH, AXIS_PLOT_HEIGHT = 125, 36, 80


class HistogramGrid(pg.GraphicsLayoutWidget):
    """One small histogram per channel, in rows of up to `columns` plots.

    The number of columns follows the widget's shape: each plot gets the share
    of width and height closest to a readable `plot_size` (wide and short: one
    row; narrow and tall: fewer columns, more rows).
    """

    def __init__(
        self,
        x_units: str = "",
        columns: int = 4,
        plot_size: tuple[int, int] = (130, 100),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ci.setContentsMargins(2, 2, 10, 2)
        self.ci.setSpacing(2)
        self.x_units = x_units
        self.max_columns = self.columns = columns
        self.plot_size = plot_size
        self.plots: list[pg.PlotItem] = []
        self.curves: list[pg.PlotCurveItem] = []
        self.names: list[str] = []
        self._data: list[HistogramData] = []
        self._colours: Sequence[str] = FALLBACK_COLOURS
        self._foreground = "#303030"
        self.setMinimumSize(170, 160)

    def sizeHint(self) -> QSize:
        return QSize(self.max_columns * self.plot_size[0], 2 * self.plot_size[1])

    def fitting_columns(self, width: int | None = None, height: int | None = None) -> int:
        """The columns whose plots come closest to `plot_size` in this widget (or size)."""
        return self._fit(width, height)[0]

    def _fit(self, width: int | None = None, height: int | None = None) -> tuple[int, bool]:
        """(columns, whether the count axes fit): small plots drop their count axis (the
        shape of the coverage is what they show) before they get too flat or narrow."""
        width = self.width() if width is None else width
        height = self.height() if height is None else height
        n = max(1, len(self._data))
        best, best_cost = (1, True), math.inf
        for columns in range(1, min(self.max_columns, n) + 1):
            rows = -(-n // columns)
            w, h = width / columns, height / rows
            axis = w >= MIN_PLOT_WIDTH and h >= AXIS_PLOT_HEIGHT
            if w < MIN_PLOT_WIDTH - (0 if axis else AXIS_WIDTH) and columns > 1:
                continue  # the bottom axis's ticks would overflow
            cost = max(self.plot_size[0] / max(w, 1), self.plot_size[1] / max(h, 1))
            if cost < best_cost - 1e-9:
                best, best_cost = (columns, axis), cost
        return best

    def count_axes_shown(self) -> bool:
        return bool(self.plots) and self.plots[0].getAxis("left").isVisible()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)  # pyqtgraph itself calls this with None
        if not hasattr(self, "_data"):  # called from the base class's __init__
            return
        columns, axis = self._fit()
        if columns != self.columns:
            self.columns = columns
            if self._data:
                self.set_histograms(self._data)
        elif self.plots and axis != self.count_axes_shown():
            for plot in self.plots:
                plot.showAxis("left", axis)

    def set_histograms(
        self, histograms: Sequence[HistogramData], colours: Sequence[str] | None = None
    ) -> None:
        if colours:
            self._colours = tuple(colours)
        self._data = list(histograms)
        self.columns, axis = self._fit()
        self.ci.clear()
        self.plots, self.curves, self.names = [], [], []
        for i, (name, edges, counts) in enumerate(histograms):
            plot = self.ci.addPlot(row=i // self.columns, col=i % self.columns)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            colour = self._colours[i % len(self._colours)]
            curve = step_curve(edges, counts, colour, 150)
            plot.addItem(curve)
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            plot.showAxis("left", axis)
            self.plots.append(plot)
            self.curves.append(curve)
            self.names.append(name)
        self._style()

    def histogram_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.curves[index].getData()
        return np.asarray(x), np.asarray(y)

    def titles(self) -> list[str]:
        return [plot.titleLabel.text for plot in self.plots]

    def set_colours_theme(self, background: str, foreground: str) -> None:
        self._foreground = foreground
        self.setBackground(background)
        self._style()

    def _style(self) -> None:
        for plot, name in zip(self.plots, self.names):
            title = f"{name} ({self.x_units})" if self.x_units else name
            plot.setTitle(title, size="8pt", color=self._foreground)
            colour_axes(plot, self._foreground)
            for side in ("left", "bottom"):
                plot.getAxis(side).setStyle(tickFont=_small_font())


def _small_font() -> QFont:
    font = QFont()
    font.setPointSize(7)
    return font
