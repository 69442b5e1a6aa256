"""The voltage sweeps of an I-V curve: sawtooth (the peer's) or sine, from and back to 0 V.

`sawtooth_sweep` follows brainspy-smg's `generate_sawtooth_simple` point for
point (same segment lengths, same Python rounding): 0 V to one end of the
range, to the other end, back to 0 V, about `points` samples in all. Two
things differ on purpose: the ends are passed in the natural order (the
peer's `iv_curve` swaps them), and a segment that rounds to nothing still
leaves the sweep starting and ending exactly at 0 V (one extra sample), as
every batch on a device must.

`sine_sweep` is one period of a sine mapped into the range: the positive
half reaches the top of the range, the negative half the bottom. The peer's
sine uses the top as the amplitude of both halves, which leaves the range
whenever its bottom is nearer 0 V than its top; this one cannot.
"""

from __future__ import annotations

import numpy as np

from backend.errors import SamplelabError

SHAPES = ("sawtooth", "sine")
#: Fewest points a sweep may have (the peer requires an even number).
MIN_POINTS = 4


def check_sweep_request(lo: float, hi: float, points: int, shape: str = "sawtooth") -> None:
    """Raise a SamplelabError naming what is wrong with a sweep request."""
    if shape not in SHAPES:
        raise SamplelabError(f"unknown sweep shape {shape!r}", f"Use one of {', '.join(SHAPES)}.")
    if int(points) != points or points < MIN_POINTS or points % 2:
        raise SamplelabError(
            f"{points} sweep points: need an even number of at least {MIN_POINTS}",
            "Give --points as an even number, e.g. 200.",
        )
    if not (np.isfinite(lo) and np.isfinite(hi)) or not lo < hi:
        raise SamplelabError(f"sweep range [{lo}, {hi}] V is empty", "Give LO < HI.")
    if not lo <= 0.0 <= hi:
        raise SamplelabError(
            f"sweep range [{lo:g}, {hi:g}] V does not contain 0 V",
            "A sweep starts and ends at 0 V, so its range must include it.",
        )


def sawtooth_sweep(lo: float, hi: float, points: int, up: bool = True) -> np.ndarray:
    """0 V -> one end -> the other end -> 0 V; `up` goes to `hi` first (peer's up_direction)."""
    check_sweep_request(lo, hi, points)
    half = int(points) // 2
    a, b = (float(hi), float(lo)) if up else (float(lo), float(hi))
    first = np.linspace(0.0, a, round((half * a) / (a - b)))
    middle = np.linspace(a, b, half)
    last = np.linspace(b, 0.0, round((half * b) / (b - a)))
    sweep = np.concatenate((first, middle, last))
    if sweep[0] != 0.0:
        sweep = np.concatenate(([0.0], sweep))
    if sweep[-1] != 0.0:
        sweep = np.concatenate((sweep, [0.0]))
    return sweep


def sine_sweep(lo: float, hi: float, points: int, up: bool = True) -> np.ndarray:
    """One sine period over `points` samples: up to `hi` and down to `lo` (or the reverse)."""
    check_sweep_request(lo, hi, points, "sine")
    unit = np.sin(2 * np.pi * np.arange(points) / (points - 1))
    if not up:
        unit = -unit
    sweep = np.where(unit >= 0, unit * float(hi), -unit * float(lo))
    sweep[0] = sweep[-1] = 0.0
    return sweep


def sweep(shape: str, lo: float, hi: float, points: int, up: bool = True) -> np.ndarray:
    """The sweep of `shape` ('sawtooth' or 'sine') over [lo, hi]."""
    check_sweep_request(lo, hi, points, shape)
    make = sawtooth_sweep if shape == "sawtooth" else sine_sweep
    return make(lo, hi, points, up)
