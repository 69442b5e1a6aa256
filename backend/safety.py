"""The checks every batch passes before any driver sees it.

Called by the session and again inside every device (last line of defence), so
a bug in one layer cannot put an out-of-range voltage on an irreplaceable sample.
"""

from __future__ import annotations

import numpy as np

from backend.config import GLOBAL_VOLTAGE_LIMIT
from backend.errors import SafetyError

#: Float slack when comparing generated waves with their configured range (V).
RANGE_TOLERANCE = 1e-9


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
