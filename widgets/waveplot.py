"""A live multi-channel plot: one curve per channel, a legend, axes labelled with units.

Made for frequent redraws of data that is already decimated: no pyqtgraph
downsampling, no finite check, no antialiasing, 1-pixel pens (the raster
engine's fast path), and axis ranges that only change when they must (a
fixed range, or `follow_y`'s grow-fast/shrink-slowly rule), because
repainting axes is most of what a redraw costs. The legend sits beside the
plot, never over the curves. Callers pass (x, y) arrays per channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets.plotstyle import colour_axes

_FALLBACK_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


class BoundedCurve(pg.PlotCurveItem):
    """A curve whose data extent is worked out once per update, not on every paint.

    pyqtgraph recomputes a curve's bounds (nanmin/nanmax behind a warnings guard)
    each time the scene asks for its bounding rect after new data; for live plots
    updated 25 times a second that was a tenth of the GUI thread's time.
    """

    def __init__(self, *args, **kwargs) -> None:
        self._extent: tuple[tuple[float, float], tuple[float, float]] | None = None
        super().__init__(*args, **kwargs)

    def updateData(self, *args, **kwargs) -> None:
        super().updateData(*args, **kwargs)
        x, y = self.xData, self.yData
        self._extent = None
        if x is not None and y is not None and len(x):
            lo_x, hi_x, lo_y, hi_y = np.array([x.min(), x.max(), y.min(), y.max()]).tolist()
            if np.isfinite([lo_x, hi_x, lo_y, hi_y]).all():  # else pyqtgraph's NaN handling
                self._extent = ((lo_x, hi_x), (lo_y, hi_y))

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        widened = not self.opts["pen"].isCosmetic() or self.opts["fillLevel"] is not None
        if self._extent is None or widened or frac < 1.0 or orthoRange is not None:
            return super().dataBounds(ax, frac, orthoRange)
        return self._extent[ax]


class WavePlot(pg.GraphicsLayoutWidget):
    """Curves of several channels against time, with a side legend."""

    def __init__(
        self,
        title: str = "",
        y_label: str = "",
        y_units: str = "",
        x_label: str = "Time",
        x_units: str = "s",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.plot_item: pg.PlotItem = self.addPlot(row=0, col=0)
        self.legend = pg.LegendItem(offset=None, verSpacing=-4, labelTextSize="8pt")
        self.legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.addItem(self.legend, row=0, col=1)
        self.ci.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignTop)
        self.ci.layout.setColumnStretchFactor(0, 10)
        self.ci.layout.setColumnStretchFactor(1, 0)
        item = self.plot_item
        item.setMenuEnabled(False)
        # No grid: grid lines overlap the data area, so every curve update would
        # repaint them (alpha-blended over the whole plot), tripling a frame's cost.
        item.showGrid(x=False, y=False)
        item.setClipToView(True)
        item.setDownsampling(auto=False)
        self._labels = {"left": (y_label, y_units), "bottom": (x_label, x_units)}
        for side, (text, units) in self._labels.items():
            axis = item.getAxis(side)
            axis.enableAutoSIPrefix(False)  # 'nA' must not become 'knA'
            item.setLabel(side, text, units=units)
        self._title = ""
        self.set_title(title)
        self.curves: list[pg.PlotCurveItem] = []
        self.names: list[str] = []
        self._colours: Sequence[str] = _FALLBACK_COLOURS
        self._foreground = "#303030"
        self.setMinimumHeight(140)

    # --- channels -------------------------------------------------------------------
    def set_channels(self, names: Sequence[str], colours: Sequence[str] | None = None) -> None:
        """One curve (and legend entry) per name; old curves and data are dropped."""
        if colours:
            self._colours = tuple(colours)
        for curve in self.curves:
            self.plot_item.removeItem(curve)
        self.legend.clear()
        self.curves, self.names = [], list(names)
        for i, name in enumerate(self.names):
            # PlotCurveItem, not PlotDataItem: no per-update wrapper work (symbols,
            # downsampling, log modes) for data that is already decimated.
            curve = BoundedCurve(
                pen=pg.mkPen(self._colours[i % len(self._colours)], width=1),
                antialias=False,
                skipFiniteCheck=True,
            )
            self.plot_item.addItem(curve)
            self.legend.addItem(curve, name)
            self.curves.append(curve)
        self._style_legend()

    def set_colours(self, colours: Sequence[str]) -> None:
        self._colours = tuple(colours)
        for i, curve in enumerate(self.curves):
            curve.setPen(pg.mkPen(self._colours[i % len(self._colours)], width=1))

    # --- data -----------------------------------------------------------------------
    def set_lines(self, lines: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        """Replace every curve's data with the matching (x, y); extra lines are ignored."""
        for curve, (x, y) in zip(self.curves, lines):
            curve.setData(x, y, skipFiniteCheck=True)

    def set_x_range(self, lo: float, hi: float) -> None:
        """Fix the x axis (no autorange): a stable axis is not repainted every frame."""
        self.plot_item.setXRange(lo, hi, padding=0.02)  # room for the end ticks' labels

    def set_y_range(self, lo: float, hi: float, padding: float = 0.05) -> None:
        self.plot_item.setYRange(lo, hi, padding=padding)

    def follow_y(self, lines: Sequence[tuple[np.ndarray, np.ndarray]]) -> bool:
        """Fit the y axis to the data when it leaves the range or fills under a third of it.

        Returns True when the range changed. Small wobbles keep the range (and
        the painted axis) as it is.
        """
        ys = [y for _, y in lines if len(y)]
        if not ys:
            return False
        lo = min(float(np.min(y)) for y in ys)
        hi = max(float(np.max(y)) for y in ys)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return False
        (vlo, vhi) = self.plot_item.getViewBox().viewRange()[1]
        span = max(hi - lo, 1e-12)
        if lo >= vlo and hi <= vhi and (vhi - vlo) <= 3 * span:
            return False
        margin = 0.1 * span
        self.plot_item.setYRange(lo - margin, hi + margin, padding=0)
        return True

    def clear_data(self) -> None:
        for curve in self.curves:
            curve.setData(np.empty(0), np.empty(0))

    def curve_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.curves[index].getData()
        empty = np.empty(0)
        return (empty if x is None else x), (empty if y is None else y)

    # --- labels and looks -----------------------------------------------------------
    def set_title(self, title: str) -> None:
        if title != self._title:
            self._title = title
            self.plot_item.setTitle(title, size="10pt")

    @property
    def title(self) -> str:
        return self._title

    def legend_names(self) -> list[str]:
        return [label.text for _, label in self.legend.items]

    def axis_label(self, side: str) -> str:
        """'Voltage (V)': the label a user reads on that axis."""
        text, units = self._labels[side]
        return f"{text} ({units})" if units else text

    def set_colours_theme(self, background: str, foreground: str) -> None:
        """Follow the application theme (pyqtgraph paints its own background)."""
        self._foreground = foreground
        self.setBackground(background)
        colour_axes(self.plot_item, foreground)
        for side, (text, units) in self._labels.items():
            self.plot_item.setLabel(side, text, units=units, color=foreground)
        self.plot_item.titleLabel.setText(self._title, size="10pt", color=foreground)
        self._style_legend()

    def _style_legend(self) -> None:
        self.legend.setLabelTextColor(self._foreground)
        for _, label in self.legend.items:
            label.setText(label.text, color=self._foreground, size="8pt")
