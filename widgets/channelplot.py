"""Stacked plots of many channels over one shared time axis, for browsing and streams.

Channels are drawn in groups, one plot per group (inputs in V above outputs
in nA: each y axis is labelled with its unit), with their x axes linked. The
caller draws data it has already decimated (min/max envelopes), so curves
are `PlotCurveItem`s with 1-pixel pens and no pyqtgraph downsampling, and
the y axes are fitted only when new data arrives.

Browsing mode (`interactive=True`): the mouse wheel zooms and dragging pans
along x only (y follows the data), within the data's extent; every view
change the user makes is emitted as `range_changed(x0, x1)` so the caller can
load detail for it. A vertical cursor follows the mouse over the plots and
is emitted as `cursor_moved(x)` (only over a plot's data area, never over its
axes). Scope mode (`interactive=False`): fixed x range, no mouse interaction.

Stacked lanes (seven overlapping envelopes become seven readable traces),
batch-boundary marks and flagged stretches are two parts the plot owns
(`widgets.channellanes`: `Lanes`, `Overlays`); the plot's methods for them
pass each what it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import QWidget

from widgets.channellanes import Lanes, Overlays, label_lanes

_FALLBACK = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


@dataclass(frozen=True)
class PlotGroup:
    """One plot: a title, its y axis label and unit, and the channels drawn in it."""

    title: str
    y_label: str
    units: str
    channels: tuple[int, ...]


class ChannelPlot(pg.GraphicsLayoutWidget):
    """Groups of curves sharing an x axis; see the module docstring."""

    range_changed = Signal(float, float)  # the user zoomed or panned to [x0, x1]
    cursor_moved = Signal(float)  # x under the mouse
    resized = Signal(int)  # the data area's new width in pixels (after a layout settled)

    def __init__(
        self, interactive: bool = True, debounce_ms: int = 15, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.interactive = interactive
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.setSpacing(2)
        self.plots: list[pg.PlotItem] = []
        self.groups: list[PlotGroup] = []
        self.curves: dict[int, pg.PlotCurveItem] = {}
        self.plot_of: dict[int, int] = {}  # channel -> plot index
        self.cursor_lines: list[pg.InfiniteLine] = []
        self.cursor_x: float | None = None
        self._raw: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # as given, per channel
        self.lanes = Lanes()
        self.overlays = Overlays()
        self._visible: dict[int, bool] = {}
        self._colours: tuple[str, ...] = _FALLBACK
        self._foreground = "#303030"
        self._x = ("Time", "s")
        self._limits: tuple[float, float] | None = None
        self._quiet = 0  # >0 while the range is set by code, not by the user
        self._pending: tuple[float, float] | None = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._emit_range)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(50)
        self._resize_timer.timeout.connect(lambda: self.resized.emit(self.pixel_width()))
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.setMinimumHeight(160)

    # --- layout ---------------------------------------------------------------------
    def set_groups(
        self,
        groups: Sequence[PlotGroup],
        colours: Sequence[str] | None = None,
        x_label: str = "Time",
        x_units: str = "s",
    ) -> None:
        """One plot per group; old plots, curves and data are dropped."""
        if colours:
            self._colours = tuple(colours)
        self.clear()
        self.plots, self.groups, self.curves, self.plot_of = [], list(groups), {}, {}
        self.cursor_lines, self._raw = [], {}
        self.overlays.clear()
        self.lanes.forget_scales()
        self._x = (x_label, x_units)
        for row, group in enumerate(self.groups):
            plot = self.addPlot(row=row, col=0)
            self._style_plot(plot, group, last=row == len(self.groups) - 1)
            if self.plots:
                plot.setXLink(self.plots[0])
            for channel in group.channels:
                curve = pg.PlotCurveItem(
                    pen=pg.mkPen(self._colours[channel % len(self._colours)], width=1),
                    antialias=False,
                    connect="finite",
                )
                curve.setVisible(self._visible.get(channel, True))
                plot.addItem(curve)
                self.curves[channel] = curve
                self.plot_of[channel] = row
            shown = [self.curves[c].isVisible() for c in group.channels]
            self.overlays.add_plot(plot, group.channels, shown)
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", width=1))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.cursor_lines.append(line)
            self.plots.append(plot)
        if self.plots:
            vb = self.plots[0].getViewBox()
            vb.sigXRangeChanged.connect(self._on_x_changed)
            vb.sigResized.connect(lambda _vb: self._resize_timer.start())

        self._style_lanes()

    def _style_plot(self, plot: pg.PlotItem, group: PlotGroup, last: bool) -> None:
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=False, y=False)
        plot.setClipToView(True)
        plot.setDownsampling(auto=False)
        vb = plot.getViewBox()
        vb.setMouseEnabled(x=self.interactive, y=False)
        if not self.interactive:
            vb.setMouseEnabled(x=False, y=False)
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)  # 'nA' must not become 'knA'
        plot.setLabel("left", group.y_label, units=group.units or None, color=self._foreground)
        plot.getAxis("left").setWidth(64)  # aligned y axes, whatever the tick labels
        if last:
            plot.setLabel("bottom", self._x[0], units=self._x[1] or None, color=self._foreground)
        else:
            plot.getAxis("bottom").setStyle(showValues=False)
        if group.title:
            plot.setTitle(group.title, size="9pt", color=self._foreground)

    # --- data -----------------------------------------------------------------------
    def set_lines(
        self, lines: dict[int, tuple[np.ndarray, np.ndarray]], fit_y: bool = True
    ) -> None:
        """Replace the data of the given channels' curves, then fit the y axes."""
        for channel, (x, y) in lines.items():
            curve = self.curves.get(channel)
            if curve is not None:
                self._raw[channel] = (x, y)
                self.lanes.note(channel, y)
                curve.setData(x, self._shown_y(channel, y))
        if fit_y:
            self.fit_y()

    def clear_data(self) -> None:
        self._raw = {}
        self.overlays.clear_flags()
        for curve in self.curves.values():
            curve.setData(np.empty(0), np.empty(0))

    def fit_y(self) -> None:
        """Each plot's y range to its shown curves' data (a flat line gets a small band).

        In scope mode the range only changes when the data leaves it or fills
        less than a third of it: a steady axis is not repainted every frame.
        Stacked, each plot shows its lanes, whatever the data.
        """
        for row, plot in enumerate(self.plots):
            lanes = self.lanes_in(row)
            if lanes:
                plot.setYRange(-0.6, lanes - 0.4, padding=0)
                continue
            lo, hi = np.inf, -np.inf
            for channel in self.groups[row].channels:
                curve = self.curves[channel]
                if not curve.isVisible():
                    continue
                _, y = curve.getData()
                if y is None or not len(y):
                    continue
                finite = y[np.isfinite(y)]
                if len(finite):
                    lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
            if not np.isfinite(lo):
                continue
            if hi - lo < 1e-12 * max(1.0, abs(hi)):
                pad = max(abs(hi) * 0.05, 1e-9)
                lo, hi = lo - pad, hi + pad
            if not self.interactive:
                vlo, vhi = plot.getViewBox().viewRange()[1]
                if vlo <= lo and hi <= vhi and (vhi - vlo) <= 3 * (hi - lo):
                    continue
            plot.setYRange(lo, hi, padding=0.05)

    def curve_data(self, channel: int) -> tuple[np.ndarray, np.ndarray]:
        """The data last given for `channel` (not its stacked placement)."""
        empty = np.empty(0)
        return self._raw.get(channel, (empty, empty))

    # --- channels -------------------------------------------------------------------
    def set_channel_visible(self, channel: int, visible: bool) -> None:
        self._visible[channel] = bool(visible)
        curve = self.curves.get(channel)
        if curve is not None:
            curve.setVisible(bool(visible))
            self.overlays.flag_curves[channel].setVisible(bool(visible))
            if self.stacked:  # the lanes close up around the shown channels
                self._redraw()
            else:
                self.fit_y()

    def channel_visible(self, channel: int) -> bool:
        curve = self.curves.get(channel)
        return curve is not None and curve.isVisible()

    def reset_visibility(self, shown: Sequence[bool] | None = None) -> None:
        self._visible = {} if shown is None else dict(enumerate(map(bool, shown)))
        for channel, curve in self.curves.items():
            curve.setVisible(self._visible.get(channel, True))
            self.overlays.flag_curves[channel].setVisible(curve.isVisible())

    # --- lanes, marks, flags (widgets.channellanes) -----------------------------------
    @property
    def stacked(self) -> bool:
        return self.lanes.stacked

    def _shown_in(self, row: int) -> list[int]:
        return [c for c in self.groups[row].channels if self._visible.get(c, True)]

    def _shown_y(self, channel: int, y: np.ndarray) -> np.ndarray:
        centres = self.lanes.centres(map(self._shown_in, range(len(self.groups))))
        return self.lanes.place(channel, y, centres)

    def lanes_in(self, row: int) -> int:
        """How many lanes plot `row` has (0: it shows values, not lanes)."""
        return self.lanes.count(self._shown_in(row))

    def set_stacked(self, on: bool) -> None:
        """One lane per shown channel, each scaled to its own range (or back to values)."""
        self.lanes.set_stacked(on)
        self._redraw()

    def set_channel_ranges(self, lo: Sequence[float], hi: Sequence[float]) -> None:
        """Each channel's full range: its lane spans it (set before the data, or redraws)."""
        self.lanes.set_ranges(lo, hi)
        self._redraw()

    def set_names(self, names: Sequence[str]) -> None:
        """Channel names (the stacked y axis labels each lane with one)."""
        self.lanes.names = dict(enumerate(names))
        self._style_lanes()

    def set_flags(self, flags: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        """Per channel (x, y) drawn thick over its trace (in its lane), NaN between stretches."""
        self.overlays.set_flags(flags, self._shown_y)

    def _redraw(self) -> None:
        for channel, (_, y) in self._raw.items():
            self.lanes.note(channel, y)
        for channel, curve in self.curves.items():
            x, y = self._raw.get(channel, (np.empty(0), np.empty(0)))
            curve.setData(x, self._shown_y(channel, y))
        self.overlays.redraw_flags(self._shown_y)
        self._style_lanes()
        self.fit_y()

    def _style_lanes(self) -> None:
        """Stacked: the y axis names each lane's channel; else the unit's label and ticks."""
        shown = [self._shown_in(row) for row in range(len(self.groups))]
        label_lanes(self.plots, self.groups, shown, self.lanes, self._foreground)

    # --- x range --------------------------------------------------------------------
    def set_x_limits(self, lo: float, hi: float, min_span: float | None = None) -> None:
        """The extent the user may pan and zoom within (the data's), and the deepest zoom."""
        if hi <= lo:
            hi = lo + 1e-9
        self._limits = (lo, hi)
        min_span = min(hi - lo, min_span if min_span else (hi - lo) * 1e-9)
        for plot in self.plots:
            plot.getViewBox().setLimits(xMin=lo, xMax=hi, minXRange=min_span)

    def set_x_range(self, lo: float, hi: float) -> None:
        """Show [lo, hi] without emitting `range_changed` (the caller loads it itself)."""
        if not self.plots:
            return
        self._quiet += 1
        try:
            self.plots[0].setXRange(lo, hi, padding=0)
        finally:
            self._quiet -= 1
        self._pending = None
        self._debounce.stop()

    def x_range(self) -> tuple[float, float]:
        if not self.plots:
            return (0.0, 0.0)
        lo, hi = self.plots[0].getViewBox().viewRange()[0]
        return float(lo), float(hi)

    def zoom(self, factor: float, centre: float | None = None) -> None:
        """Zoom x by `factor` (< 1 zooms in) around `centre`, as the mouse wheel does."""
        if not self.plots:
            return
        lo, hi = self.x_range()
        centre = (lo + hi) / 2 if centre is None else centre
        vb = self.plots[0].getViewBox()
        vb.scaleBy(x=factor, y=None, center=pg.Point(centre, 0))
        self._on_x_changed(vb, self.x_range())

    def pixel_width(self) -> int:
        """Width of the data area in pixels (decimate to about this many bins).

        Before any plot is laid out, the widget's width less the y axis is the
        best guess (the first overview is then drawn at about the right detail).
        """
        if not self.plots:
            return max(1, self.width() - 80)
        return max(1, int(self.plots[0].getViewBox().width()))

    def _on_x_changed(self, _vb: object, rng: tuple[float, float]) -> None:
        if self._quiet:
            return
        self._pending = (float(rng[0]), float(rng[1]))
        self._debounce.start()

    def _emit_range(self) -> None:
        """Emit the range shown now (layout passes may have moved it since the change)."""
        if self._pending is not None:
            self._pending = None
            lo, hi = self.x_range()
            self.range_changed.emit(lo, hi)

    # --- cursor ---------------------------------------------------------------------
    def _on_mouse_moved(self, pos: QPointF) -> None:
        if not self.interactive:
            return
        for plot in self.plots:
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):  # the data area, not the axes
                x = vb.mapSceneToView(pos).x()
                self.set_cursor(x)
                self.cursor_moved.emit(x)
                return

    def set_cursor(self, x: float | None) -> None:
        """Put the vertical cursor at `x` in every plot (None hides it)."""
        self.cursor_x = x
        for line in self.cursor_lines:
            if x is None:
                line.setVisible(False)
            else:
                line.setPos(x)
                line.setVisible(True)

    # --- looks ----------------------------------------------------------------------
    def set_colours(self, colours: Sequence[str]) -> None:
        self._colours = tuple(colours)
        for channel, curve in self.curves.items():
            curve.setPen(pg.mkPen(self._colours[channel % len(self._colours)], width=1))

    def set_colours_theme(self, background: str, foreground: str) -> None:
        self._foreground = foreground
        self.setBackground(background)
        pen = pg.mkPen(foreground)
        for row, plot in enumerate(self.plots):
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pen)
                axis.setTextPen(pen)
            group = self.groups[row]
            if row == len(self.plots) - 1:
                plot.setLabel("bottom", self._x[0], units=self._x[1] or None, color=foreground)
            if group.title:
                plot.setTitle(group.title, size="9pt", color=foreground)
        self._style_lanes()

    def axis_label(self, row: int, side: str = "left") -> str:
        """'Voltage (V)': the label a user reads on a plot's axis."""
        if side == "left" and self.lanes_in(row):
            return f"{self.groups[row].title} (each to its range)"
        text, units = (
            (self.groups[row].y_label, self.groups[row].units) if side == "left" else self._x
        )
        return f"{text} ({units})" if units else text
