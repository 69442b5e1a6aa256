"""What the live device panel sends: DC levels moved at a slew rate, a small sine on them.

The panel's outputs are one continuous signal cut into frames (`PanelSignal`):
each electrode's DC level moves towards the level asked for at most `slew`
V/s and then holds it; an optional sine rides on the level, its amplitude
growing and shrinking at the same rate and kept inside the range's ends, its
phase running on across frames (a change of frequency bends the wave, it
never jumps). A frame therefore starts exactly where the previous one ended.
As a last guard the signal passes a slew limiter at the held session's bound,
so no setting sequence can produce a larger step, and it is clipped to each
electrode's range (the global limit included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backend.acquisition.safety import MAX_SLEW_V_PER_S
from backend.config import GLOBAL_VOLTAGE_LIMIT

DEFAULT_FRAME_S = 0.1
DEFAULT_SLEW_V_PER_S = 1.0
#: The wave's frequency must stay well below the DAC rate: at most fs / this.
MIN_POINTS_PER_PERIOD = 10


@dataclass(frozen=True)
class PanelSettings:
    """Frame length (s), level slew rate (V/s), wave amplitude (V) and frequency (Hz)."""

    frame_s: float = DEFAULT_FRAME_S
    slew_v_per_s: float = DEFAULT_SLEW_V_PER_S
    wave_amplitude_v: float = 0.0
    wave_frequency_hz: float = 1.0

    @property
    def wave_slew_v_per_s(self) -> float:
        """The fastest the sine alone moves an output (V/s)."""
        return 2 * math.pi * self.wave_amplitude_v * self.wave_frequency_hz

    def problems(self, fs: float) -> list[str]:
        out = []
        if not (math.isfinite(self.frame_s) and round(self.frame_s * fs) >= 2):
            out.append(f"frame of {self.frame_s} s: needs at least 2 points at {fs:g} Hz")
        if not (math.isfinite(self.slew_v_per_s) and 0 < self.slew_v_per_s <= MAX_SLEW_V_PER_S):
            out.append(f"slew rate {self.slew_v_per_s} V/s: give 0 < rate <= {MAX_SLEW_V_PER_S:g}")
        if not (math.isfinite(self.wave_amplitude_v) and self.wave_amplitude_v >= 0):
            out.append(f"wave amplitude {self.wave_amplitude_v} V: give a number >= 0")
        f = self.wave_frequency_hz
        if not (math.isfinite(f) and 0 < f <= fs / MIN_POINTS_PER_PERIOD):
            out.append(f"wave frequency {f} Hz: give 0 < f <= {fs / MIN_POINTS_PER_PERIOD:g} Hz")
        elif not out and self.slew_v_per_s + self.wave_slew_v_per_s > MAX_SLEW_V_PER_S:
            out.append(
                f"a {self.wave_amplitude_v:g} V wave at {f:g} Hz swings at up to "
                f"{self.wave_slew_v_per_s:.3g} V/s; with levels moving at "
                f"{self.slew_v_per_s:g} V/s that is over the {MAX_SLEW_V_PER_S:g} V/s any "
                "output may move: lower the amplitude, the frequency or the slew rate"
            )
        return out


def safe_ranges(ranges: np.ndarray) -> np.ndarray:
    """Electrode ranges cut to the global activation limit."""
    ranges = np.asarray(ranges, dtype=float)
    lo = np.maximum(ranges[:, 0], -GLOBAL_VOLTAGE_LIMIT)
    hi = np.minimum(ranges[:, 1], GLOBAL_VOLTAGE_LIMIT)
    return np.stack([lo, hi], axis=1)


def slew_limited(start: np.ndarray, desired: np.ndarray, max_step: float) -> np.ndarray:
    """`desired` (n, points) followed from `start` (n,) moving at most `max_step` a sample.

    Where `desired` already keeps to the bound it comes back unchanged; elsewhere the
    output chases it at the bound until it catches up. Between two in-range values
    every output sample stays in range.
    """
    path = np.concatenate([start[:, None], desired], axis=1)
    ok = (np.abs(np.diff(path, axis=1)) <= max_step).all(axis=0)  # step into column i
    if ok.all():
        return desired
    out = desired.copy()
    keeps_from = np.logical_and.accumulate(ok[::-1])[::-1]  # [i]: all steps from i on keep
    on_track_after = np.append(keeps_from[1:], True)
    first = int(np.argmin(ok))
    prev = out[:, first - 1].copy() if first else np.asarray(start, dtype=float).copy()
    for i in range(first, out.shape[1]):
        want = desired[:, i]
        gap = want - prev
        prev = np.where(np.abs(gap) <= max_step, want, prev + np.sign(gap) * max_step)
        out[:, i] = prev
        if on_track_after[i] and np.array_equal(prev, want):
            break  # caught up: the rest of `desired` is followed as it is
    return out


class PanelSignal:
    """The panel's outputs between frames: DC levels, wave amplitude, phase, last sample."""

    def __init__(self, ranges: np.ndarray, fs: float, bound_v_per_s: float) -> None:
        self.ranges = safe_ranges(ranges)
        self.fs = float(fs)
        self.bound_v_per_s = float(bound_v_per_s)
        n = len(self.ranges)
        self.level = np.zeros(n)  # the DC part (V)
        self.amplitude = np.zeros(n)  # the sine's amplitude now (V)
        self.phase = 0.0  # the sine's phase (cycles)
        self.output = np.zeros(n)  # the last sample sent: what the outputs hold
        self._offsets = np.arange(n)[:, None] / max(n, 1)  # each electrode its own phase

    def reset(self) -> None:
        """The outputs were ramped to 0 V: levels and wave start from there again."""
        self.level[:] = 0.0
        self.amplitude[:] = 0.0
        self.output[:] = 0.0

    def clamp(self, targets: np.ndarray) -> np.ndarray:
        """Levels asked for, held inside each electrode's range."""
        return np.clip(np.asarray(targets, dtype=float), self.ranges[:, 0], self.ranges[:, 1])

    def next(self, targets: np.ndarray, settings: PanelSettings, points: int) -> np.ndarray:
        """The next frame (n, points) V, continuing from the last sample sent."""
        fs, k = self.fs, np.arange(1, points + 1)
        steps = settings.slew_v_per_s / fs * k
        targets = self.clamp(targets)
        level = self.level[:, None] + np.clip((targets - self.level)[:, None], -steps, steps)
        lo, hi = self.ranges[:, :1], self.ranges[:, 1:]
        desired = level
        amplitude = np.zeros_like(self.amplitude)
        phase = self.phase + settings.wave_frequency_hz * k / fs
        if settings.wave_amplitude_v > 0 or self.amplitude.any():
            room = np.clip(np.minimum(level - lo, hi - level), 0.0, None)
            a0 = self.amplitude[:, None]
            want = a0 + np.clip(settings.wave_amplitude_v - a0, -steps, steps)
            swing = np.minimum(want, room)
            desired = level + swing * np.sin(2 * np.pi * (phase + self._offsets))
            amplitude = swing[:, -1]
        desired = np.clip(desired, lo, hi)
        out = slew_limited(self.output, desired, self.bound_v_per_s / fs)
        self.level, self.amplitude = level[:, -1].copy(), amplitude
        self.phase = float(phase[-1] % 1.0)
        self.output = out[:, -1].copy()
        return np.ascontiguousarray(out)
