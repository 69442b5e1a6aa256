"""Histograms as step plots: one plot with several channels, or a grid of small ones.

`HistogramPlot` draws (edges, counts) per channel as filled steps with a
legend, and optionally two clip limits as vertical lines the user can drag:
it emits `limits_changed(lo, hi)` while a line moves, and the region outside
the limits is tinted, so what would be dropped is visible at a glance.
`widgets.histogramgrid.HistogramGrid` draws one small histogram per channel.
Both only draw what they are given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from widgets.plotstyle import label_axes

FALLBACK_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
#: (name, edges, counts): counts[i] values in [edges[i], edges[i+1]).
HistogramData = tuple[str, np.ndarray, np.ndarray]


class _TitleLabel(pg.LabelItem):
    """A title that never makes its plot wider than the widget.

    pyqtgraph's labels make their text's width the layout's minimum: a narrow
    histogram then grew past its widget and lost its right edge (the last tick
    label, the HI label). This one is centred and may overflow its cell instead.
    """

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(1)  # (0 would count as unset)
        height = self.minimumHeight()
        self._sizeHint[Qt.SizeHint.MinimumSize] = (1, height)


def _fill(colour: str, alpha: int) -> QColor:
    c = pg.mkColor(colour)
    c.setAlpha(alpha)
    return c


def step_curve(
    edges: Sequence[float], counts: Sequence[float], colour: str, alpha: int
) -> pg.PlotCurveItem:
    """A filled step histogram: thin outline, translucent fill, no antialiasing."""
    return pg.PlotCurveItem(
        np.asarray(edges, dtype=float),
        np.asarray(counts, dtype=float),
        stepMode="center",
        fillLevel=0,
        brush=_fill(colour, alpha),
        pen=pg.mkPen(colour, width=1),
        antialias=False,
    )


class HistogramPlot(pg.GraphicsLayoutWidget):
    """Histograms of several channels on one axis, with optional draggable clip limits."""

    limits_changed = Signal(float, float)  # the user dragged a limit line

    def __init__(
        self,
        title: str = "",
        x_label: str = "",
        x_units: str = "",
        y_label: str = "Count",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # Room on the right for the last tick label, which is centred on the axis end.
        self.ci.setContentsMargins(2, 2, 16, 2)
        self.title_label = _TitleLabel("", size="9pt")
        self.addItem(self.title_label, row=0, col=0)
        self.plot_item: pg.PlotItem = self.addPlot(row=1, col=0)
        self.plot_item.setMenuEnabled(False)
        self.plot_item.showGrid(x=False, y=False)
        # The legend floats in the plot's top-right corner: a legend beside the plot
        # takes a layout column that collapses to nothing when the widget is narrow.
        self.legend = pg.LegendItem(offset=(-6, 6), verSpacing=-4, labelTextSize="8pt")
        self.legend.setParentItem(self.plot_item.getViewBox())
        self.legend.setZValue(30)
        self._labels = {"left": (y_label, ""), "bottom": (x_label, x_units)}
        self._units = x_units
        self._title = title
        self._colours: Sequence[str] = FALLBACK_COLOURS
        self._foreground = "#303030"
        self._background = "#ffffff"
        self._limit_colour = "#c62828"
        self.curves: list[pg.PlotCurveItem] = []
        self.names: list[str] = []
        self._data_range: tuple[float, float] | None = None
        self._lines: list[pg.InfiniteLine] = []
        self._shades: list[pg.LinearRegionItem] = []
        self._moving = False
        self.set_colours_theme("#ffffff", self._foreground)
        self.setMinimumHeight(160)

    def sizeHint(self) -> QSize:
        """Modest, so a plot in a scrolled column takes the room left, not 480 px."""
        return QSize(360, 220)

    # --- data -----------------------------------------------------------------------
    def set_histograms(
        self, histograms: Sequence[HistogramData], colours: Sequence[str] | None = None
    ) -> None:
        """Replace what is drawn: one filled step curve (and legend entry) per histogram."""
        if colours:
            self._colours = tuple(colours)
        for curve in self.curves:
            self.plot_item.removeItem(curve)
        self.legend.clear()
        self.curves, self.names = [], []
        alpha = 150 if len(histograms) == 1 else 90
        lo, hi = math.inf, -math.inf
        for i, (name, edges, counts) in enumerate(histograms):
            colour = self._colours[i % len(self._colours)]
            curve = step_curve(edges, counts, colour, alpha)
            self.plot_item.addItem(curve)
            self.legend.addItem(curve, name)
            self.curves.append(curve)
            self.names.append(name)
            if len(edges):
                lo, hi = min(lo, float(edges[0])), max(hi, float(edges[-1]))
        self._data_range = (lo, hi) if lo <= hi else None
        self.legend.setVisible(len(histograms) > 1)  # one channel: the title names it
        self._style_legend()
        self._fit()

    def clear_histograms(self) -> None:
        self.set_histograms([])

    def histogram_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(edges, counts) drawn for channel `index`."""
        x, y = self.curves[index].getData()
        return np.asarray(x), np.asarray(y)

    def legend_names(self) -> list[str]:
        """The names in the legend (shown when there is more than one channel)."""
        return [label.text for _, label in self.legend.items]

    # --- clip limits ----------------------------------------------------------------
    def set_limits(self, lo: float | None, hi: float | None, movable: bool = True) -> None:
        """Draw the limits (None hides them); `movable` lets the user drag them."""
        if lo is None or hi is None:
            for item in (*self._lines, *self._shades):
                self.plot_item.removeItem(item)
            self._lines, self._shades = [], []
            self._fit()
            return
        if not self._lines:
            self._make_limit_items()
        self._moving = True  # programmatic moves are not the user's drags
        try:
            for line, value in zip(self._lines, (lo, hi)):
                line.setMovable(movable)
                line.setValue(float(value))
        finally:
            self._moving = False
        self._shade()
        self._fit()

    def limits(self) -> tuple[float, float] | None:
        if not self._lines:
            return None
        return float(self._lines[0].value()), float(self._lines[1].value())

    def _make_limit_items(self) -> None:
        pen = pg.mkPen(self._limit_colour, width=1, style=Qt.PenStyle.DashLine)
        hover = pg.mkPen(self._limit_colour, width=3)
        for which, position in (("LO", 0.95), ("HI", 0.85)):
            line = pg.InfiniteLine(
                0.0,
                angle=90,
                pen=pen,
                hoverPen=hover,
                movable=True,
                label=f"{which} {{value:.4g}} {self._units}",
                labelOpts={
                    "position": position,
                    "color": self._limit_colour,
                    "fill": _fill(self._background, 210),
                    "movable": False,
                },
            )
            line.setZValue(20)
            line.sigPositionChanged.connect(self._on_line_moved)
            self.plot_item.addItem(line, ignoreBounds=True)
            self._lines.append(line)
        brush = _fill(self._limit_colour, 35)
        for _ in range(2):
            shade = pg.LinearRegionItem((0, 0), movable=False, brush=brush, pen=pg.mkPen(None))
            shade.setZValue(-10)
            self.plot_item.addItem(shade, ignoreBounds=True)
            self._shades.append(shade)

    def _on_line_moved(self, _line: pg.InfiniteLine) -> None:
        self._shade()
        if not self._moving:
            lo, hi = self.limits() or (0.0, 0.0)
            self.limits_changed.emit(lo, hi)

    def _shade(self) -> None:
        limits = self.limits()
        if limits is None:
            return
        lo, hi = limits
        # "to the edge of any view": far, but not so far that float precision breaks drawing
        values = [abs(lo), abs(hi), *(abs(v) for v in self._data_range or ())]
        far = 10 * max(values) + 1e3
        self._shades[0].setRegion((lo - far, lo))
        self._shades[1].setRegion((hi, hi + far))

    def _fit(self) -> None:
        """Show the data and the limits (limits never set the range on their own)."""
        spans = [] if self._data_range is None else list(self._data_range)
        limits = self.limits()
        if limits is not None and all(math.isfinite(v) for v in limits):
            spans += list(limits)
        if not spans:
            return
        lo, hi = min(spans), max(spans)
        margin = 0.05 * (hi - lo) if hi > lo else 1.0
        self.plot_item.setXRange(lo - margin, hi + margin, padding=0)
        self.plot_item.enableAutoRange(axis="y")

    # --- looks ----------------------------------------------------------------------
    def set_title(self, title: str) -> None:
        self._title = title
        self.title_label.setText(title, size="9pt", color=self._foreground)

    @property
    def title(self) -> str:
        return self._title

    def axis_label(self, side: str) -> str:
        text, units = self._labels[side]
        return f"{text} ({units})" if units else text

    def set_colours_theme(
        self, background: str, foreground: str, limit_colour: str | None = None
    ) -> None:
        self._foreground = foreground
        self._background = background
        if limit_colour:
            self._limit_colour = limit_colour
        self.setBackground(background)
        label_axes(self.plot_item, self._labels, foreground)
        self.set_title(self._title)
        self._style_legend()
        for line in self._lines:
            line.setPen(pg.mkPen(self._limit_colour, width=1, style=Qt.PenStyle.DashLine))
            line.label.setColor(self._limit_colour)
            line.label.fill = pg.mkBrush(_fill(background, 210))
        for shade in self._shades:
            shade.setBrush(_fill(self._limit_colour, 35))

    def set_colours(self, colours: Sequence[str]) -> None:
        self._colours = tuple(colours)

    def _style_legend(self) -> None:
        self.legend.setLabelTextColor(self._foreground)
        self.legend.setBrush(pg.mkBrush(_fill(self._background, 200)))
        for _, label in self.legend.items:
            label.setText(label.text, color=self._foreground, size="8pt")
