"""Live plots of a running session, fed by polling its LiveBuffer on a timer.

The sampling thread only appends to the buffer; this view reads it at
`rate_hz` on the GUI thread, skips the frame when no batch arrived, and draws
min/max envelopes of a few thousand points per channel: the newest batch
(inputs in V, output current in nA) and the scrolling history of the last
batches the buffer holds, with the newest sample at time 0, so its axis
stands still like a scope's. Curves get two points per pixel column at most:
min/max per column looks exactly like the full data.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QWidget

from app.theme import LIGHT, Theme
from backend.acquisition.livebuffer import LiveBuffer
from widgets.waveplot import WavePlot

DEFAULT_RATE_HZ = 25  # smooth to the eye; every frame costs the sampler GIL time
DEFAULT_MAX_POINTS = 4000  # cap; the plot's width in pixels sets the usual number
#: The history plots redraw every this many frames: they scroll slowly and cost
#: as much as the current-batch plots, whose data changes every frame.
HISTORY_EVERY = 2


class LivePlots(QWidget):
    """Four plots: inputs and outputs, for the current batch and the recent history."""

    def __init__(
        self,
        parent: QWidget | None = None,
        rate_hz: float = DEFAULT_RATE_HZ,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> None:
        super().__init__(parent)
        self.max_points = max_points
        self.inputs_batch = WavePlot("Inputs: current batch", "Voltage", "V", "Time in batch")
        self.outputs_batch = WavePlot("Output: current batch", "Current", "nA", "Time in batch")
        self.inputs_history = WavePlot("Inputs: recent batches", "Voltage", "V", "Time to now")
        self.outputs_history = WavePlot("Output: recent batches", "Current", "nA", "Time to now")
        for plot, name in (
            (self.inputs_batch, "plot_inputs_batch"),
            (self.outputs_batch, "plot_outputs_batch"),
            (self.inputs_history, "plot_inputs_history"),
            (self.outputs_history, "plot_outputs_history"),
        ):
            plot.setObjectName(name)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        grid.addWidget(self.inputs_batch, 0, 0)
        grid.addWidget(self.inputs_history, 0, 1)
        grid.addWidget(self.outputs_batch, 1, 0)
        grid.addWidget(self.outputs_history, 1, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, round(1000 / rate_hz)))
        self.timer.timeout.connect(self.refresh)
        self.buffer: LiveBuffer | None = None
        self.batch_points = 1
        self.n_inputs = 0
        self._seen = -1
        self._history_seen = -1
        self.theme = LIGHT
        self.ticks = 0  # timer ticks handled
        self.draws = 0  # frames actually drawn (new data)
        self.draw_seconds = 0.0  # time spent drawing, for the benchmark

    def plots(self) -> list[WavePlot]:
        return [self.inputs_batch, self.outputs_batch, self.inputs_history, self.outputs_history]

    def attach(
        self,
        buffer: LiveBuffer,
        batch_points: int,
        n_inputs: int,
        input_range: tuple[float, float] | None = None,
    ) -> None:
        """Follow `buffer` (inputs then outputs per row) until `detach`.

        `input_range` (V) fixes the input plots' y axis, e.g. the electrodes' ranges.
        """
        self.buffer, self.batch_points, self.n_inputs = buffer, max(1, batch_points), n_inputs
        names = buffer.names
        self._seen = self._history_seen = -1
        self.inputs_batch.set_channels(names[:n_inputs], self.theme.curve_colors)
        self.inputs_history.set_channels(names[:n_inputs], self.theme.curve_colors)
        self.outputs_batch.set_channels(names[n_inputs:], self.theme.output_colors)
        self.outputs_history.set_channels(names[n_inputs:], self.theme.output_colors)
        history = buffer.capacity // self.batch_points
        self.inputs_history.set_title(f"Inputs: last {history} batches")
        self.outputs_history.set_title(f"Output: last {history} batches")
        for plot in (self.inputs_batch, self.outputs_batch):
            plot.set_x_range(0, self.batch_points / buffer.fs)
        for plot in (self.inputs_history, self.outputs_history):
            plot.set_x_range(-buffer.capacity / buffer.fs, 0)
        if input_range is not None:
            for plot in (self.inputs_batch, self.inputs_history):
                plot.set_y_range(*input_range)
        self.clear()
        self.timer.start()

    def points_for(self, plot: WavePlot) -> int:
        """Two points per pixel column of the plot's data area, within [400, max_points]."""
        width = int(plot.plot_item.getViewBox().width())
        return max(400, min(self.max_points, 2 * width))

    def detach(self) -> None:
        """Draw what arrived last, then stop polling (the plots keep showing it)."""
        self.refresh(final=True)
        self.timer.stop()

    def refresh(self, final: bool = False) -> bool:
        """Draw the newest data if any arrived since the last frame; True if drawn.

        `final` draws every plot, history included (the session just ended).
        """
        self.ticks += 1
        buffer = self.buffer
        if buffer is None:
            return False
        if buffer.total == self._seen:
            if final and self._history_seen != self._seen:
                self._draw_history(self._seen)
            return False
        started = time.perf_counter()
        total = buffer.total
        bp, n_in, fs = self.batch_points, self.n_inputs, buffer.fs
        channels = range(buffer.channels)
        first = max(total - bp, buffer.first_available)
        batch = buffer.envelope(first, total, self.points_for(self.inputs_batch))
        lines = [batch.line(c) for c in channels]
        lines = [((x - first) / fs, y) for x, y in lines]
        self.inputs_batch.set_lines(lines[:n_in])
        self.outputs_batch.follow_y(lines[n_in:])
        self.outputs_batch.set_lines(lines[n_in:])
        if self.draws % HISTORY_EVERY == 0 or final:
            self._draw_history(total)
        self._seen = total
        self.draws += 1
        self.draw_seconds += time.perf_counter() - started
        return True

    def _draw_history(self, total: int) -> None:
        buffer, n_in, fs = self.buffer, self.n_inputs, self.buffer.fs
        history = buffer.envelope(
            buffer.first_available, total, self.points_for(self.inputs_history)
        )
        lines = [history.line(c) for c in range(buffer.channels)]
        lines = [((x - (total - 1)) / fs, y) for x, y in lines]
        self.inputs_history.set_lines(lines[:n_in])
        self.outputs_history.follow_y(lines[n_in:])
        self.outputs_history.set_lines(lines[n_in:])
        self._history_seen = total

    def clear(self) -> None:
        for plot in self.plots():
            plot.clear_data()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for plot in self.plots():
            plot.set_colours_theme(theme.plot_background, theme.plot_foreground)
        for plot in (self.inputs_batch, self.inputs_history):
            plot.set_colours(theme.curve_colors)
        for plot in (self.outputs_batch, self.outputs_history):
            plot.set_colours(theme.output_colors)
