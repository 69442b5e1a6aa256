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
