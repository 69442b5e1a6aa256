"""The one session service: who drives the device, new and resumed sessions, their results.

Everything that drives the device goes through here, so "one thing drives the
device at a time" is checked in one place (`busy_reason`, `start_new`,
`resume`): a new session (Sampling page), a resumed one (Recordings page) and
the Device page's tools (registered with `add_user`). Pages subscribe to the
service's runners and signals instead of reaching into each other: the
Streams page follows `sampling`, the source lists take `recordings` (this
run's recordings, newest first), the Device page reads `inventory` and
`next_config`.

A session's worker builds it (device and recording are created off the GUI
thread: opening hardware can take seconds), feeds every batch to a
`LiveBuffer` that the plots poll, and reports progress as Qt signals. Pause,
resume and stop go to the backend session, which honours them between
batches; stop always ends with the device at 0 V and the recording closed
with its completed batches.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.runner import Announce, Runner
from app.workers import CancelToken, WorkerPool
from backend.acquisition.livebuffer import LiveBuffer
from backend.channels import ChannelLayout
from backend.config import SamplingConfig

if TYPE_CHECKING:  # loaded when a session starts, not before the window shows (h5py)
    from backend.devices import Device
    from backend.sampling.session import SessionResult

log = logging.getLogger(__name__)

#: The live history keeps at most this many rows (all channels), whatever the batch size.
MAX_LIVE_ROWS = 1_000_000
HISTORY_BATCHES = 16
ONE_DRIVER = "only one thing may drive the device at a time"


class DeviceBusy(RuntimeError):
    """Something else drives the device; the message says what."""


@dataclass
class SessionRequest:
    """Everything a new session needs, decided on the GUI thread."""

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


class SessionRecordings(QObject):
    """Paths of this run's recordings that hold data, newest first (for source lists)."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._paths: list[str] = []

    def note(self, result: Any = None, *_more: Any) -> None:
        """Remember a finished session's recording if it kept any rows (anything else: ignored)."""
        path = getattr(result, "path", None)
        if not path or not getattr(result, "rows", 0):
            return
        path = str(Path(path))
        if path in self._paths:
            self._paths.remove(path)
        self._paths.insert(0, path)
        self.changed.emit()

    def paths(self) -> list[str]:
        """The recordings still on disk, newest first."""
        return [p for p in self._paths if Path(p).exists()]


class SessionService(QObject):
    """Owns the sessions that drive the device; one of them (or one registered user) at a time."""

    finished = Signal(object)  # the SessionResult of any session, new or resumed
    inventory_changed = Signal(object)  # NI discovery's result (False: it failed)

    def __init__(self, workers: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        # Enough for a progress bar and an ETA; every update costs the GUI thread.
        self.sampling = Runner(workers, "sampling", progress_interval_s=0.2, parent=self)
        self.resuming = Runner(workers, "resume", parent=self)
        self.recordings = SessionRecordings(self)
        self.last_result: SessionResult | None = None
        #: backend.devices.discovery.NIInventory once known; False if discovery failed
        self.inventory: Any = None
        self.discovery_error: BaseException | None = None
        #: the config the Sampling page would run next (a default for other tools), or None
        self.next_config: SamplingConfig | None = None
        self._users: list[tuple[object, Callable[[], bool], str]] = [
            (self.sampling, lambda: self.sampling.active, "a sampling session is running"),
            (self.resuming, lambda: self.resuming.active, "a recording is being resumed"),
        ]
        for runner in (self.sampling, self.resuming):
            runner.finished.connect(self._on_finished)

    # --- one driver at a time -----------------------------------------------------------
    def add_user(self, owner: object, busy: Callable[[], bool], what: str) -> None:
        """Register something else that drives the device while `busy()` (a Device tool)."""
        self._users.append((owner, busy, what))

    def busy_reason(self, asking: object = None) -> str | None:
        """What drives the device now, other than `asking` ('a sampling session is running')."""
        for owner, busy, what in self._users:
            if owner is not asking and busy():
                return what
        return None

    def _claim(self, asking: object) -> None:
        reason = self.busy_reason(asking)
        if reason:
            raise DeviceBusy(f"{reason}; {ONE_DRIVER}")

    # --- sessions -------------------------------------------------------------------
    def start_new(self, request: SessionRequest) -> LiveBuffer:
        """Begin a session (DeviceBusy if anything drives the device); returns its live buffer."""
        self._claim(self.sampling)
        buffer = live_buffer_for(request.config)

        def job(announce: Announce, report: Callable[[Any], None], token: CancelToken) -> Any:
            from backend.sampling.session import start_session
            from backend.streams.device import live_listener

            session = start_session(
                request.config,
                request.device,
                out_dir=request.out_dir,
                seed=request.seed,
                on_progress=report,
                cancel=token,  # a stop at any point reaches the session
                notes=request.notes,
                **request.device_options,
            )
            session.add_listener(live_listener(buffer))
            return _run_session(session, announce, token, "sampling")

        self.sampling.start(job)
        return buffer

    def resume(self, path: str, **device_options: Any) -> None:
        """Continue an interrupted recording (DeviceBusy if anything drives the device)."""
        self._claim(self.resuming)

        def job(announce: Announce, report: Callable[[Any], None], token: CancelToken) -> Any:
            from backend.sampling.session import resume_session

            session = resume_session(path, on_progress=report, cancel=token, **device_options)
            return _run_session(session, announce, token, "resuming")

        self.resuming.start(job)

    def _on_finished(self, result: SessionResult) -> None:
        self.last_result = result
        self.recordings.note(result)
        self.finished.emit(result)

    # --- devices ----------------------------------------------------------------------
    def discover_devices(self) -> None:
        """Ask the NI driver what hardware there is, on a worker; `inventory_changed` says."""

        def job(_report: Any, _token: Any) -> Any:
            from backend.devices.discovery import ni_inventory

            return ni_inventory()

        self.workers.run(
            job, "device discovery", on_result=self._on_inventory, on_error=self._on_discovery_error
        )

    def _on_inventory(self, inventory: Any) -> None:
        self.inventory = inventory
        log.info("devices: %s", inventory.message)
        self.inventory_changed.emit(inventory)

    def _on_discovery_error(self, exc: BaseException) -> None:
        """A bug in discovery must not cost the user the simulated device."""
        log.error("NI-DAQmx device discovery failed: %s", exc, exc_info=exc)
        self.discovery_error = exc
        self.inventory = False  # known: nothing usable
        self.inventory_changed.emit(False)

    # --- closing ----------------------------------------------------------------------
    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Stop every session and wait: the device ends at 0 V, the data is kept."""
        for runner in (self.sampling, self.resuming):
            if runner.active:
                runner.stop()
                if not runner.wait(timeout_s):
                    log.error("the %s session did not stop within %.0f s", runner.name, timeout_s)


def _run_session(session: Any, announce: Announce, token: CancelToken, verb: str) -> Any:
    """Announce a built session, let Stop reach it, and run it to its end (worker thread)."""
    announce(session, str(session.writer.path))  # the session took `token`: Stop reaches it
    path, done = session.writer.path, session.writer.batches_done
    if verb == "resuming":
        log.info("resuming %s at batch %d", path, done)
    else:
        log.info(
            "sampling %d batches x %d rows into %s",
            len(session.plan),
            session.plan.batch_points,
            path,
        )
    return session.run()
