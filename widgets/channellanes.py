"""Stacked lanes, boundary marks and flagged stretches: two parts a `ChannelPlot` owns.

Stacked (as ephyviewer draws many channels), a plot showing two channels or
more gives each its own lane, the channel scaled onto it by its own centre and
span (`set_channel_ranges`, else the range of the data first drawn); the y
axis then names the lanes. A plot showing one channel keeps its values and
units. Marks are dashed vertical lines (batch boundaries); flags are thick
stretches over a channel's trace (samples at the ADC limit). The data given
is kept as given: `curve_data` returns it unscaled.

`Lanes` is plain state (no Qt items): which lane each shown channel takes and
how its values map onto it. `Overlays` owns the marks' lines and the flags'
curves of every plot, and draws flags where `Lanes` places their channel. The
plot tells both what they need (its plots, its shown channels); neither
reaches back into the plot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

#: The share of its lane a channel's range fills (the rest keeps lanes apart).
LANE_FILL = 0.9

#: Where a channel's values are drawn: place(channel, y) -> y on the plot.
Place = Callable[[int, np.ndarray], np.ndarray]


class PlotGroupLike(Protocol):
    """What labelling a plot's y axis needs of its group (`channelplot.PlotGroup`)."""

    title: str
    y_label: str
    units: str
    channels: tuple[int, ...]


class Lanes:
    """Which lane each shown channel takes (stacked) and how its values map onto it."""

    def __init__(self) -> None:
        self.stacked = False
        self.names: dict[int, str] = {}
        self._scales: dict[int, tuple[float, float]] = {}  # channel -> (centre, span)
        self._given: dict[int, tuple[float, float]] = {}  # from set_ranges

    def set_stacked(self, on: bool) -> None:
        self.stacked = bool(on)
        self._scales = {}

    def set_ranges(self, lo: Sequence[float], hi: Sequence[float]) -> None:
        """Each channel's full range: its lane spans it (rather than its first data)."""
        self._given = {
            c: scale_of(np.array([a, b], dtype=float), None) for c, (a, b) in enumerate(zip(lo, hi))
        }
        self._scales = {}

    def forget_scales(self) -> None:
        """New data follows (new groups): scales are taken from it again."""
        self._scales = {}

    def note(self, channel: int, y: np.ndarray) -> None:
        """Stacked, a channel's scale is fixed by its given range, else its first data."""
        if self.stacked and channel not in self._scales:
            self._scales[channel] = scale_of(y, self._given.get(channel))

    def count(self, shown: Sequence[int]) -> int:
        """Lanes of a plot showing `shown` (0: it shows values, not lanes)."""
        return len(shown) if self.stacked and len(shown) > 1 else 0

    def centres(self, shown_per_plot: Iterable[Sequence[int]]) -> dict[int, int]:
        """Shown channel -> the y of its lane's centre (the plot's first channel on top)."""
        lanes: dict[int, int] = {}
        for shown in shown_per_plot:
            if self.count(shown):
                lanes.update({c: len(shown) - 1 - k for k, c in enumerate(shown)})
        return lanes

    def place(self, channel: int, y: np.ndarray, centres: dict[int, int]) -> np.ndarray:
        """y as drawn: the value itself, or in stacked mode its place in the channel's lane."""
        lane = centres.get(channel) if self.stacked else None
        if lane is None:
            return y
        centre, span = self._scales.get(channel) or scale_of(y, None)
        return lane + (np.asarray(y, dtype=float) - centre) / span * LANE_FILL


