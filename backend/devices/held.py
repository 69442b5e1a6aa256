"""Held levels: a device session whose outputs keep their level between frames.

A sampling batch starts and ends at 0 V. A live view of a device (the device
panel) needs the opposite: an electrode set to 0.4 V stays at 0.4 V while
frame after frame is read. In a held session each frame starts within one
slew step of the level the outputs hold and may end at a new level, which the
outputs then hold (an NI finite AO task keeps its last sample once it is
done). The session as a whole starts from 0 V and always ends there, ramped:
`HeldOutputs` ramps down when it is left, however that happens, and the device
itself ramps down from wherever a failed frame stopped and before any 0 V
write (`Device.set_zero`).

Every frame and ramp is checked here (the session) and again inside the device
(`Device.sample_held` / `move_held`; the NI writer checks once more): every
sample inside its electrode's range and the global limit, no step between
consecutive samples (or from the held level to the first sample) larger than
the session's slew bound allows.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.acquisition.safety import MAX_SLEW_V_PER_S, check_held
from backend.errors import SamplelabError

if TYPE_CHECKING:
    from backend.devices.base import Device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldFrame:
    """One frame of a held session: (n_electrodes, points) V, all of it read back."""

    index: int
    data: np.ndarray
    t0: float = 0.0  # device time of the first sample, s

    @property
    def points(self) -> int:
        return int(self.data.shape[1])

    @property
    def inputs(self) -> np.ndarray:
        """(points, n_electrodes): the rows a recording of the frame holds."""
        return self.data.T


def slewed_ramp(
    start: np.ndarray,
    end: np.ndarray,
    slew_v_per_s: float,
    fs: float,
    min_points: int = 2,
) -> np.ndarray:
    """(n, points) V from `start` (held, not included) straight to exactly `end`.

    Long enough that no step exceeds `slew_v_per_s / fs`, and at least
    `min_points` long (e.g. the sampler's own ramp, so a ramp is never more
    abrupt than sampling's).
    """
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    distance = float(np.max(np.abs(end - start), initial=0.0))
    step = slew_v_per_s / fs
    points = max(int(min_points), 2, math.ceil(distance / step * (1 - 1e-12)))
    fraction = np.arange(1, points + 1) / points
    ramp = start[:, None] + (end - start)[:, None] * fraction
    ramp[:, -1] = end
    return np.ascontiguousarray(ramp)


def check_slew(slew_v_per_s: float) -> float:
    """`slew_v_per_s` as a float, or SamplelabError unless 0 < it <= MAX_SLEW_V_PER_S."""
    value = float(slew_v_per_s)
    if not (math.isfinite(value) and 0 < value <= MAX_SLEW_V_PER_S):
        raise SamplelabError(
            f"slew rate {slew_v_per_s!r} V/s: give 0 < rate <= {MAX_SLEW_V_PER_S:g} V/s"
        )
    return value


class HeldOutputs:
    """A held session on an open device (a context manager); ends at 0 V, ramped.

    `frame(data)` sends one frame and returns its readout (points, n_outputs) nA;
    `move_to(levels)` ramps without reading; `to_zero()` ramps to 0 V and the
    session may go on from there. `slew_v_per_s` bounds every step of the
    session; the ramps take their own pace, never above it.
    """

    def __init__(self, device: Device, slew_v_per_s: float = MAX_SLEW_V_PER_S) -> None:
        self.device = device
        self.slew_v_per_s = check_slew(slew_v_per_s)
        self.fs = float(device.config.fs)
        self._level = np.zeros(device.n_inputs)
        self.frames = 0

    @property
    def level(self) -> np.ndarray:
        """The level (V per electrode) the outputs hold now."""
        return self._level.copy()

    def __enter__(self) -> HeldOutputs:
        self.device.begin_held(self.slew_v_per_s)
        self._level = self.device.held.copy()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _checked(self, data: np.ndarray) -> np.ndarray:
        data = np.ascontiguousarray(data, dtype=np.float64)
        return check_held(
            data,
            self.device.ranges,
            self._level,
            self.slew_v_per_s,
            self.fs,
            channel_names=self.device.activation_channels,
        )

    def frame(self, data: np.ndarray, index: int | None = None, t0: float = 0.0) -> np.ndarray:
        """Send one checked frame; the outputs then hold its last sample."""
        data = self._checked(data)
        frame = HeldFrame(self.frames if index is None else int(index), data, float(t0))
        try:
            out = self.device.sample_held(frame)
        finally:
            self._level = self.device.held.copy()  # where the device says it is now
        self.frames += 1
        return out

    def move_to(self, levels: np.ndarray, slew_v_per_s: float | None = None) -> None:
        """Ramp to `levels` at `slew_v_per_s` (at most the session's bound), nothing read."""
        slew = min(check_slew(slew_v_per_s or self.slew_v_per_s), self.slew_v_per_s)
        target = np.asarray(levels, dtype=float)
        if np.array_equal(target, self._level):
            return
        data = self._checked(slewed_ramp(self._level, target, slew, self.fs))
        try:
            self.device.move_held(data)
        finally:
            self._level = self.device.held.copy()

    def to_zero(self, slew_v_per_s: float | None = None) -> None:
        """Ramp to 0 V; the session may send frames again from there."""
        self.move_to(np.zeros_like(self._level), slew_v_per_s)

    def close(self, slew_v_per_s: float | None = None) -> None:
        """Ramp to 0 V (or let the device do it at its own pace if that fails) and end."""
        try:
            self.to_zero(slew_v_per_s)
        except Exception as exc:
            log.error("could not ramp the held outputs to 0 V: %s", exc)
        finally:
            self.device.end_held()
