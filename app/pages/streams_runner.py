"""Runs one stream pipeline on a worker thread and reports to the GUI thread.

The worker opens the source (a file, a model file: that takes time), builds
the pipeline, hands its display buffer and layout to the GUI with `ready`,
then pumps the stream into the buffer until it ends or Stop. The plot polls
the buffer; statistics (rows, pace, rows waiting or dropped) arrive as
`stats`. New processing choices (`reprocess`) are applied by the pump between
two reads; the rebuilt pipeline arrives as `reprocessed`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.pages.streams_pipeline import Pipeline, StreamSpec, pump
from app.pages.streams_stats import PumpStats
from app.workers import CancelToken, Worker, WorkerPool

log = logging.getLogger(__name__)


class StreamRunner(QObject):
    """One stream at a time; all signals arrive on the GUI thread."""

    ready = Signal(object)  # the Pipeline (its layout and buffer), before any row is read
    reprocessed = Signal(object)  # the Pipeline with its new processing (new layout, buffer)
    reprocess_failed = Signal(object)  # why a new processing choice was not applied
    stats = Signal(object)  # PumpStats, at most 20 a second
    ended = Signal(object)  # final PumpStats (the stream ended or was stopped)
    failed = Signal(object)  # the exception that stopped it

    def __init__(self, workers: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.worker: Worker | None = None
        self.pipeline: Pipeline | None = None
        self._change: StreamSpec | None = None
        self._lock = threading.Lock()

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
            return pump(pipeline, report, token, changes=self._take, rebuilt=self._rebuilt)
        finally:
            pipeline.close()

    def reprocess(self, spec: StreamSpec) -> None:
        """Apply new processing choices to the running stream (at its next read)."""
        with self._lock:
            self._change = spec

    def _take(self) -> StreamSpec | None:
        with self._lock:
            spec, self._change = self._change, None
        return spec

    def _rebuilt(self, result: Pipeline | BaseException) -> None:
        if isinstance(result, BaseException):
            self.reprocess_failed.emit(result)
        else:
            self.reprocessed.emit(result)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, timeout_s: float = 10.0) -> bool:
        return self.worker.wait(timeout_s) if self.worker is not None else True
