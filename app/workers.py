"""The bridge between backend jobs and the GUI thread.

A backend job is a plain function `job(report, token)`: it calls `report(value)`
to publish progress and watches `token` (a `CancelToken`) to stop early. A
`Worker` runs it on its own thread and turns what happens into Qt signals,
which Qt delivers on the GUI thread (queued: the emitting thread is not the
receiver's). Progress is throttled so a fast job cannot flood the event loop;
the newest value is never lost, it is delivered before the job's outcome.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from backend.errors import Cancelled
from backend.jobs import CancelToken

log = logging.getLogger(__name__)

Report = Callable[[Any], None]
Job = Callable[[Report, "CancelToken"], Any]


class Worker(QObject):
    """Runs one job on a thread; emits progress, then exactly one outcome, then `done`."""

    progress = Signal(object)
    succeeded = Signal(object)  # the job's return value
    failed = Signal(object)  # the exception the job raised (traceback attached)
    cancelled = Signal()
    done = Signal()

    def __init__(
        self,
        job: Job,
        name: str = "job",
        progress_interval_s: float = 0.05,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.job = job
        self.name = name
        self.token = CancelToken()
        self.progress_interval_s = progress_interval_s
        self._thread: threading.Thread | None = None
        self._pending: list[Any] = []  # newest unsent progress value, at most one
        self._last_emit = 0.0
        self._lock = threading.Lock()
        self._finished = threading.Event()

    # --- GUI thread -------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"worker {self.name!r} was already started")
        # Not a daemon: a session must close its recording before the process exits.
        self._thread = threading.Thread(target=self._run, name=f"samplelab-{self.name}")
        self._thread.start()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._finished.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has ended (its signals may still be queued); True if it did."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # --- worker thread ----------------------------------------------------------
    def report(self, value: Any) -> None:
        """Publish progress; values closer together than the interval are coalesced."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_emit < self.progress_interval_s:
                self._pending = [value]
                return
            self._pending = []
            self._last_emit = now
        self._emit(self.progress, value)

    def _flush_progress(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            self._emit(self.progress, pending[0])

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        """Emit from the worker thread; a window already gone has no one left to tell."""
        try:
            signal.emit(*args)
        except RuntimeError:  # "Signal source has been deleted": the QObject died first
            log.debug("a worker's receiver was deleted before its job ended")

    def _run(self) -> None:
        try:
            result = self.job(self.report, self.token)
        except Cancelled:
            outcome, args = self.cancelled, ()
        except BaseException as exc:  # reported to the GUI, never lost on a thread
            if not isinstance(exc, Exception):
                log.error("job %s stopped: %r", self.name, exc)
            outcome, args = self.failed, (exc,)
        else:
            outcome, args = self.succeeded, (result,)
        self._flush_progress()
        # Finished before telling anyone: a handler may run on the GUI thread at once,
        # and must already see `running` False (e.g. to re-enable a Start button).
        self._finished.set()
        self._emit(outcome, *args)
        self._emit(self.done)


class WorkerPool(QObject):
    """Keeps every running worker alive and lets the window stop them all on exit."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers: list[Worker] = []

    def run(
        self,
        job: Job,
        name: str = "job",
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        progress_interval_s: float = 0.05,
    ) -> Worker:
        """Start `job` on a thread with the given GUI-thread callbacks; returns its worker."""
        worker = Worker(job, name, progress_interval_s, parent=self)
        if on_result is not None:
            worker.succeeded.connect(on_result)
        if on_error is not None:
            worker.failed.connect(on_error)
        if on_progress is not None:
            worker.progress.connect(on_progress)
        if on_cancelled is not None:
            worker.cancelled.connect(on_cancelled)
        worker.done.connect(lambda: self._forget(worker))
        self._workers.append(worker)
        worker.start()
        return worker

    def _forget(self, worker: Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
            worker.deleteLater()

    def running(self) -> list[Worker]:
        return [w for w in self._workers if w.running]

    def cancel_all(self) -> None:
        for worker in list(self._workers):
            worker.cancel()

    def wait_all(self, timeout_s: float = 30.0) -> bool:
        """Wait for every worker's thread to end; True if all did within the timeout."""
        deadline = time.monotonic() + timeout_s
        ok = True
        for worker in list(self._workers):
            ok &= worker.wait(max(0.0, deadline - time.monotonic()))
        return ok
