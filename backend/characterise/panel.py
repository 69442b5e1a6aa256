"""The live device panel: DC levels (or a small wave) per electrode, read back continuously.

The panel drives the device frame by frame, and every frame is an ordinary
sampling batch: the sampler's ramp from 0 V, the batch part, the ramp back to
0 V, checked by the sampling safety check inside `Device.sample`. In the
batch part each electrode moves from its last level towards the level the
user asked for, at most `slew_v_per_s` (so a slider jump becomes a gentle
ramp over a few frames), and holds it; an optional small sine rides on the
level, shrunk near the ends of the range so that no sample can leave it. A
level asked for outside an electrode's range is clamped to the range.

Between frames, on pause, cancel, error or exit the outputs are at 0 V: the
frame in flight ends there by construction, and `driven` sets 0 V and closes
the device when the run ends. Nothing is written unless `record()` is asked
for; the recorded frames then form an ordinary recording (one batch per
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

from backend.characterise.device import driven
from backend.config import GLOBAL_VOLTAGE_LIMIT, SamplingConfig
from backend.devices import Device
from backend.errors import Cancelled, SamplelabError
from backend.jobs import CancelToken, JobControl, ProgressFn
from backend.recording import RecordingWriter, default_recording_path
from backend.waves import RampedBatch, ramped, wave_time

log = logging.getLogger(__name__)

DEFAULT_FRAME_S = 0.2
DEFAULT_SLEW_V_PER_S = 1.0
#: No setting may move a level faster than this (V/s).
MAX_SLEW_V_PER_S = 10.0
#: The wave's frequency must stay well below the DAC rate: at most fs / this.
MIN_POINTS_PER_PERIOD = 10
PANEL_DATA_NAME = "device_panel"
#: Planned batches of a panel recording while it is written (set to the real count at the end).
_OPEN_ENDED_BATCHES = 10**9


@dataclass(frozen=True)
class PanelSettings:
    """Frame length (batch part, s), level slew rate (V/s), wave amplitude (V) and frequency."""

    frame_s: float = DEFAULT_FRAME_S
    slew_v_per_s: float = DEFAULT_SLEW_V_PER_S
    wave_amplitude_v: float = 0.0
    wave_frequency_hz: float = 1.0

    def problems(self, fs: float) -> list[str]:
        out = []
        if not (math.isfinite(self.frame_s) and round(self.frame_s * fs) >= 2):
            out.append(f"frame of {self.frame_s} s: needs at least 2 points at {fs:g} Hz")
        if not (math.isfinite(self.slew_v_per_s) and 0 < self.slew_v_per_s <= MAX_SLEW_V_PER_S):
            out.append(f"slew rate {self.slew_v_per_s} V/s: give 0 < rate <= {MAX_SLEW_V_PER_S}")
        if not (math.isfinite(self.wave_amplitude_v) and self.wave_amplitude_v >= 0):
            out.append(f"wave amplitude {self.wave_amplitude_v} V: give a number >= 0")
        f = self.wave_frequency_hz
        if not (math.isfinite(f) and 0 < f <= fs / MIN_POINTS_PER_PERIOD):
            out.append(f"wave frequency {f} Hz: give 0 < f <= {fs / MIN_POINTS_PER_PERIOD:g} Hz")
        return out


@dataclass(frozen=True)
class PanelFrame:
    """One frame as measured: the batch part's inputs (V) and outputs (nA)."""

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


def safe_ranges(ranges: np.ndarray) -> np.ndarray:
    """Electrode ranges cut to the global activation limit."""
    ranges = np.asarray(ranges, dtype=float)
    lo = np.maximum(ranges[:, 0], -GLOBAL_VOLTAGE_LIMIT)
    hi = np.minimum(ranges[:, 1], GLOBAL_VOLTAGE_LIMIT)
    return np.stack([lo, hi], axis=1)


