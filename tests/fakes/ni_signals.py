"""What the fake's AI channels read: the AO waveforms as real clocks sample them.

An AO channel holds each written sample for one period of its clock (zero-order
hold) and its level before and after the task. An AI sample k is taken at its
own clock's tick; which AO sample it sees depends on how the two clocks relate:

- triggered (`cdaq_to_cdaq`: one chassis, one timebase): the AO starts on the AI
  start trigger, so AI sample k >= 1 sees AO sample (k-1)//io exactly, and AI
  sample 0 is taken before the first update;
- free-running (`cdaq_to_nidaq`: two devices, two crystals): the AI starts `lag`
  AO periods after the AO's first update, `lag` any real number (whole points of
  software latency plus a fractional phase), and each clock is off by its own ppm.
"""

from __future__ import annotations

import math

import numpy as np

#: Float slack when an AI tick falls exactly on an AO update.
_EDGE_EPS = 1e-9
#: What a triggered read's first sample adds (taken before the first AO update).
JUNK_FIRST_SAMPLE_V = 0.37


def triggered_indices(n: int, io: int) -> np.ndarray:
    """AO sample seen by each of `n` triggered AI samples; -1 = before the first update."""
    k = np.arange(n)
    out = (k - 1) // io
    out[0] = -1
    return out


def free_running_indices(
    n: int, lag: float, ao_rate: float, ai_rate: float, ao_ppm: float, ai_ppm: float
) -> np.ndarray:
    """AO sample seen by each of `n` AI samples starting `lag` nominal AO periods late."""
    ao_clock = ao_rate * (1 + ao_ppm * 1e-6)
    ai_clock = ai_rate * (1 + ai_ppm * 1e-6)
    t = lag / ao_rate + np.arange(n) / ai_clock  # seconds after the AO's first update
    return np.floor(t * ao_clock + _EDGE_EPS).astype(np.int64)


def held(row: np.ndarray, indices: np.ndarray, before: float) -> np.ndarray:
    """Zero-order hold of one AO row: `before` ahead of it, its last value after it."""
    out = row[np.clip(indices, 0, len(row) - 1)]
    out[indices < 0] = before
    return out


def ripple(n: int, io: int, amplitude: float) -> np.ndarray:
    """A per-sample ripple at the readout rate / io: any io consecutive samples sum to 0."""
    if io <= 1 or amplitude == 0:
        return np.zeros(n)
    return amplitude * np.cos(2 * math.pi * np.arange(n) / io)


class LabSignals:
    """Mixed into FakeDAQ: what its AI channels read, from its wiring and its AO tasks."""

    tasks: dict
    devices: dict
    levels: dict[str, float]
    gains: dict[str, dict[str, float]]
    bias: dict[str, float]
    wires: dict[str, str]
    ao_offsets: dict[str, float]
    ai_offsets: dict[str, float]
    clock_ppm: dict[str, float]
    nimax_sine: dict[str, float]
    lags: list[float]
    default_lag: float
    ripple: float
    noise_v: float
    rng: np.random.Generator

    def _clock_of(self, channel: str) -> str:
        """The device whose crystal clocks a channel: its chassis for a C Series module."""
        device = self.devices[channel.partition("/")[0]]
        return device.chassis or device.name

    def _acquisition(self, ai_task) -> np.ndarray:
        """What the AI channels see, given the AO tasks that are armed or running now."""
        ai_clock = self._clock_of(ai_task.ai[0])
        triggered, running = [], []
        for t in self.tasks.values():
            if t.ao and t.started and not t.closed and t.samples is not None:
                if t.trigger is None:
                    running.append(t)
                elif t.trigger.strip("/").split("/")[0] == ai_clock and t.trigger.lower().endswith(
                    "ai/starttrigger"
                ):
                    t.fired = True
                    triggered.append(t)
        n = ai_task.samples
        ao_task = (triggered or running or [None])[0]
        io = 1 if ao_task is None else round(ai_task.actual / ao_task.actual)
        if triggered:
            assert ai_task.actual == io * ao_task.actual, "one timebase: an exact multiple"
            index = triggered_indices(n, io)
        elif running:
            lag = self.lags.pop(0) if self.lags else self.default_lag
            index = free_running_indices(
                n,
                lag,
                ao_task.actual,
                ai_task.actual,
                self.clock_ppm.get(self._clock_of(ao_task.ao[0]), 0.0),
                self.clock_ppm.get(ai_clock, 0.0),
            )
        else:
            index = np.full(n, -1)
        commanded: dict[str, np.ndarray] = {c: np.full(n, v) for c, v in self.levels.items()}
        for t in triggered + running:
            for name, row in zip(t.ao, t.frame):
                commanded[name] = held(row, index, self.levels.get(name, 0.0))
        zero = np.zeros(n)

        def volts(ao: str) -> np.ndarray:
            return commanded.get(ao, zero) + self.ao_offsets.get(ao, 0.0)

        out = np.empty((len(ai_task.ai), n))
        for r, ai in enumerate(ai_task.ai):
            if ai in self.nimax_sine:
                full = ai_task.limits[ai][1]
                angle = 2 * np.pi * np.arange(n) / self.nimax_sine[ai] + np.radians(5 * r)
                noise = self.rng.uniform(-0.03 * full, 0.03 * full, n)
                out[r] = full * np.sin(angle) + noise
                continue
            if ai in self.wires:
                signal = volts(self.wires[ai])
            else:
                signal = self.bias.get(ai, 0.0) + sum(
                    w * volts(ao) for ao, w in self.gains.get(ai, {}).items()
                )
                signal = signal + ripple(n, io, self.ripple)
            out[r] = signal + self.ai_offsets.get(ai, 0.0)
        if self.noise_v:
            out += self.rng.normal(0.0, self.noise_v, out.shape)
        if triggered:
            out[:, 0] += JUNK_FIRST_SAMPLE_V
        return out
