"""Resume an interrupted recording from the Recordings page, on a worker thread.

`backend.sampling.session.resume_session` rebuilds the device the recording names
(same seed and settings, so the resumed batches equal an uninterrupted run),
reopens the file for writing and samples the remaining batches. The Sampling
page's `SessionRunner` only starts new sessions, so this small runner does
the same for resumed ones: session built and run on a worker, progress as
signals, Stop honoured between batches with the outputs at 0 V and every
completed batch kept.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.workers import CancelToken, Worker, WorkerPool
from backend.sampling.session import SamplingSession, SessionResult, resume_session

log = logging.getLogger(__name__)


class ResumeRunner(QObject):
    """One resumed session at a time; signals arrive on the GUI thread."""

    started = Signal(str)  # the recording is open for writing again
    progress = Signal(object)  # backend.sampling.session.Progress
    finished = Signal(object)  # SessionResult
    failed = Signal(object)  # it could not be resumed (nothing was sampled)

    def __init__(self, workers: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.worker: Worker | None = None
        self.session: SamplingSession | None = None
        self.path: str | None = None
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.worker is not None and self.worker.running

    def start(self, path: str, **device_options: Any) -> None:
        if self.active:
            raise RuntimeError("a recording is already being resumed")
        self.path, self.session = path, None
        self.worker = self.workers.run(
            lambda report, token: self._run(path, report, token, device_options),
            name="resume",
            on_result=self.finished.emit,
            on_error=self.failed.emit,
            on_progress=self.progress.emit,
        )

    def _run(self, path: str, report: Any, token: CancelToken, options: dict) -> SessionResult:
        session = resume_session(path, on_progress=report, cancel=token, **options)
        with self._lock:
            self.session = session
        self.started.emit(path)
        log.info("resuming %s at batch %d", path, session.writer.batches_done)
        return session.run()

    def stop(self) -> None:
        """End after the batch in flight (0 V, every completed batch kept)."""
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, timeout_s: float = 30.0) -> bool:
        return self.worker.wait(timeout_s) if self.worker is not None else True
