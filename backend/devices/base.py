"""The Device protocol every measurement back end implements.

A device takes one ramped batch (volts, starting and ending at 0 V) and returns
the readout of the batch part in nA. `sample` is final: it runs the safety check
before the subclass's `_sample` can touch a driver. Leaving a device (close,
context exit, error) always drives its outputs to 0 V first.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from backend.config import SamplingConfig
from backend.errors import DeviceError
from backend.safety import check_batch
from backend.waves import RampedBatch

log = logging.getLogger(__name__)


class Device(ABC):
    """Base class: open, describe, sample a ramped batch, set_zero, close."""

    kind = "device"

    def __init__(self, config: SamplingConfig) -> None:
        self.config = config
        layout = config.layout()
        self.activation_channels = layout.activation_channels
        self.readout_channels = layout.readout_channels
        self.ranges = layout.ranges
        self.n_inputs = config.n_inputs
        self.n_outputs = config.n_outputs
        self.is_open = False
        #: The channels the last `set_zero` drove to 0 V (checked by the self-test).
        self.last_zero: tuple[str, ...] = ()

    # --- lifecycle ----------------------------------------------------------
    def open(self) -> None:
        if not self.is_open:
            self._open()
            self.is_open = True

    def close(self) -> None:
        """Drive outputs to 0 V, then release the device; safe to call twice."""
        if not self.is_open:
            return
        try:
            self.set_zero()
        except DeviceError as exc:
            log.error("could not drive outputs to 0 V while closing: %s", exc)
        finally:
            self.is_open = False
            self._close()

    def __enter__(self) -> Device:
        self.open()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- measurement --------------------------------------------------------
    def sample(self, batch: RampedBatch) -> np.ndarray:
        """(batch_points, n_outputs) nA for one ramped batch, after the safety check."""
        check_batch(batch.data, self.ranges, channel_names=self.activation_channels)
        if not self.is_open:
            raise DeviceError(
                "the device is not open", "Open it (or use it in a with-block) first."
            )
        self.last_zero = ()  # the outputs move again
        out = np.asarray(self._sample(batch), dtype=np.float64)
        if out.shape != (batch.batch_points, self.n_outputs):
            raise DeviceError(
                f"the device returned {out.shape} samples for a batch of "
                f"{(batch.batch_points, self.n_outputs)}"
            )
        return out

    @abstractmethod
    def describe(self) -> dict:
        """Plain-JSON facts about the device, stored in every recording."""

    @abstractmethod
    def set_zero(self) -> None:
        """Drive every activation output to 0 V now."""

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...

    @abstractmethod
    def _sample(self, batch: RampedBatch) -> np.ndarray: ...
