"""The Recordings view's slow jobs: a file's overview pyramid and its channel ranges.

A file too big to decimate raw gets its overview pyramid built on a worker
(progress bar, Cancel keeps what is built); the view then attaches it on its
browser worker, which also answers the exact per-channel min/max from the
overview's top level. Smaller files get their min/max read in chunks on a
worker. The view owns one `OverviewJobs` and hears from it through signals;
this knows nothing of the view.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar, QToolButton, QWidget

from app.pages.recordings.data import build_overview, channel_ranges
from app.workers import Worker, WorkerPool
from backend.jobs import JobProgress

log = logging.getLogger(__name__)


class OverviewJobs(QObject):
    """Builds one file's overview and reads its channel ranges on workers, one of each at a time."""

    built = Signal()  # the pyramid is complete: attach it
    ended = Signal(str)  # the build ended: why not complete ('' when it is)
    ranges_ready = Signal(str, object, object)  # the file's path, per-channel min, max
    ranges_progress = Signal(object)  # JobProgress

    def __init__(self, workers: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.build: Worker | None = None
        self.ranges_job: Worker | None = None
        self.progress = QProgressBar()
        self.progress.setObjectName("overview_progress")
        self.progress.setVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop building the overview; what is built is kept")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)

    @property
    def building(self) -> bool:
        return self.build is not None

    def start(self, path: str, kind: str) -> None:
        """Build the overview of `path` (a no-op while one is being built)."""
        if self.build is not None:
            return
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("Building the overview (first time only)… %p%")
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.build = self.workers.run(
            lambda report, token: build_overview(path, kind, report, token),
            "overview",
            on_result=lambda _rows: self._ended("", built=True),
            on_error=lambda exc: self._ended(
                f"The overview could not be built: {getattr(exc, 'message', exc)}"
            ),
            on_progress=self._on_progress,
            on_cancelled=lambda: self._ended("Overview cancelled; zoom in to read raw rows."),
        )

    def _on_progress(self, value: JobProgress) -> None:
        self.progress.setValue(int(1000 * value.fraction))

    def _ended(self, text: str, built: bool = False) -> None:
        self.build = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.ended.emit(text)
        if built:
            self.built.emit()

    def cancel(self) -> None:
        if self.build is not None:
            self.build.cancel()

    def read_ranges(self, path: str, kind: str) -> None:
        """Per-channel min/max of `path`, read in chunks on a worker."""
        self.ranges_job = self.workers.run(
            lambda report, token: channel_ranges(path, kind, report, token),
            "channel ranges",
            on_result=lambda result: self._ranges_done(path, result),
            on_error=lambda exc: log.warning("channel ranges failed: %s", exc),
            on_progress=self.ranges_progress.emit,
        )

    def _ranges_done(self, path: str, result: tuple) -> None:
        self.ranges_job = None
        self.ranges_ready.emit(path, *result)

    def stop(self) -> None:
        """Cancel both jobs and wait (one chunk at most: the sidecar must close before reuse)."""
        for job in (self.build, self.ranges_job):
            if job is not None and job.running:
                job.cancel()
                job.wait(10)
        self.build = self.ranges_job = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
