"""The checks every batch or held frame passes before any driver sees it.

Called by the session and again inside every device (last line of defence), so
a bug in one layer cannot put an out-of-range voltage on an irreplaceable sample.
A sampling batch starts and ends at 0 V (`check_batch`); a held frame continues
from the level the outputs hold and moves at a bounded slew rate (`check_held`).
"""

from __future__ import annotations

import numpy as np

from backend.config import GLOBAL_VOLTAGE_LIMIT
from backend.errors import SafetyError

#: Float slack when comparing generated waves with their configured range (V).
RANGE_TOLERANCE = 1e-9
#: No held output may move faster than this (V/s), whatever asks for it.
MAX_SLEW_V_PER_S = 10.0


def check_batch(
    data: np.ndarray,
    ranges: np.ndarray,
    limit: float = GLOBAL_VOLTAGE_LIMIT,
    channel_names: list[str] | tuple[str, ...] | None = None,
) -> None:
    """Raise SafetyError unless `data` (n_electrodes, points) is safe to write.

    Safe means: finite, every sample inside its electrode's [min, max] and inside
    +-limit, and the first and last sample of every electrode exactly 0 V.
    """
    data = check_levels(data, ranges, limit, channel_names)
    if np.any(data[:, 0] != 0.0) or np.any(data[:, -1] != 0.0):
        raise SafetyError(
            "refused a batch that does not start and end at 0 V",
            "Batches must be ramped from and to 0 V; nothing was written to the device.",
        )


def check_levels(
    data: np.ndarray,
    ranges: np.ndarray,
    limit: float = GLOBAL_VOLTAGE_LIMIT,
    channel_names: list[str] | tuple[str, ...] | None = None,
) -> np.ndarray:
    """`data` as an array, or SafetyError unless every sample is finite and in range.

    The part of `check_batch` a ramp down from a level (which starts away from 0 V)
    must pass too.
    """
    data = np.asarray(data)
    ranges = np.asarray(ranges, dtype=float)
    names = list(channel_names) if channel_names else [f"electrode {i}" for i in range(len(data))]
    if data.ndim != 2 or data.shape[0] != len(ranges) or data.shape[1] < 2:
        raise SafetyError(
            f"refused a batch of shape {data.shape}: expected ({len(ranges)}, >= 2) samples",
            "This is a bug in the caller; nothing was written to the device.",
        )
    mins, maxs = data.min(axis=1), data.max(axis=1)
    # min/max propagate NaN and reach +-inf, so checking them covers every sample.
    if not (np.isfinite(mins).all() and np.isfinite(maxs).all()):
        raise SafetyError("refused a batch containing NaN or infinite voltages")
    lo = np.maximum(ranges[:, 0], -limit) - RANGE_TOLERANCE
    hi = np.minimum(ranges[:, 1], limit) + RANGE_TOLERANCE
    bad = np.flatnonzero((mins < lo) | (maxs > hi))
    if bad.size:
        i = int(bad[0])
        raise SafetyError(
            f"refused a batch: {names[i]} reaches [{mins[i]:.6g}, {maxs[i]:.6g}] V, outside "
            f"its allowed range [{max(ranges[i, 0], -limit):g}, {min(ranges[i, 1], limit):g}] V",
            "Nothing was written to the device. Check the voltage ranges, amplitude and offset.",
        )
    return data


def check_held(
    data: np.ndarray,
    ranges: np.ndarray,
    start: np.ndarray,
    slew_v_per_s: float,
    fs: float,
    limit: float = GLOBAL_VOLTAGE_LIMIT,
    channel_names: list[str] | tuple[str, ...] | None = None,
) -> np.ndarray:
    """`data` as an array, or SafetyError unless it may follow the level `start` (V).

    Safe means: every sample as `check_levels` wants it, and no electrode moving
    more than `slew_v_per_s / fs` between consecutive samples, counting the step
    from `start` (the level the outputs hold now) to the first sample. A level
    that is not known (NaN) allows no frame at all.
    """
    data = check_levels(data, ranges, limit, channel_names)
    names = list(channel_names) if channel_names else [f"electrode {i}" for i in range(len(data))]
    start = np.asarray(start, dtype=float)
    if not 0 < slew_v_per_s <= MAX_SLEW_V_PER_S:
        raise SafetyError(
            f"refused a held frame with a slew bound of {slew_v_per_s!r} V/s: give "
            f"0 < bound <= {MAX_SLEW_V_PER_S:g} V/s",
            "This is a bug in the caller; nothing was written to the device.",
        )
    if start.shape != (len(data),) or not np.isfinite(start).all():
        raise SafetyError(
            "refused a held frame: the level the outputs hold now is not known",
            "Drive the outputs to 0 V first; nothing was written to the device.",
        )
    first = np.abs(data[:, 0] - start)
    steps = np.maximum(first, np.abs(np.diff(data, axis=1)).max(axis=1))
    allowed = slew_v_per_s / fs + RANGE_TOLERANCE
    bad = np.flatnonzero(steps > allowed)
    if bad.size:
        i = int(bad[0])
        where = "from the level it holds" if first[i] > allowed else "between two samples"
        raise SafetyError(
            f"refused a held frame: {names[i]} would move {steps[i]:.6g} V {where} "
            f"({steps[i] * fs:.6g} V/s), more than the {slew_v_per_s:g} V/s allowed",
            "Nothing was written to the device. Move levels in smaller steps.",
        )
    return data
