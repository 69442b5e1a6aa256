"""Input waves, ramps and the batch plan of a sampling session.

The wave formulas reproduce bspysmg bit for bit: time runs continuously across
batches (ramps do not advance it), frequencies are sqrt(input_frequency)*factor,
and a sawtooth is scipy's symmetric triangle shifted by pi/2. Unlike the peer,
phase re-randomisation is seeded and every batch's phases are known, so any
batch can be regenerated from (config, seed, batch index) alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from backend.config import SamplingConfig

PHASE_DRAW_LOW, PHASE_DRAW_HIGH = -2 * np.pi, 2 * np.pi


def wave_time(batch_index: int, batch_points: int, fs: float) -> np.ndarray:
    """Seconds of each sample of a batch on the session's continuous clock."""
    start = batch_index * batch_points
    return np.arange(start, start + batch_points) / fs


def waves(
    shape: str,
    t: np.ndarray,
    frequency: np.ndarray,
    phase: np.ndarray,
    amplitude: np.ndarray,
    offset: np.ndarray,
) -> np.ndarray:
    """(n_electrodes, len(t)) input voltages, in the peer's operation order.

    In-place steps repeat the peer's exact operations (x + y, then + z), so sine
    waves are bit-identical to the peer's and sawtooth waves agree to ~1e-15
    relative (see `triangle`), while allocating one array instead of six.
    """
    if shape not in ("sine", "sawtooth"):
        raise ValueError(f"unknown wave shape {shape!r}; use 'sine' or 'sawtooth'")
    f, ph = np.asarray(frequency)[:, None], np.asarray(phase)[:, None]
    rads = 2 * np.pi * f * t
    rads += ph
    if shape == "sine":
        unit = np.sin(rads, out=rads)
    else:
        rads += np.pi / 2
        unit = triangle(rads)
    unit *= np.asarray(amplitude)[:, None]
    unit += np.asarray(offset)[:, None]
    return unit


def triangle(rads: np.ndarray) -> np.ndarray:
    """`scipy.signal.sawtooth(rads, width=0.5)`: -1 at multiples of 2 pi, +1 halfway.

    Computed as 1 - |4u - 2| from the fractional turn u = rads / 2 pi. The
    triangle is continuous where u wraps and where it turns, so rounding near
    those points cannot jump; the result stays within ~1e-15 * |rads| of scipy
    (tested against it), i.e. ~1e-11 V after hours of sampling, against the 1e-9 V
    the lab's files need, at a sixth of the cost (float np.mod alone is 10 ns
    per sample, and the sampler makes one triangle per batch).
    """
    u = np.multiply(rads, 1 / (2 * np.pi))
    u -= np.floor(u)
    u *= 4
    u -= 2
    np.abs(u, out=u)
    np.subtract(1, u, out=u)
    return u


def ramped(batch: np.ndarray, ramp_points: int) -> np.ndarray:
    """Prepend a ramp from 0 V to the first sample and append one back to 0 V.

    The ramps run straight between 0 V and the batch's end samples, starting and
    ending exactly at 0 V (x * 0.0 and x * 1.0 are exact).
    """
    n, points = batch.shape
    fraction = ramp_fraction(ramp_points)
    out = np.empty((n, points + 2 * ramp_points))
    np.multiply(batch[:, :1], fraction, out=out[:, :ramp_points])
    out[:, ramp_points : ramp_points + points] = batch
    np.multiply(batch[:, -1:], fraction[::-1], out=out[:, ramp_points + points :])
    return out


@functools.lru_cache(maxsize=8)
def ramp_fraction(points: int) -> np.ndarray:
    """0 to 1 in `points` even steps, read-only and cached (every batch's ramps reuse it)."""
    fraction = np.linspace(0.0, 1.0, points)
    fraction.flags.writeable = False
    return fraction


@dataclass(frozen=True)
class PhaseSchedule:
    """Which phases each batch uses.

    Batches [k*each, (k+1)*each) share one phase set: k = 0 uses the configured
    phases, later k draw uniform phases in (-2 pi, 2 pi) from a generator seeded by
    (seed, k), so the schedule is a pure function of the batch index.
    """

    base: tuple[float, ...]
    each: int
    seed: int

    def epoch(self, batch_index: int) -> int:
        return batch_index // self.each if self.each > 0 else 0

    def phases(self, batch_index: int) -> np.ndarray:
        k = self.epoch(batch_index)
        if k == 0:
            return np.asarray(self.base, dtype=float)
        rng = np.random.default_rng([self.seed, 0x5048, k])
        return rng.uniform(PHASE_DRAW_LOW, PHASE_DRAW_HIGH, len(self.base))


@dataclass(frozen=True)
class RampedBatch:
    """One batch as the device receives it: ramp up, the batch, ramp down."""

    index: int
    data: np.ndarray  # (n_electrodes, ramp + batch + ramp) volts, C-contiguous
    ramp_points: int
    batch_points: int
    phases: np.ndarray
    t0: float  # wave time of the first batch sample, s

    @property
    def batch_slice(self) -> slice:
        return slice(self.ramp_points, self.ramp_points + self.batch_points)

    @property
    def inputs(self) -> np.ndarray:
        """(batch_points, n_electrodes): the rows that land in the recording."""
        return self.data[:, self.batch_slice].T


class BatchPlan:
    """Everything a session sends to the device, batch by batch, on demand."""

    def __init__(self, config: SamplingConfig, seed: int = 0) -> None:
        self.config = config
        self.seed = int(seed)
        self.shape = config.input_data.input_distribution
        self.fs = config.fs
        self.batch_points = config.batch_points
        self.ramp_points = config.ramp_points
        self.number_batches = config.number_batches
        self.frequency = config.frequencies()
        self.amplitude = config.amplitude()
        self.offset = config.offset()
        self.schedule = PhaseSchedule(
            tuple(config.input_data.phase), config.input_data.random_phase_shift_each, self.seed
        )

    def __len__(self) -> int:
        return self.number_batches

    @property
    def ramped_points(self) -> int:
        return self.batch_points + 2 * self.ramp_points

    def inputs(self, index: int, phases: np.ndarray | None = None) -> np.ndarray:
        """(n_electrodes, batch_points) volts of batch `index`."""
        if phases is None:
            phases = self.schedule.phases(index)
        t = wave_time(index, self.batch_points, self.fs)
        return waves(self.shape, t, self.frequency, phases, self.amplitude, self.offset)

    def batch(self, index: int) -> RampedBatch:
        if not 0 <= index < self.number_batches:
            raise IndexError(f"batch {index} is outside the plan of {self.number_batches}")
        phases = self.schedule.phases(index)
        data = ramped(self.inputs(index, phases), self.ramp_points)
        return RampedBatch(
            index=index,
            data=data,
            ramp_points=self.ramp_points,
            batch_points=self.batch_points,
            phases=phases,
            t0=index * self.batch_points / self.fs,
        )

    def all_inputs(self) -> np.ndarray:
        """(total_rows, n_electrodes): the whole plan's inputs (small plans only)."""
        return np.concatenate([self.inputs(i).T for i in range(self.number_batches)])
