"""Helpers of the characterisation tests: a simulated device that remembers what it was sent."""

from __future__ import annotations

import numpy as np

from backend.devices.simulated import FaultPlan, SimulatedDevice
from backend.waves import RampedBatch

LIFECYCLE = "lifecycle_small_{}"


class SpyDevice(SimulatedDevice):
    """A simulated DNPU that keeps every batch it drove and every 0 V / close it did."""

    def __init__(self, config, **options) -> None:
        options.setdefault("model", "analytic")
        options.setdefault("noise_nA", 0.0)
        options.setdefault("drift_nA", 0.0)
        super().__init__(config, **options)
        self.sent: list[np.ndarray] = []
        self.closed = 0

    def _sample(self, batch: RampedBatch) -> np.ndarray:
        self.sent.append(batch.data.copy())
        return super()._sample(batch)

    def _close(self) -> None:
        self.closed += 1
        super()._close()

    def at_zero(self) -> bool:
        """Outputs at 0 V, driven there after the last batch, and released."""
        return not self.is_open and not self.output_voltages.any() and self.zeroed > 0


def faulty(config, fault: str, **options) -> SpyDevice:
    return SpyDevice(config, faults=FaultPlan.parse(fault), **options)
