"""The stream job the Streams page runs on the app's one `Runner` (app/runner.py).

The job opens the source (a file, a model file: that takes time), builds the
pipeline, announces it (its display buffer and layout reach the GUI through
the runner's `started`), then pumps the stream into the buffer until it ends
or Stop. The plot polls the buffer; statistics (rows, pace, rows waiting or
dropped) arrive as `progress`. New processing choices (`reprocess`) are
applied by the pump between two reads; the rebuilt pipeline arrives as
`reprocessed`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.pages.streams.pipeline import Pipeline, StreamSpec, pump
from app.pages.streams.stats import PumpStats
from app.runner import Announce, Runner
from app.workers import CancelToken, WorkerPool

log = logging.getLogger(__name__)


class StreamRunner(Runner):
    """One stream at a time: `started` carries the Pipeline, `progress` the PumpStats."""

    reprocessed = Signal(object)  # the Pipeline with its new processing (new layout, buffer)
    reprocess_failed = Signal(object)  # why a new processing choice was not applied

    def __init__(self, workers: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(workers, "stream", parent=parent)
        self._change: StreamSpec | None = None
        self._change_lock = threading.Lock()

    @property
    def pipeline(self) -> Pipeline | None:
        return self.session

    def start_stream(self, spec: StreamSpec, session: Any = None) -> None:
        """Open `spec`'s source (following `session` for a session stream) and pump it."""

        def job(announce: Announce, report: Any, token: CancelToken) -> PumpStats:
            pipeline = Pipeline(spec, session)
            try:
                announce(pipeline, pipeline)
                return pump(pipeline, report, token, changes=self._take, rebuilt=self._rebuilt)
            finally:
                pipeline.close()

        self.start(job)

    def reprocess(self, spec: StreamSpec) -> None:
        """Apply new processing choices to the running stream (at its next read)."""
        with self._change_lock:
            self._change = spec

    def _take(self) -> StreamSpec | None:
        with self._change_lock:
            spec, self._change = self._change, None
        return spec

    def _rebuilt(self, result: Pipeline | BaseException) -> None:
        if isinstance(result, BaseException):
            self.reprocess_failed.emit(result)
        else:
            self.reprocessed.emit(result)
