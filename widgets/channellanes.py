"""Stacked lanes, boundary marks and flagged stretches for `ChannelPlot` (a mixin).

Stacked (as ephyviewer draws many channels), a plot showing two channels or
more gives each its own lane, the channel scaled onto it by its own centre and
span (`set_channel_ranges`, else the range of the data first drawn); the y
axis then names the lanes. A plot showing one channel keeps its values and
units. `set_marks` draws dashed vertical lines (batch boundaries) and
`set_flags` thick stretches over a channel's trace (samples at the ADC
limit). The data given is kept as given: `curve_data` returns it unscaled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

if TYPE_CHECKING:
    from widgets.channelplot import ChannelPlot

#: The share of its lane a channel's range fills (the rest keeps lanes apart).
LANE_FILL = 0.9


class StackedLanes:
    """Lanes, marks and flags; mixed into ChannelPlot, whose plots and curves it uses."""

    def _shown_y(self: ChannelPlot, channel: int, y: np.ndarray) -> np.ndarray:
        """y as drawn: the value itself, or in stacked mode its place in the channel's lane."""
        lane = self._lanes().get(channel) if self.stacked else None
        if lane is None:
            return y
        centre, span = self._scales.get(channel) or scale_of(y, None)
        return lane + (np.asarray(y, dtype=float) - centre) / span * LANE_FILL

    def _lanes(self: ChannelPlot) -> dict[int, int]:
        """Shown channel -> the y of its lane's centre (the group's first channel on top).

        Only plots showing two channels or more are stacked: one channel keeps its values.
        """
        lanes = {}
        for row in range(len(self.groups)):
            shown = self._shown_in(row)
            if self.stacked and len(shown) > 1:
                lanes.update({c: len(shown) - 1 - k for k, c in enumerate(shown)})
        return lanes

    def _shown_in(self: ChannelPlot, row: int) -> list[int]:
        return [c for c in self.groups[row].channels if self._visible.get(c, True)]

    def lanes_in(self: ChannelPlot, row: int) -> int:
        """How many lanes plot `row` has (0: it shows values, not lanes)."""
        shown = self._shown_in(row)
        return len(shown) if self.stacked and len(shown) > 1 else 0

    def set_stacked(self: ChannelPlot, on: bool) -> None:
        """One lane per shown channel, each scaled to its own range (or back to values)."""
        self.stacked = bool(on)
        self._scales = {}
        self._redraw()

    def set_channel_ranges(self: ChannelPlot, lo: Sequence[float], hi: Sequence[float]) -> None:
        """Each channel's full range: its lane spans it (set before the data, or redraws)."""
        self._given_scales = {
            c: scale_of(np.array([a, b], dtype=float), None) for c, (a, b) in enumerate(zip(lo, hi))
        }
        self._scales = {}
        self._redraw()

    def set_marks(self: ChannelPlot, xs: np.ndarray | Sequence[float]) -> None:
        """Dashed vertical lines at `xs` in every plot (e.g. batch boundaries); [] clears."""
        self._marks = np.asarray(xs, dtype=float)
        pen = pg.mkPen(self._mark_colour, width=1, style=Qt.PenStyle.DashLine)
        for plot, pool in zip(self.plots, self._mark_lines):
            while len(pool) < len(self._marks):
                line = pg.InfiniteLine(angle=90, movable=False, pen=pen)
                line.setZValue(-5)
                plot.addItem(line, ignoreBounds=True)
                pool.append(line)
            for i, line in enumerate(pool):
                if i < len(self._marks):
                    line.setPos(float(self._marks[i]))
                line.setVisible(i < len(self._marks))

    def marks(self: ChannelPlot) -> np.ndarray:
        return self._marks.copy()

    def set_flags(self: ChannelPlot, flags: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        """Per channel (x, y) drawn thick over its trace, NaN between stretches; {} clears."""
        self._flags = dict(flags)
        for channel, curve in self.flag_curves.items():
            x, y = self._flags.get(channel, (np.empty(0), np.empty(0)))
            curve.setData(x, self._shown_y(channel, y) if len(y) else y)

    def flag_data(self: ChannelPlot, channel: int) -> tuple[np.ndarray, np.ndarray]:
        empty = np.empty(0)
        return self._flags.get(channel, (empty, empty))

    def _redraw(self: ChannelPlot) -> None:
        for channel in self._raw:
            if self.stacked and channel not in self._scales:
                scale = self._given_scales.get(channel)
                self._scales[channel] = scale_of(self._raw[channel][1], scale)
        for channel, curve in self.curves.items():
            x, y = self._raw.get(channel, (np.empty(0), np.empty(0)))
            curve.setData(x, self._shown_y(channel, y))
        self.set_flags(self._flags)
        self._style_lanes()
        self.fit_y()

    def _style_lanes(self: ChannelPlot) -> None:
        """Stacked: the y axis names each lane's channel; else the unit's label and ticks."""
        lanes = self._lanes()
        for row, plot in enumerate(self.plots):
            axis = plot.getAxis("left")
            group = self.groups[row]
            if self.lanes_in(row):
                ticks = [
                    (lanes[c], self._names.get(c, f"{c}")) for c in group.channels if c in lanes
                ]
                axis.setTicks([ticks, []])
                plot.setLabel("left", f"{group.title} (each to its range)", color=self._foreground)
            else:
                axis.setTicks(None)
                plot.setLabel(
                    "left", group.y_label, units=group.units or None, color=self._foreground
                )

    def set_names(self: ChannelPlot, names: Sequence[str]) -> None:
        """Channel names (the stacked y axis labels each lane with one)."""
        self._names = dict(enumerate(names))
        self._style_lanes()

    def set_mark_colours(self: ChannelPlot, mark: str, flag: str) -> None:
        """Colours of the batch-boundary lines and the flagged stretches."""
        self._mark_colour, self._flag_colour = mark, flag
        for curve in self.flag_curves.values():
            curve.setPen(pg.mkPen(flag, width=3))
        self.set_marks(self._marks)

    def lane_ticks(self: ChannelPlot, row: int) -> list[tuple[float, str]]:
        """The stacked y axis's (lane, channel name) ticks of plot `row`."""
        ticks = self.plots[row].getAxis("left")._tickLevels
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
