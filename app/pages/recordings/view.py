"""The Recordings page's plot: any file's channels, zoomable, followable, with a cursor.

The file is opened, decimated and read on one `LatestOnlyWorker` thread, so
only the newest view and cursor requests are served while the user zooms. The
first overview comes from the overview pyramid when its sidecar exists (a
few ms for 10^8 rows); a file too big to decimate raw without one gets it
built on a second worker with a progress bar (Cancel keeps what is built;
the next open continues), while windows short enough are still read raw.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from app.browserworker import LatestOnlyWorker
from app.context import AppContext
from app.pages.recordings.data import (
    RAW_LIMIT_VALUES,
    FileInfo,
    OpenedFile,
    Window,
)
from app.pages.recordings.lanes import CursorReadout, curves_of, lane_colours, unit_groups
from app.pages.recordings.meta import file_sections
from app.pages.recordings.overview import OverviewJobs
from app.theme import LIGHT, Theme
from widgets.channelpicker import ChannelPicker
from widgets.channelplot import ChannelPlot

log = logging.getLogger(__name__)

FOLLOW_INTERVAL_MS = 500


class BrowserView(QWidget):
    """Plot, channel picker, cursor readout and overview progress for one open file."""

    opened = Signal(object)  # FileInfo
    open_failed = Signal(object)  # the exception
    info_changed = Signal(object)  # FileInfo after a follow step
    ranges_ready = Signal(object, object)  # per-channel min, max
    metadata_ready = Signal(str, object)  # path, sections for the metadata tree (or the error)
    ranges_progress = Signal(object)  # JobProgress
    drawn = Signal()  # curves were replaced with an answer

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.raw_limit = RAW_LIMIT_VALUES
        self.worker = LatestOnlyWorker(
            ("open", "meta", "attach", "refresh", "ranges", "cursor", "view")
        )
        self.worker.answered.connect(self._on_answer)
        self.worker.failed.connect(self._on_failed)
        self.source: OpenedFile | None = None  # touched only by jobs on the worker
        self._current: OpenedFile | None = None  # worker thread's own reference
        self.info: FileInfo | None = None
        self.window: Window | None = None  # the answer drawn last
        self.values: tuple[int, np.ndarray] | None = None  # cursor row and its raw values
        self._points_used = 0  # the resolution last asked for
        self._on_released: Callable[[], None] | None = None
        self.theme = LIGHT
        self.stacked = True  # one lane per channel, each to its own range
        self.plot = ChannelPlot(interactive=True)
        self.plot.setObjectName("browser_plot")
        self.picker = ChannelPicker()
        self.picker.setObjectName("browser_channels")
        self.readout = CursorReadout()
        self.message = QLabel()
        self.message.setObjectName("browser_message")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        self.overview = OverviewJobs(ctx.workers, self)
        self.overview.built.connect(self._built)
        self.overview.ended.connect(lambda text: text and self.say(text))
        self.overview.ranges_ready.connect(self._ranges_done)
        self.overview.ranges_progress.connect(self.ranges_progress)
        self.follow_timer = QTimer(self)
        self.follow_timer.setInterval(FOLLOW_INTERVAL_MS)
        self.follow_timer.timeout.connect(self.request_refresh)
        self._lay_out()
        self.plot.range_changed.connect(self.request_view)
        self.plot.resized.connect(self._on_resized)
        self.plot.cursor_moved.connect(self.request_cursor)
        self.picker.visibility_changed.connect(self._on_visibility)

    def _lay_out(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.overview.progress, 1)
        bar.addWidget(self.overview.cancel_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.picker)
        split.addWidget(self.plot)
        split.setStretchFactor(1, 1)
        split.setSizes([200, 900])
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(bar)
        column.addWidget(self.message)
        column.addWidget(split, 1)
        column.addWidget(self.readout)

    # --- follow (a file still being written) ---------------------------------------
    def set_follow(self, on: bool) -> None:
        if on and self.source is not None:
            self.follow_timer.start()
            self.request_refresh()
        else:
            self.follow_timer.stop()

    def request_refresh(self) -> None:
        source = self.source
        if source is None or self.worker.pending("refresh") or self.overview.building:
            return  # no refresh while the build's own handle of the file is open (see data)
        self.worker.request("refresh", lambda: source.refresh())

    def _followed(self, info: FileInfo) -> None:
        old = self.info
        self.info = info
        if old is not None and info.rows != old.rows:
            x0, x1 = self.plot.x_range()
            old_end = self.x_of(max(old.rows - 1, 1))
            self._set_extent(info.rows)
            end = self.x_of(max(info.rows - 1, 1))
            if x1 >= old_end - 1e-9 * max(1.0, abs(old_end)):  # the view showed the end
                x0 = 0.0 if x0 <= 0.0 else max(0.0, end - (x1 - x0))
                self.plot.set_x_range(x0, end)
                self.request_view(x0, end)
        self.info_changed.emit(info)
        if not info.live:
            self.follow_timer.stop()

    # --- overview and ranges (built and read by `self.overview`) ------------------------
    def _built(self) -> None:
        source = self.source
        if source is None:
            return
        x0, x1 = self.plot.x_range()
        start, stop = max(0, math.floor(self.row_of(x0))), math.ceil(self.row_of(x1)) + 1
        points = self.points()

        def attach() -> tuple[FileInfo, Window]:
            source.attach_overview()
            return source.info(), source.envelope(start, stop, points)

        self.worker.request("attach", attach)
        self.worker.request("ranges", source.overview_ranges)

    def compute_ranges(self) -> None:
        """Per-channel min/max: from the overview if there is one, else read in chunks."""
        info, source = self.info, self.source
        if info is None or source is None or info.live:
            return  # a live file gets its ranges when it ends
        if info.overview == "ready":
            self.worker.request("ranges", source.overview_ranges)
        else:
            self.overview.read_ranges(info.path, info.kind)

    def _ranges_done(self, path: str, lo: np.ndarray, hi: np.ndarray) -> None:
        if self.info is not None and self.info.path == path:
            self.ranges_ready.emit(lo, hi)

    # --- opening and closing ---------------------------------------------------------
    def open(self, path: str) -> None:
        """Show `path` (the previous file is closed on the worker first)."""
        self.overview.stop()
        self.worker.discard("meta", "attach", "refresh", "ranges", "cursor", "view")
        self.source, self.info, self.window, self.values = None, None, None, None
        self.readout.clear()  # the previous file's values are not this file's
        self.plot.set_cursor(None)
        self.follow_timer.stop()
        points, limit = self.points(), self.raw_limit
        self._points_used = points
        self.say(f"Opening {path}…")
        self.worker.request("open", lambda: self._open_job(path, points, limit))

    def _open_job(self, path: str, points: int, raw_limit: int) -> tuple:
        self._close_current()
        source = OpenedFile(path, raw_limit)
        try:
            if source.needs_overview():
                source.attach_overview()
            window = source.envelope(0, source.rows, points)
        except BaseException:
            source.close()
            raise
        self._current = source
        return source, source.info(), window

    def _close_current(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            current.close()

    def load_metadata(self, path: str) -> None:
        """Facts about `path` for the metadata tree, read on the worker with its reader."""

        def job() -> tuple[str, Any]:
            current = self._current
            reader = current.reader if current is not None and str(current.path) == path else None
            try:
                return path, file_sections(path, reader)
            except Exception as exc:  # shown in the tree, like the open error above the plot
                return path, exc

        self.worker.request("meta", job)

    def release(self, then: Callable[[], None]) -> None:
        """Close the file (every handle of ours), then call `then` on the GUI thread."""
        self.overview.stop()
        self.follow_timer.stop()
        self.worker.discard("meta", "attach", "refresh", "ranges", "cursor", "view")
        self.source = None
        self._on_released = then
        self.worker.request("open", lambda: self._close_current())

    def shutdown(self) -> None:
        self.overview.stop()
        self.follow_timer.stop()
        self.worker.close(final=self._close_current)

    # --- answers from the worker -----------------------------------------------------
    def _on_answer(self, slot: str, number: int, result: Any) -> None:
        if slot == "open":
            if number != self.worker.latest("open"):
                return  # a newer open or release is on its way; its job closes this file
            if result is None:
                then, self._on_released = self._on_released, None
                if then is not None:
                    then()
                return
            self._opened(*result)
        elif slot == "meta":
            self.metadata_ready.emit(*result)
        elif not self.worker.is_newer(slot, number) or self.source is None:
            return
        elif slot in ("view", "attach"):
            if slot == "attach":
                self.info = result[0]
                self._set_extent(self.info.rows)
                result = result[1]
            self._show(result)
        elif slot == "cursor":
            self.values = result
            self._show_readout()
        elif slot == "refresh":
            self._followed(result)
        elif slot == "ranges" and result is not None:
            self.ranges_ready.emit(*result)

    def _on_failed(self, slot: str, number: int, exc: BaseException) -> None:
        if slot == "open":
            if number == self.worker.latest("open"):
                self.source = self.info = None
                self.plot.set_groups([])
                self.picker.set_channels([], [], [])
                self.readout.clear()
                self.open_failed.emit(exc)
            return
        log.warning("browser %s request failed: %s", slot, exc)
        if slot == "refresh":
            self.follow_timer.stop()
        self.say(f"Reading failed: {getattr(exc, 'message', exc)}", error=True)

    def _opened(self, source: OpenedFile, info: FileInfo, window: Window) -> None:
        self.source, self.info = source, info
        self.say("")
        groups = unit_groups(info.names, info.units)
        colours = lane_colours(info.units, self.theme.curve_colors, self.theme.output_colors)
        x_label, x_units = ("Time", "s") if info.fs else ("Sample", "")
        self.plot.reset_visibility()
        self.plot.set_groups(groups, colours, x_label, x_units)
        self.plot.set_names(info.names)
        self.plot.set_colours_theme(self.theme.plot_background, self.theme.plot_foreground)
        self.plot.set_stacked(self.stacked)
        headings = [(f"{g.title} ({g.units})" if g.units else g.title, g.channels) for g in groups]
        self.picker.set_channels(info.names, info.units, colours, headings)
        self._set_extent(info.rows)
        self.plot.set_x_range(0.0, self.x_of(max(info.rows - 1, 1)))
        self._show(window)
        self.opened.emit(info)
        if info.overview == "needed":
            self.overview.start(info.path, info.kind)
        else:
            self.compute_ranges()

    # --- coordinates ------------------------------------------------------------------
    def x_of(self, row: float) -> float:
        fs = self.info.fs if self.info is not None else None
        return row / fs if fs else float(row)

    def row_of(self, x: float) -> float:
        fs = self.info.fs if self.info is not None else None
        return x * fs if fs else x

    def points(self) -> int:
        """Two points per pixel column of the data area (min and max), at least 400."""
        return max(400, 2 * self.plot.pixel_width())

    def _set_extent(self, rows: int) -> None:
        self.plot.set_x_limits(0.0, self.x_of(max(rows - 1, 1)), self.x_of(16))

    # --- views ------------------------------------------------------------------------
    def request_view(self, x0: float, x1: float) -> None:
        """Load the window [x0, x1] (axis units) at the plot's resolution; newest wins."""
        source = self.source
        if source is None:
            return
        start = max(0, math.floor(self.row_of(x0)))
        stop = math.ceil(self.row_of(x1)) + 1
        points = self._points_used = self.points()
        self.worker.request("view", lambda: source.envelope(start, stop, points))

    def _on_resized(self, _width: int) -> None:
        """Redraw at the new width's detail when it changed by more than a tenth."""
        if self.source is not None and abs(self.points() - self._points_used) > (
            0.1 * self._points_used
        ):
            self.request_view(*self.plot.x_range())

    def show_rows(self, start: int, stop: int) -> None:
        """Zoom to rows [start, stop) as a user's wheel would, and load them."""
        x0, x1 = self.x_of(start), self.x_of(stop - 1)
        self.plot.set_x_range(x0, x1)
        self.request_view(x0, x1)

    def show_everything(self) -> None:
        if self.info is not None:
            self.show_rows(0, max(self.info.rows, 2))

    def _show(self, window: Window) -> None:
        env = window.envelope
        if env is None:
            self.say(
                "This window is too long to read row by row; it appears when the overview "
                "is built (zoom in to see raw data meanwhile)."
            )
            return
        if self.message.text().startswith("This window"):
            self.say("")
        self.window = window
        lines, flags, marks = curves_of(window, self.info)
        self.plot.set_lines(lines)
        self.plot.set_flags(flags)
        if marks is not None:
            self.plot.overlays.set_marks(marks)
        self.drawn.emit()

    # --- cursor -----------------------------------------------------------------------
    def request_cursor(self, x: float) -> None:
        source, info = self.source, self.info
        if source is None or info is None or info.rows < 1:
            return
        row = min(max(round(self.row_of(x)), 0), info.rows - 1)  # never before the data
        self.worker.request("cursor", lambda: (row, source.values_at(row)))

    def show_cursor_at(self, x: float) -> None:
        """Put the cursor at `x` as the mouse would, and read the values there."""
        self.plot.set_cursor(x)
        self.request_cursor(x)

    def _show_readout(self) -> None:
        if self.values is None or self.info is None:
            return
        row, values = self.values
        shown = [self.plot.channel_visible(i) for i in range(len(self.info.names))]
        self.readout.show_values(self.info, row, values, self.x_of(row), shown)

    def _on_visibility(self, channel: int, shown: bool) -> None:
        self.plot.set_channel_visible(channel, shown)
        self._show_readout()

    # --- messages and looks -------------------------------------------------------------
    def say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        colour = self.theme.error if error else self.theme.text
        self.message.setStyleSheet(f"color: {colour};")

    def set_stacked(self, on: bool) -> None:
        """Channels in lanes (each to its own range) or overlaid on one value axis."""
        self.stacked = bool(on)
        self.plot.set_stacked(self.stacked)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.plot.set_colours_theme(theme.plot_background, theme.plot_foreground)
        self.plot.overlays.set_colours(theme.plot_foreground, theme.error)
        if self.info is not None:
            colours = lane_colours(self.info.units, theme.curve_colors, theme.output_colors)
            self.plot.set_colours(colours)
            self.picker.set_colours(colours)
