"""The sampling session: plan -> safety check -> device -> recording -> listeners.

`SamplingSession.run()` is synchronous and meant for a worker thread (the CLI
calls it directly). Other threads may call `pause()`, `resume()` and `cancel()`
at any time; they take effect between batches. Whatever happens, the device is
driven to 0 V and closed, and the recording is closed with every completed
batch and a status saying how the session ended.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.acquisition.quality import Saturation, SaturationCounter
from backend.acquisition.safety import check_batch
from backend.acquisition.waves import BatchPlan, RampedBatch
from backend.config import SamplingConfig
from backend.devices import Device, make_device
from backend.devices.simulated import simulated_options
from backend.errors import Cancelled, SamplelabError
from backend.jobs import CancelToken
from backend.recording.guard import confined_target
from backend.recording.layout import default_recording_path
from backend.recording.reader import Recording
from backend.recording.writer import RecordingWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """Where a session stands, reported after every batch."""

    batch: int  # batches done, including those of a resumed recording
    total: int
    rows: int
    elapsed: float  # seconds in this run, pauses excluded
    eta: float | None  # seconds to go, from this run's pace
    saturation: Saturation | None = None  # outputs at the ADC limit, this run's batches

    @property
    def fraction(self) -> float:
        return self.batch / self.total if self.total else 1.0


@dataclass(frozen=True)
class BatchResult:
    """One completed batch as listeners (live buffer, plots) receive it."""

    index: int
    first_row: int
    inputs: np.ndarray  # (rows, n_inputs) V
    outputs: np.ndarray  # (rows, n_outputs) nA
    phases: np.ndarray


@dataclass(frozen=True)
class SessionResult:
    status: str  # complete | cancelled | failed
    path: str
    batches_done: int
    rows: int
    elapsed: float
    error: BaseException | None = None


class SamplingSession:
    """Runs a batch plan on a device into a recording; pausable and cancellable."""

    def __init__(
        self,
        plan: BatchPlan,
        device: Device,
        writer: RecordingWriter,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.plan = plan
        self.device = device
        self.writer = writer
        self.on_progress = on_progress
        self._listeners: list[Callable[[BatchResult], None]] = []
        self._running = threading.Event()
        self._running.set()
        self.token = cancel if cancel is not None else CancelToken()  # the job contract's token
        self.token.on_cancel(self._running.set)  # a paused session wakes up to stop
        self.state = "idle"
        self.saturation = SaturationCounter(plan.config)

    # --- control from other threads -------------------------------------------
    def add_listener(self, listener: Callable[[BatchResult], None]) -> None:
        """Called on the sampling thread after each batch is on disk; must not block."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[BatchResult], None]) -> None:
        """Stop calling `listener`; a no-op if it was never added."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # --- the run -----------------------------------------------------------------
    def run(self) -> SessionResult:
        """Sample every remaining batch; returns how it ended, never leaves 0 V unset."""
        started = time.monotonic()
        paused_for = 0.0
        first = self.writer.batches_done
        status, error = "complete", None
        self.state = "running"
        try:
            self.device.open()
            # The next batch is generated while this one is on the device and on disk.
            with ThreadPoolExecutor(1, thread_name_prefix="samplelab-plan") as planner:
                upcoming = (
                    planner.submit(self.plan.batch, first) if first < len(self.plan) else None
                )
                for index in range(first, len(self.plan)):
                    batch = upcoming.result()
                    if index + 1 < len(self.plan):
                        upcoming = planner.submit(self.plan.batch, index + 1)
                    paused_for += self._wait_if_paused()
                    self.token.raise_if_cancelled()
                    self._sample_one(batch)
                    elapsed = time.monotonic() - started - paused_for
                    self._report(index + 1, first, elapsed)
        except Cancelled:
            status = "cancelled"
        except SamplelabError as exc:
            status, error = "failed", exc
            log.info("sampling stopped: %s", exc)  # the caller reports `error` to the user
        except BaseException as exc:  # KeyboardInterrupt, bugs: still leave safely
            status, error = ("cancelled" if isinstance(exc, KeyboardInterrupt) else "failed"), exc
            if not isinstance(exc, KeyboardInterrupt):
                log.exception("sampling stopped by an unexpected error")
        finally:
            self._leave_safely(status, error)
        self.state = status
        return SessionResult(
            status=status,
            path=str(self.writer.path),
            batches_done=self.writer.batches_done,
            rows=self.writer.rows,
            elapsed=time.monotonic() - started - paused_for,
            error=error,
        )

    def _wait_if_paused(self) -> float:
        if self._running.is_set():
            return 0.0
        self.state = "paused"
        since = time.monotonic()
        self.device.set_zero()
        self._running.wait()
        self.state = "running"
        return time.monotonic() - since

    def _sample_one(self, batch: RampedBatch) -> None:
        index = batch.index
        check_batch(batch.data, self.device.ranges, channel_names=self.device.activation_channels)
        wall, t = time.time(), time.monotonic()
        outputs = self.device.sample(batch)
        duration = time.monotonic() - t
        first_row = self.writer.rows
        inputs = batch.inputs
        self.writer.append(index, inputs, outputs, batch.phases, batch.t0, wall, duration)
        self.saturation.add(index, outputs)
        if self._listeners:
            result = BatchResult(index, first_row, inputs, outputs, batch.phases)
            for listener in tuple(self._listeners):  # listeners may leave meanwhile
                try:
                    listener(result)
                except Exception:  # a broken view must never stop a measurement
                    log.exception("a batch listener failed; sampling continues")

    def _report(self, done: int, first: int, elapsed: float) -> None:
        if self.on_progress is None:
            return
        this_run = done - first
        remaining = len(self.plan) - done
        eta = elapsed / this_run * remaining if this_run else None
        self.on_progress(
            Progress(done, len(self.plan), self.writer.rows, elapsed, eta, self.saturation.latest)
        )

    def _leave_safely(self, status: str, error: BaseException | None) -> None:
        """0 V first, then close the device, then the recording; each step guarded.

        Every step runs whatever happened in the one before, a KeyboardInterrupt
        included (a second Ctrl+C during shutdown): the recording is always closed.
        """
        for step, what in (
            (self.device.set_zero, "drive the device to 0 V"),
            (self.device.close, "close the device cleanly"),
        ):
            try:
                step()
            except KeyboardInterrupt:
                log.warning("interrupted while stopping; still closing safely")
            except Exception as exc:
                log.error("could not %s: %s", what, exc)
        message = "" if error is None else (str(error) or type(error).__name__)
        for _ in range(2):  # once more if an interrupt cut the first try short
            try:
                self.writer.close(status, message)
                return
            except KeyboardInterrupt:
                log.warning("interrupted while closing the recording; closing it again")
            except SamplelabError as exc:
                log.error("%s", exc)
                return


def new_seed() -> int:
    """A fresh session seed; it is stored in the recording, so runs stay reproducible."""
    return secrets.randbelow(2**31)


def start_session(
    config: SamplingConfig,
    device: Device | str = "simulated",
    out_dir: str | os.PathLike | None = None,
    path: str | os.PathLike | None = None,
    seed: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    notes: dict[str, str] | None = None,
    cancel: CancelToken | None = None,
    **device_options: Any,
) -> SamplingSession:
    """A ready session writing a new recording (in `out_dir`, or at `path`).

    `device` is a Device or a kind ('simulated', 'nidaq') built with `seed` and
    `device_options`; the recording is created only after the device exists.
    `notes` (sample ID, operator, free text) are stored in the recording.
    """
    seed = new_seed() if seed is None else int(seed)
    folder = None
    if path is None:
        folder = out_dir or config.save_directory
        path = default_recording_path(folder, config.data_name)
    confined_target(path, folder)  # refused before any device is made
    if isinstance(device, str):
        if device == "simulated":
            device_options.setdefault("seed", seed)
        device = make_device(device, config, **device_options)
    writer = _with_open_device(
        device,
        lambda: RecordingWriter.create(
            path, config, device.describe(), seed, notes=notes, folder=folder
        ),
    )
    return SamplingSession(BatchPlan(config, seed), device, writer, on_progress, cancel)


def _with_open_device(
    device: Device, make_writer: Callable[[], RecordingWriter]
) -> RecordingWriter:
    """Open the device first: one that cannot open leaves no empty recording behind."""
    device.open()
    try:
        return make_writer()
    except BaseException:
        device.close()
        raise


def resume_session(
    path: str | os.PathLike,
    device: Device | str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    **device_options: Any,
) -> SamplingSession:
    """Continue an interrupted recording from its last complete batch.

    With the recording's own seed and device settings, the resumed batches are
    identical to those of an uninterrupted run.
    """
    with Recording(path) as rec:
        config, seed, described = rec.config, rec.seed, rec.device
    if device is None or isinstance(device, str):
        kind = device or described.get("kind", "simulated")
        if kind == "simulated" and described.get("kind") == "simulated":
            device_options = {**simulated_options(described), **device_options}
        device = make_device(kind, config, **device_options)
    writer = _with_open_device(device, lambda: RecordingWriter.resume(path))
    return SamplingSession(BatchPlan(config, seed), device, writer, on_progress, cancel)