class Overlays:
    """Marks (dashed vertical lines in every plot) and flags (thick curves over traces)."""

    def __init__(self) -> None:
        self.mark_colour = "#888888"
        self.flag_colour = "#d62728"
        self.flag_curves: dict[int, pg.PlotCurveItem] = {}
        self._plots: list[pg.PlotItem] = []
        self._lines: list[list[pg.InfiniteLine]] = []  # per plot, a pool of mark lines
        self._marks = np.empty(0)
        self._flags: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def clear(self) -> None:
        """Forget the plots (they were cleared), their items, marks and flags."""
        self.flag_curves, self._plots, self._lines = {}, [], []
        self._marks, self._flags = np.empty(0), {}

    def add_plot(self, plot: pg.PlotItem, channels: Sequence[int], visible: Sequence[bool]) -> None:
        """A new plot: a flag curve over each of its channels' traces, no marks yet."""
        for channel, shown in zip(channels, visible):
            flag = pg.PlotCurveItem(
                pen=pg.mkPen(self.flag_colour, width=3), antialias=False, connect="finite"
            )
            flag.setZValue(5)
            flag.setVisible(shown)
            plot.addItem(flag, ignoreBounds=True)
            self.flag_curves[channel] = flag
        self._plots.append(plot)
        self._lines.append([])

    def clear_flags(self) -> None:
        self._flags = {}
        for curve in self.flag_curves.values():
            curve.setData(np.empty(0), np.empty(0))

    def set_marks(self, xs: np.ndarray | Sequence[float]) -> None:
        """Dashed vertical lines at `xs` in every plot (e.g. batch boundaries); [] clears."""
        self._marks = np.asarray(xs, dtype=float)
        pen = pg.mkPen(self.mark_colour, width=1, style=Qt.PenStyle.DashLine)
        for plot, pool in zip(self._plots, self._lines):
            while len(pool) < len(self._marks):
                line = pg.InfiniteLine(angle=90, movable=False, pen=pen)
                line.setZValue(-5)
                plot.addItem(line, ignoreBounds=True)
                pool.append(line)
            for i, line in enumerate(pool):
                if i < len(self._marks):
                    line.setPos(float(self._marks[i]))
                line.setVisible(i < len(self._marks))

    def marks(self) -> np.ndarray:
        return self._marks.copy()

    def set_flags(self, flags: dict[int, tuple[np.ndarray, np.ndarray]], place: Place) -> None:
        """Per channel (x, y) drawn thick over its trace, NaN between stretches; {} clears."""
        self._flags = dict(flags)
        for channel, curve in self.flag_curves.items():
            x, y = self._flags.get(channel, (np.empty(0), np.empty(0)))
            curve.setData(x, place(channel, y) if len(y) else y)

    def redraw_flags(self, place: Place) -> None:
        """Draw the flags again where their channels are drawn now (lanes changed)."""
        self.set_flags(self._flags, place)

    def flag_data(self, channel: int) -> tuple[np.ndarray, np.ndarray]:
        empty = np.empty(0)
        return self._flags.get(channel, (empty, empty))

    def set_colours(self, mark: str, flag: str) -> None:
        """Colours of the marks' lines and the flagged stretches."""
        self.mark_colour, self.flag_colour = mark, flag
        for curve in self.flag_curves.values():
            curve.setPen(pg.mkPen(flag, width=3))
        pen = pg.mkPen(mark, width=1, style=Qt.PenStyle.DashLine)
        for pool in self._lines:
            for line in pool:
                line.setPen(pen)


def label_lanes(
    plots: Sequence[pg.PlotItem],
    groups: Sequence[PlotGroupLike],
    shown: Sequence[Sequence[int]],
    lanes: Lanes,
    colour: str,
) -> None:
    """Stacked plots: the y axis names each lane's channel; others: the unit's label and ticks."""
    centres = lanes.centres(shown)
    for plot, group, channels in zip(plots, groups, shown):
        axis = plot.getAxis("left")
        if lanes.count(channels):
            ticks = [
                (centres[c], lanes.names.get(c, f"{c}")) for c in group.channels if c in centres
            ]
            axis.setTicks([ticks, []])
            plot.setLabel("left", f"{group.title} (each to its range)", color=colour)
        else:
            axis.setTicks(None)
            plot.setLabel("left", group.y_label, units=group.units or None, color=colour)


def lane_ticks(plot: pg.PlotItem) -> list[tuple[float, str]]:
    """The (lane, channel name) ticks a stacked plot's y axis shows."""
    ticks = plot.getAxis("left")._tickLevels
    return list(ticks[0]) if ticks else []


def scale_of(y: np.ndarray, given: tuple[float, float] | None) -> tuple[float, float]:
    """(centre, span) that maps a channel's range onto one lane (a flat one gets span 1)."""
    if given is not None:
        return given
    finite = np.asarray(y, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo
    return (lo + hi) / 2, span if span > 1e-12 * max(1.0, abs(hi)) else max(abs(hi), 1.0)
