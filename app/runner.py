"""One long job at a time, steered from the GUI: a sampling session (new or resumed), a stream.

A `Runner` runs `job(announce, report, token)` on a worker thread. The job
builds what it drives (a `SamplingSession`, a stream `Pipeline`: opening a
device or a file takes time, so off the GUI thread), calls
`announce(handle, value)` once it runs, then works until it ends or `token`
is cancelled. The runner keeps the handle for the GUI (pause, resume, extra
listeners), tells views that must see everything (`watch_next`) before the
first batch, and reports a small state machine as signals that arrive on the
GUI thread: starting -> running <-> paused -> stopping -> idle.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.workers import CancelToken, Worker, WorkerPool

log = logging.getLogger(__name__)

Announce = Callable[[Any, Any], None]
RunJob = Callable[[Announce, Callable[[Any], None], CancelToken], Any]


class Runner(QObject):
    """Starts, steers and reports one job at a time; signals arrive on the GUI thread."""

    state_changed = Signal(str)  # starting | running | paused | stopping | idle
    started = Signal(object)  # what the job announced once it runs (a recording's path...)
    progress = Signal(object)  # the job's progress reports (throttled)
    finished = Signal(object)  # the job's result (for a session: complete, cancelled, failed)
    failed = Signal(object)  # the exception that ended the job (for a session: never started)

    def __init__(
        self,
        workers: WorkerPool,
        name: str,
        progress_interval_s: float = 0.05,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.workers = workers
        self.name = name
        self.progress_interval_s = progress_interval_s
        self.handle: Any = None  # what the running job announced (a session, a pipeline)
        self.worker: Worker | None = None
        self.state = "idle"
        self._lock = threading.Lock()
        self._watchers: list[Callable[[Any], None]] = []
        self.started.connect(self._mark_running)

    @property
    def active(self) -> bool:
        return self.state != "idle"

    @property
    def session(self) -> Any:
        """The handle the job announced (kept after it ended, for its final state)."""
        with self._lock:
            return self.handle

    def current(self) -> Any:
        """The handle of the job now running (announced, not ended), for extra listeners."""
        with self._lock:
            handle = self.handle
        return handle if self.active else None

    def watch_next(self, watcher: Callable[[Any], None]) -> None:
        """Call `watcher(handle)` as the next job announces itself, before its first batch.

        It runs on the worker thread, so it must be quick (add a listener, say): for
        views that have to see every batch, which `started` is too late for.
        """
        with self._lock:
            self._watchers.append(watcher)

    def unwatch(self, watcher: Callable[[Any], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._watchers.remove(watcher)

    def start(self, job: RunJob) -> None:
        """Run `job` on a worker thread; refused (RuntimeError) while one runs."""
        if self.active:
            raise RuntimeError(f"a {self.name} is already running")
        with self._lock:
            self.handle = None
        # The worker first, then the state: a Stop asked for as the state turns
        # "starting" (a view reacting to it) must cancel this job, not the last one.
        self.worker = self.workers.run(
            lambda report, token: job(self._announce, report, token),
            name=self.name,
            on_result=self._on_result,
            on_error=self._on_error,
            on_progress=self.progress.emit,
            on_cancelled=lambda: self._set_state("idle"),  # ended early: nothing to report
            progress_interval_s=self.progress_interval_s,
        )
        self._set_state("starting")

    def _announce(self, handle: Any, value: Any) -> None:
        """Called by the job (worker thread) once what it drives exists."""
        with self._lock:
            self.handle = handle
            watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            try:
                watcher(handle)
            except Exception:  # a view's problem must not stop the job
                log.exception("a %s watcher failed", self.name)
        self.started.emit(value)

    # --- steering (GUI thread) ------------------------------------------------------
    def pause(self) -> None:
        handle = self.session
        if handle is not None and self.state == "running":
            handle.pause()
            self._set_state("paused")

    def resume(self) -> None:
        handle = self.session
        if handle is not None and self.state == "paused":
            handle.resume()
            self._set_state("running")

    def stop(self) -> None:
        """Ask the job to end (a session: after the batch in flight, 0 V, recording kept)."""
        if self.worker is not None and self.active and self.state != "stopping":
            self._set_state("stopping")
            self.worker.cancel()

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the job's thread ended (used when the window closes)."""
        return self.worker.wait(timeout_s) if self.worker is not None else True

    # --- outcome --------------------------------------------------------------------
    def _mark_running(self, _value: Any = None) -> None:
        if self.state == "starting":
            self._set_state("running")

    def _on_result(self, result: Any) -> None:
        self._set_state("idle")
        self.finished.emit(result)

    def _on_error(self, exc: BaseException) -> None:
        self._set_state("idle")
        self.failed.emit(exc)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
