"""Runs one stream pipeline on a worker thread and reports to the GUI thread.

The worker opens the source (a file, a model file: that takes time), builds
the pipeline, hands its display buffer and layout to the GUI with `ready`,
then pumps the stream into the buffer until it ends or Stop. The plot polls
the buffer; statistics (rows, rate, dropped rows) arrive as `stats`.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.pages.streams_pipeline import Pipeline, PumpStats, StreamSpec, pump
from app.workers import CancelToken, Worker, WorkerPool

log = logging.getLogger(__name__)


class StreamRunner(QObject):
    """One stream at a time; all signals arrive on the GUI thread."""

    ready = Signal(object)  # the Pipeline (its layout and buffer), before any row is read
    stats = Signal(object)  # PumpStats, at most 20 a second
    ended = Signal(object)  # final PumpStats (the stream ended or was stopped)
    failed = Signal(object)  # the exception that stopped it

    def __init__(self, workers: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.worker: Worker | None = None
        self.pipeline: Pipeline | None = None

    @property
    def active(self) -> bool:
        return self.worker is not None and self.worker.running

    def start(self, spec: StreamSpec, session: Any = None) -> None:
        if self.active:
            raise RuntimeError("a stream is already running")
        self.pipeline = None
        self.worker = self.workers.run(
            lambda report, token: self._run(spec, session, report, token),
            name="stream",
            on_result=self.ended.emit,
            on_error=self.failed.emit,
            on_progress=self.stats.emit,
        )

    def _run(self, spec: StreamSpec, session: Any, report: Any, token: CancelToken) -> PumpStats:
        pipeline = Pipeline(spec, session)
        try:
            self.pipeline = pipeline
            self.ready.emit(pipeline)
            return pump(pipeline, report, lambda: token.cancelled)
        finally:
            pipeline.close()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, timeout_s: float = 10.0) -> bool:
        return self.worker.wait(timeout_s) if self.worker is not None else True
