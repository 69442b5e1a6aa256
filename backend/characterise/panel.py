"""The live device panel: DC levels (or a small wave) per electrode, read back continuously.

The panel drives the device in a held session (`backend.devices.held`): frame
after frame (0.1 s by default) continues from the level the outputs hold, so
an electrode set to 0.4 V stays at 0.4 V while its current is read, without
returning to 0 V in between. What each frame sends comes from `PanelSignal`
(`panelwave`): levels moved towards the levels asked for at the slew rate, an
optional small sine on them, every sample inside its electrode's range and no
step above the held session's bound; the session and the device check every
frame again before a driver sees it.

The session starts from 0 V and always ends there, ramped: on stop, cancel,
error, Ctrl+C, exit and `pause()` the outputs move to 0 V at the slew rate
(never slower than the config's own ramps), and the device itself ramps down
from wherever a failed frame stopped. Nothing is written unless `record()` is
asked for; the recorded frames then form an ordinary recording (one batch per
frame), which is closed with its batch count as the planned count, so it is
never offered for resuming (its inputs are not a config's waves).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from backend.acquisition.safety import MAX_SLEW_V_PER_S
from backend.characterise.device import driven
from backend.characterise.panelwave import PanelSettings, PanelSignal
from backend.config import SamplingConfig
from backend.devices import Device
from backend.devices.held import HeldOutputs
from backend.errors import Cancelled, SamplelabError
from backend.jobs import CancelToken, JobControl, ProgressFn
from backend.recording.layout import default_recording_path
from backend.recording.writer import RecordingWriter

log = logging.getLogger(__name__)

PANEL_DATA_NAME = "device_panel"
#: Planned batches of a panel recording while it is written (set to the real count at the end).
_OPEN_ENDED_BATCHES = 10**9


@dataclass(frozen=True)
class PanelFrame:
    """One frame as measured: its inputs (V) and outputs (nA), all of it read back."""

    index: int
    t0: float
    inputs: np.ndarray  # (points, n_inputs)
    outputs: np.ndarray  # (points, n_outputs)
    levels: np.ndarray  # (n_inputs,) DC levels at the frame's end
    recording: str | None  # the recording this frame went into


@dataclass
class PanelSummary:
    frames: int = 0
    recordings: list[str] = field(default_factory=list)


class DevicePanel:
    """Live levels on a device; setters are thread-safe, `run` belongs to one worker thread.

    `paced` (default) keeps frames to their real duration on devices that run
    faster (a simulated device without real-time pacing), so the live view runs in
    real time.
    """

    def __init__(
        self,
        device: Device,
        settings: PanelSettings | None = None,
        on_frame: Callable[[PanelFrame], None] | None = None,
        paced: bool = True,
    ) -> None:
        self.device = device
        self.config: SamplingConfig = device.config
        self.fs = float(self.config.fs)
        self.on_frame = on_frame
        self.paced = paced
        self.signal = PanelSignal(device.ranges, self.fs, MAX_SLEW_V_PER_S)
        self.ranges = self.signal.ranges
        self._lock = threading.Lock()
        self._settings = self._checked(settings or PanelSettings())
        self._targets = np.zeros(device.n_inputs)
        self._levels = np.zeros(device.n_inputs)
        self._running = threading.Event()
        self._running.set()
        self._record_to: Path | None = None
        self._stop_recording = False
        self._writer: RecordingWriter | None = None
        self._recorded = 0
        self.frames = 0
        self.summary = PanelSummary()
        self.held: HeldOutputs | None = None

    # --- settings (any thread) ----------------------------------------------------------
    def _checked(self, settings: PanelSettings) -> PanelSettings:
        problems = settings.problems(self.fs)
        if problems:
            raise SamplelabError("; ".join(problems), "Change the panel settings.")
        return settings

    @property
    def settings(self) -> PanelSettings:
        with self._lock:
            return self._settings

    def set_settings(self, settings: PanelSettings) -> None:
        """New wave / slew settings from the next frame on (the frame length is fixed)."""
        settings = self._checked(settings)
        with self._lock:
            if settings.frame_s != self._settings.frame_s and self.frames:
                raise SamplelabError("the frame length cannot change while the panel runs")
            self._settings = settings

    def set_level(self, electrode: int, volts: float) -> float:
        """Ask for a DC level; it is clamped to the electrode's range. Returns the level used."""
        lo, hi = self.ranges[electrode]
        value = float(volts)
        if not math.isfinite(value):
            raise SamplelabError(f"level {volts!r} V for electrode {electrode} is not a number")
        value = min(max(value, lo), hi)
        with self._lock:
            self._targets[electrode] = value
        return value

    def set_levels(self, volts: np.ndarray) -> np.ndarray:
        return np.array([self.set_level(k, v) for k, v in enumerate(np.asarray(volts, float))])

    def zero_levels(self) -> None:
        with self._lock:
            self._targets[:] = 0.0

    @property
    def targets(self) -> np.ndarray:
        with self._lock:
            return self._targets.copy()

    @property
    def levels(self) -> np.ndarray:
        """The DC levels the electrodes reached at the end of the last frame."""
        with self._lock:
            return self._levels.copy()

    def pause(self) -> None:
        """After the frame in flight: outputs ramped to 0 V until `resume` (levels restart
        from 0 V)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def record(self, out_dir: str | os.PathLike | None = None, path: str | None = None) -> None:
        """Record from the next frame on into a new recording (in `out_dir`, or at `path`)."""
        if path is None:
            path = str(
                default_recording_path(out_dir or self.config.save_directory, PANEL_DATA_NAME)
            )
        with self._lock:
            self._record_to, self._stop_recording = Path(path), False

    def stop_recording(self) -> None:
        with self._lock:
            self._stop_recording, self._record_to = True, None

    @property
    def recording_path(self) -> str | None:
        writer = self._writer
        return str(writer.path) if writer is not None else None

    # --- the run (one worker thread) --------------------------------------------------------
    def run(
        self,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        max_frames: int | None = None,
    ) -> PanelSummary:
        """Frames until cancelled (raises Cancelled) or `max_frames` ran; 0 V, ramped, and
        the device closed however it ends."""
        control = JobControl(progress, cancel)
        summary = self.summary = PanelSummary()
        status, message = "complete", ""
        try:
            with driven(self.device), HeldOutputs(self.device, MAX_SLEW_V_PER_S) as held:
                self.held = held
                try:
                    while max_frames is None or summary.frames < max_frames:
                        control.check()
                        if not self._running.is_set():
                            self._hold_zero(held, cancel)
                            continue
                        self._recording_requests(summary)
                        began = time.monotonic()
                        self._step(held)
                        summary.frames += 1
                        control.report("live", summary.frames, 0)
                        self._pace(began, cancel)
                finally:
                    self._to_zero(held)
        except Cancelled:
            status = "cancelled"
            raise
        except BaseException as exc:
            status, message = "failed", str(exc) or type(exc).__name__
            raise
        finally:
            self.held = None
            self._close_recording("complete" if status == "cancelled" else status, message)
        return summary

    def end_slew(self) -> float:
        """How fast the outputs go to 0 V: the slew rate, but never slower than the config's
        own ramps (from the level held now), and never above the held session's bound."""
        level = float(np.max(np.abs(self.signal.output), initial=0.0))
        ramp = level / self.config.input_data.ramp_time
        return min(max(self.settings.slew_v_per_s, ramp), MAX_SLEW_V_PER_S)

    def _to_zero(self, held: HeldOutputs) -> None:
        """Ramp to 0 V at `end_slew`; if that fails the session and device ramp at their pace."""
        try:
            held.to_zero(self.end_slew())
        except Exception as exc:
            log.error("could not ramp the panel's outputs to 0 V: %s", exc)
        finally:
            self.signal.reset()
            with self._lock:
                self._levels = np.zeros_like(self._levels)

    def _hold_zero(self, held: HeldOutputs, cancel: CancelToken | None) -> None:
        """Paused: ramp to 0 V now, levels restart from 0 V; wait for resume or cancel."""
        self._to_zero(held)
        self.device.set_zero()  # every configured output, as a sampling pause does
        while not self._running.wait(0.05):
            if cancel is not None and cancel.cancelled:
                return

    def _pace(self, began: float, cancel: CancelToken | None) -> None:
        if not self.paced:
            return
        remaining = round(self.settings.frame_s * self.fs) / self.fs - (time.monotonic() - began)
        if remaining > 0:
            if cancel is not None:
                cancel.wait(remaining)
            else:
                time.sleep(remaining)

    def _step(self, held: HeldOutputs) -> PanelFrame:
        """Measure one frame in the held session and publish it."""
        with self._lock:
            settings, targets = self._settings, self._targets.copy()
        points = round(settings.frame_s * self.fs)
        self.signal.output = held.level  # the frame starts where the outputs are
        data = self.signal.next(targets, settings, points)
        t0 = self.frames * points / self.fs
        wall, began = time.time(), time.monotonic()
        outputs = held.frame(data, self.frames, t0)
        levels = self.signal.level.copy()
        with self._lock:
            self._levels = levels
        inputs = data.T
        writer = self._writer
        if writer is not None:
            writer.append(
                self._recorded, inputs, outputs, np.zeros(len(data)), t0, wall,
                time.monotonic() - began,
            )  # fmt: skip
            self._recorded += 1
        frame = PanelFrame(self.frames, t0, inputs, outputs, levels, self.recording_path)
        self.frames += 1
        if self.on_frame is not None:
            try:
                self.on_frame(frame)
            except Exception:  # a broken view must never stop the device panel
                log.exception("a panel listener failed; the panel goes on")
        return frame

    # --- recording ------------------------------------------------------------------------
    def _recording_requests(self, summary: PanelSummary) -> None:
        with self._lock:
            start, stop = self._record_to, self._stop_recording
            self._record_to, self._stop_recording = None, False
        if stop or (start is not None and self._writer is not None):
            self._close_recording("complete", "")
        if start is not None:
            self._writer = RecordingWriter.create(
                start, self.recording_config(), self._description(), seed=0
            )
            self._recorded = 0
            summary.recordings.append(str(start))

    def recording_config(self) -> SamplingConfig:
        """The config a panel recording stores: frames as batches of frame_s."""
        config = self.config.model_copy(deep=True)
        config.data_name = PANEL_DATA_NAME
        config.input_data.batch_time = round(self.settings.frame_s * self.fs) / self.fs
        config.input_data.number_batches = _OPEN_ENDED_BATCHES
        return config

    def _description(self) -> dict:
        s = self.settings
        panel = {
            "frame_s": s.frame_s,
            "slew_v_per_s": s.slew_v_per_s,
            "wave_amplitude_v": s.wave_amplitude_v,
            "wave_frequency_hz": s.wave_frequency_hz,
        }
        return {**self.device.describe(), "panel": panel}

    def _close_recording(self, status: str, message: str) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            writer.close(status, message)
        finally:
            finish_panel_recording(writer.path, writer.batches_done)


def finish_panel_recording(path: str | os.PathLike, batches: int) -> None:
    """Make the planned batch count the recorded one: complete, never resumable."""
    try:
        with h5py.File(path, "r+") as f:
            f.attrs["batches_planned"] = int(batches)
            config = json.loads(f.attrs["config_json"])
            config["input_data"]["number_batches"] = max(1, int(batches))
            f.attrs["config_json"] = json.dumps(config)
    except (OSError, KeyError, ValueError) as exc:
        log.error("could not finish the panel recording %s: %s", path, exc)
