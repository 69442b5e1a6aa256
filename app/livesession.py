"""One sampling session run from the GUI: the backend session on a worker thread.

The worker builds the session (device and recording are created off the GUI
thread: opening hardware can take seconds), feeds every batch to a
`LiveBuffer` that the plots poll, and reports progress as Qt signals. Pause,
resume and stop go straight to the backend session, which honours them
between batches; stop always ends with the device at 0 V and the recording
closed with its completed batches.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.workers import CancelToken, Worker, WorkerPool
from backend.acquisition.livebuffer import LiveBuffer
from backend.channels import ChannelLayout
from backend.config import SamplingConfig
from backend.streams.device import live_listener

if TYPE_CHECKING:  # loaded when a session starts, not before the window shows (h5py)
    from backend.devices import Device
    from backend.sampling.session import SamplingSession, SessionResult

log = logging.getLogger(__name__)

#: The live history keeps at most this many rows (all channels), whatever the batch size.
MAX_LIVE_ROWS = 1_000_000
HISTORY_BATCHES = 16


@dataclass
class SessionRequest:
    """Everything a session needs, decided on the GUI thread."""

    config: SamplingConfig
    device: Device | str = "simulated"
    out_dir: str | os.PathLike | None = None
    seed: int | None = None
    device_options: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # stored in the recording


def live_buffer_for(config: SamplingConfig, history_batches: int = HISTORY_BATCHES) -> LiveBuffer:
    """A ring buffer holding the last few batches of every input and output channel."""
    bp = config.batch_points
    batches = max(1, min(history_batches, MAX_LIVE_ROWS // max(bp, 1)))
    layout = ChannelLayout.of_config(config)
    return LiveBuffer(
        len(layout), batches * bp, names=list(layout.names), units=list(layout.units), fs=config.fs
    )


class SessionRunner(QObject):
    """Starts, steers and reports one session at a time; signals arrive on the GUI thread."""

    state_changed = Signal(str)  # starting | running | paused | stopping | idle
    started = Signal(str)  # the recording's path
    progress = Signal(object)  # backend.sampling.session.Progress
    finished = Signal(object)  # SessionResult (complete, cancelled or failed)
    failed = Signal(object)  # the exception that kept the session from starting

    def __init__(self, workers: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.buffer: LiveBuffer | None = None
        self.session: SamplingSession | None = None
        self.worker: Worker | None = None
        self.state = "idle"
        self._lock = threading.Lock()
        self._watchers: list[Callable[[SamplingSession], None]] = []
        self.started.connect(self.mark_running)

    @property
    def active(self) -> bool:
        return self.state != "idle"

    def current_session(self) -> SamplingSession | None:
        """The session now running (built, not finished), for extra listeners; else None."""
        with self._lock:
            session = self.session
        return session if self.active else None

    def watch_next(self, watcher: Callable[[SamplingSession], None]) -> None:
        """Call `watcher(session)` as the next session is built, before its first batch.

        It runs on the sampling thread, so it must be quick (add a listener, say):
        for views that have to see every batch, which `started` is too late for.
        """
        with self._lock:
            self._watchers.append(watcher)

    def unwatch(self, watcher: Callable[[SamplingSession], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._watchers.remove(watcher)

    def start(self, request: SessionRequest) -> LiveBuffer:
        """Begin a session; returns the live buffer its batches will appear in."""
        if self.active:
            raise RuntimeError("a session is already running")
        self.buffer = buffer = live_buffer_for(request.config)
        self.session = None
        self._set_state("starting")
        self.worker = self.workers.run(
            lambda report, token: self._run(request, buffer, report, token),
            name="sampling",
            on_result=self._on_result,
            on_error=self._on_error,
            on_progress=self.progress.emit,
            # Enough for a progress bar and an ETA; every update costs the GUI thread.
            progress_interval_s=0.2,
        )
        return buffer

    def _run(
        self,
        request: SessionRequest,
        buffer: LiveBuffer,
        report: Callable[[Any], None],
        token: CancelToken,
    ) -> SessionResult:
        from backend.sampling.session import start_session

        session = start_session(
            request.config,
            request.device,
            out_dir=request.out_dir,
            seed=request.seed,
            on_progress=report,
            notes=request.notes,
            cancel=token,  # a stop at any point reaches the session
            **request.device_options,
        )
        session.add_listener(live_listener(buffer))
        with self._lock:
            self.session = session
            watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            try:
                watcher(session)
            except Exception:  # a view's problem must not stop the sampling
                log.exception("a session watcher failed")
        self.started.emit(str(session.writer.path))
        log.info(
            "sampling %d batches x %d rows into %s",
            len(session.plan),
            session.plan.batch_points,
            session.writer.path,
        )
        return session.run()

    # --- steering (GUI thread) ------------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            session = self.session
        if session is not None and self.state == "running":
            session.pause()
            self._set_state("paused")

    def resume(self) -> None:
        with self._lock:
            session = self.session
        if session is not None and self.state == "paused":
            session.resume()
            self._set_state("running")

    def stop(self) -> None:
        """Ask the session to end after the batch in flight (0 V, recording kept)."""
        if self.worker is not None and self.active and self.state != "stopping":
            self._set_state("stopping")
            self.worker.cancel()

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the session's thread ended (used when the window closes)."""
        return self.worker.wait(timeout_s) if self.worker is not None else True

    # --- outcome --------------------------------------------------------------------
    def mark_running(self) -> None:
        if self.state == "starting":
            self._set_state("running")

    def _on_result(self, result: SessionResult) -> None:
        self._set_state("idle")
        self.finished.emit(result)

    def _on_error(self, exc: BaseException) -> None:
        self._set_state("idle")
        self.failed.emit(exc)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
