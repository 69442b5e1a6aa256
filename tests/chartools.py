"""Helpers of the characterisation tests: a simulated device that remembers what it was sent."""

from __future__ import annotations

import numpy as np

from backend.acquisition.waves import RampedBatch
from backend.devices.held import HeldFrame
from backend.devices.simulated import FaultPlan, SimulatedDevice

LIFECYCLE = "lifecycle_small_{}"


class SpyDevice(SimulatedDevice):
    """A simulated DNPU that keeps every batch or frame it drove, and a scope of its outputs.

    `sent`: each batch and held frame; `moves`: each ramp between held levels;
    `scope()`: every value the outputs took, in order (a 0 V write is a sample too,
    a fault leaves the outputs where it stopped them).
    """

    def __init__(self, config, **options) -> None:
        options.setdefault("model", "analytic")
        options.setdefault("noise_nA", 0.0)
        options.setdefault("drift_nA", 0.0)
        super().__init__(config, **options)
        self.sent: list[np.ndarray] = []
        self.moves: list[np.ndarray] = []
        self.written: list[np.ndarray] = [np.zeros((self.n_inputs, 1))]
        self.closed = 0

    def _sample(self, batch: RampedBatch) -> np.ndarray:
        self.sent.append(batch.data.copy())
        try:
            return super()._sample(batch)
        finally:
            self._wrote(batch.data)

    def _sample_held(self, frame: HeldFrame) -> np.ndarray:
        self.sent.append(frame.data.copy())
        try:
            return super()._sample_held(frame)
        finally:
            self._wrote(frame.data)

    def _move(self, data: np.ndarray) -> None:
        self.moves.append(data.copy())
        super()._move(data)
        self._wrote(data)

    def _set_zero(self) -> None:
        super()._set_zero()
        self.written.append(np.zeros((self.n_inputs, 1)))

    def _wrote(self, data: np.ndarray) -> None:
        """What went out: all of it, or up to where a fault stopped it."""
        stop = np.flatnonzero((self.output_voltages == data.T).all(axis=1))
        end = data.shape[1] if not len(stop) else int(stop[-1]) + 1
        self.written.append(data[:, :end].copy())

    def scope(self) -> np.ndarray:
        """(n_inputs, samples): every value the outputs took, from 0 V at the start."""
        return np.concatenate(self.written, axis=1)

    def largest_step(self) -> np.ndarray:
        """Per electrode, the largest jump between two consecutive output values (V)."""
        return np.abs(np.diff(self.scope(), axis=1)).max(axis=1)

    def _close(self) -> None:
        self.closed += 1
        super()._close()

    def at_zero(self) -> bool:
        """Outputs at 0 V, driven there after the last batch, and released."""
        return not self.is_open and not self.output_voltages.any() and self.zeroed > 0


def faulty(config, fault: str, **options) -> SpyDevice:
    return SpyDevice(config, faults=FaultPlan.parse(fault), **options)
