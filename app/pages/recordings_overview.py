"""The part of the Recordings page's view that keeps up with the file over time.

A file too big to decimate raw gets its overview pyramid built on a worker
(progress bar, Cancel keeps what is built), then attached on the browser
worker, which also answers the exact per-channel min/max from the overview's
top level. Smaller files get their min/max read in chunks on a worker. A file
still being written is followed: its reader refreshed and its overview
extended on a timer, the view moving with its end. Mixed into `BrowserView`,
whose widgets, worker and state these methods use.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import numpy as np

from app.pages.recordings_data import FileInfo, Window, build_overview, channel_ranges
from backend.jobs import JobProgress

if TYPE_CHECKING:
    from app.pages.recordings_view import BrowserView

log = logging.getLogger(__name__)


class OverviewJobs:
    """Overview building, channel ranges and following for `BrowserView` (a mixin)."""

    # --- follow ----------------------------------------------------------------------
    def set_follow(self: BrowserView, on: bool) -> None:
        if on and self.source is not None:
            self.follow_timer.start()
            self.request_refresh()
        else:
            self.follow_timer.stop()

    def request_refresh(self: BrowserView) -> None:
        source = self.source
        if source is None or self.worker.pending("refresh") or self.build is not None:
            return  # no refresh while the build's own handle of the file is open (see data)
        self.worker.request("refresh", lambda: source.refresh())

    def _followed(self: BrowserView, info: FileInfo) -> None:
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

    # --- overview and ranges -----------------------------------------------------------
    def start_overview(self: BrowserView) -> None:
        info = self.info
        if info is None or self.build is not None:
            return
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("Building the overview (first time only)… %p%")
        self.progress.setVisible(True)
        self.cancel_build.setVisible(True)
        self.build = self.ctx.workers.run(
            lambda report, token: build_overview(info.path, info.kind, report, token),
            "overview",
            on_result=self._built,
            on_error=self._build_failed,
            on_progress=self._build_progress,
            on_cancelled=lambda: self._build_ended("Overview cancelled; zoom in to read raw rows."),
        )

    def _build_progress(self: BrowserView, value: JobProgress) -> None:
        self.progress.setValue(int(1000 * value.fraction))

    def _build_ended(self: BrowserView, text: str) -> None:
        self.build = None
        self.progress.setVisible(False)
        self.cancel_build.setVisible(False)
        if text:
            self.say(text)

    def _built(self: BrowserView, _rows: int) -> None:
        self._build_ended("")
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

    def _build_failed(self: BrowserView, exc: BaseException) -> None:
        self._build_ended(f"The overview could not be built: {getattr(exc, 'message', exc)}")

    def cancel_overview(self: BrowserView) -> None:
        if self.build is not None:
            self.build.cancel()

    def compute_ranges(self: BrowserView) -> None:
        """Per-channel min/max: from the overview if there is one, else read in chunks."""
        info, source = self.info, self.source
        if info is None or source is None or info.live:
            return  # a live file gets its ranges when it ends
        if info.overview == "ready":
            self.worker.request("ranges", source.overview_ranges)
            return
        self.ranges_job = self.ctx.workers.run(
            lambda report, token: channel_ranges(info.path, info.kind, report, token),
            "channel ranges",
            on_result=lambda result: self._ranges_done(info.path, result),
            on_error=lambda exc: log.warning("channel ranges failed: %s", exc),
            on_progress=self.ranges_progress.emit,
        )

    def _ranges_done(self: BrowserView, path: str, result: tuple[np.ndarray, np.ndarray]) -> None:
        self.ranges_job = None
        if self.info is not None and self.info.path == path:
            self.ranges_ready.emit(*result)