def frame_inputs(
    start: np.ndarray,
    targets: np.ndarray,
    ranges: np.ndarray,
    t: np.ndarray,
    fs: float,
    settings: PanelSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (n, points), levels at the end): levels slewed towards targets, plus the wave.

    `start` and `targets` must lie inside `ranges`; then so does every sample.
    """
    steps = settings.slew_v_per_s / fs * np.arange(1, len(t) + 1)
    path = start[:, None] + np.clip((targets - start)[:, None], -steps, steps)
    levels = path[:, -1].copy()
    if settings.wave_amplitude_v > 0:
        lo, hi = ranges[:, :1], ranges[:, 1:]
        room = np.clip(np.minimum(path - lo, hi - path), 0.0, settings.wave_amplitude_v)
        n = len(start)
        phase = 2 * np.pi * np.arange(n)[:, None] / max(n, 1)
        path = path + room * np.sin(2 * np.pi * settings.wave_frequency_hz * t + phase)
    return np.clip(path, ranges[:, :1], ranges[:, 1:]), levels


class DevicePanel:
    """Live levels on a device; setters are thread-safe, `run` belongs to one worker thread."""

    def __init__(
        self,
        device: Device,
        settings: PanelSettings | None = None,
        on_frame: Callable[[PanelFrame], None] | None = None,
    ) -> None:
        self.device = device
        self.config: SamplingConfig = device.config
        self.fs = float(self.config.fs)
        self.ranges = safe_ranges(device.ranges)
        self.on_frame = on_frame
        self._lock = threading.Lock()
        self._settings = self._checked(settings or PanelSettings())
        n = device.n_inputs
        self._targets = np.zeros(n)
        self._levels = np.zeros(n)
        self._running = threading.Event()
        self._running.set()
        self._record_to: Path | None = None
        self._stop_recording = False
        self._writer: RecordingWriter | None = None
        self._recorded = 0
        self.frames = 0
        self.summary = PanelSummary()

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
        """The levels the electrodes reached at the end of the last frame."""
        with self._lock:
            return self._levels.copy()

    def pause(self) -> None:
        """After the frame in flight: outputs at 0 V until `resume` (levels restart at 0 V)."""
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
    def run(self, progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> None:
        """Frames until cancelled (raises Cancelled); 0 V and closed however it ends.

        `summary` tells how many frames ran and which recordings were written.
        """
        control = JobControl.of(progress, cancel)
        summary = self.summary = PanelSummary()
        status, message = "complete", ""
        try:
            with driven(self.device):
                while True:
                    control.check()
                    if not self._running.is_set():
                        self._hold_zero(cancel)
                        continue
                    self._recording_requests(summary)
                    self.step()
                    summary.frames += 1
                    control.report("live", summary.frames, 0)
        except Cancelled:
            status = "cancelled"
            raise
        except BaseException as exc:
            status, message = "failed", str(exc) or type(exc).__name__
            raise
        finally:
            self._close_recording("complete" if status == "cancelled" else status, message)

    def _hold_zero(self, cancel: CancelToken | None) -> None:
        """Paused: 0 V now, levels restart from 0 V; wait for resume or cancel."""
        self.device.set_zero()
        with self._lock:
            self._levels[:] = 0.0
        while not self._running.wait(0.05):
            if cancel is not None and cancel.cancelled:
                return

    def step(self) -> PanelFrame:
        """Measure one frame on the (open) device and publish it."""
        with self._lock:
            settings, start, targets = self._settings, self._levels.copy(), self._targets.copy()
        bp = round(settings.frame_s * self.fs)
        t = wave_time(self.frames, bp, self.fs)
        x, levels = frame_inputs(start, targets, self.ranges, t, self.fs, settings)
        data = ramped(x, self.config.ramp_points)
        batch = RampedBatch(
            self.frames, data, self.config.ramp_points, bp, np.zeros(len(x)), float(t[0])
        )
        wall, began = time.time(), time.monotonic()
        outputs = self.device.sample(batch)
        with self._lock:
            self._levels = levels
        writer = self._writer
        if writer is not None:
            writer.append(
                self._recorded, batch.inputs, outputs, batch.phases, batch.t0, wall,
                time.monotonic() - began,
            )  # fmt: skip
            self._recorded += 1
        frame = PanelFrame(
            self.frames, batch.t0, batch.inputs, outputs, levels, self.recording_path
        )
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
