"""Live quality flags: output samples at the ADC's limit (saturated), counted per batch.

The readout ADC saturates at +-4 V (`ADC_LIMIT_V`); times each channel's
amplification that is the largest current a recording can show (nA,
`backend.config.saturation_current`). A
sample at that limit is clipped: the device's real current was as large or
larger, and postprocessing drops rows near it. The session counts them
after every batch (`SaturationCounter`, no Qt), so an operator sees a
saturating device while sampling instead of after postprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.config import SamplingConfig, saturation_current

#: A sample within this fraction of the limit counts as at the limit (ADC codes and
#: averaging of readout points land a hair inside it).
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Saturation:
    """Saturated output samples: in the newest batch and in the session so far."""

    batch: int  # index of the newest batch
    count: int  # its saturated samples (all output channels)
    samples: int  # its output samples (rows x output channels)
    total: int  # saturated samples in every batch so far
    batches_saturated: int  # batches with at least one
    batches: int  # batches counted
    worst_batch: int  # the batch with the largest fraction (-1: none yet)
    worst_fraction: float

    @property
    def fraction(self) -> float:
        """The newest batch's saturated share of its output samples (0..1)."""
        return self.count / self.samples if self.samples else 0.0


class SaturationCounter:
    """Counts saturated samples batch by batch; `add` returns the running `Saturation`."""

    def __init__(self, config: SamplingConfig) -> None:
        self.limits = saturation_current(config.amplification) * (1.0 - TOLERANCE)
        self.total = self.batches_saturated = self.batches = 0
        self.worst_batch, self.worst_fraction = -1, 0.0
        self.latest: Saturation | None = None

    def add(self, index: int, outputs: np.ndarray) -> Saturation:
        count = int(np.count_nonzero(np.abs(outputs) >= self.limits))
        samples = int(outputs.size)
        fraction = count / samples if samples else 0.0
        self.total += count
        self.batches += 1
        self.batches_saturated += count > 0
        if count and fraction > self.worst_fraction:
            self.worst_batch, self.worst_fraction = index, fraction
        self.latest = Saturation(
            index,
            count,
            samples,
            self.total,
            self.batches_saturated,
            self.batches,
            self.worst_batch,
            self.worst_fraction,
        )
        return self.latest
