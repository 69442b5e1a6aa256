"""The Device protocol every measurement back end implements.

A device takes one ramped batch (volts, starting and ending at 0 V) and returns
the readout of the batch part in nA. `sample` is final: it runs the safety check
before the subclass's `_sample` can touch a driver. Leaving a device (close,
context exit, error) always drives its outputs to 0 V first.

In a held session (`backend.devices.held`) the outputs keep a level between
frames: `sample_held` and `move_held` check every frame against the level the
device itself says it holds and the session's slew bound before `_sample_held`
or `_move` can touch a driver. A held frame that fails leaves the outputs
where it stopped; the device then ramps them down from there. `set_zero` is
final too: from a held level it ramps down first, never steps.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from backend.acquisition.safety import MAX_SLEW_V_PER_S, check_batch, check_held
from backend.acquisition.waves import RampedBatch
from backend.config import SamplingConfig
from backend.devices.held import HeldFrame, check_slew, slewed_ramp
from backend.errors import DeviceError, SafetyError

log = logging.getLogger(__name__)


class Device(ABC):
    """Base class: open, describe, sample a ramped batch, set_zero, close."""

    kind = "device"
    #: Whether the device can hold levels between frames (implements `_sample_held`,
    #: `_move` and `_stopped_level`).
    holds_levels = False

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
        #: The level each activation output holds now (V): 0 outside held sessions,
        #: NaN where a failure left it unknown.
        self.held = np.zeros(self.n_inputs)
        #: The slew bound of the held session in progress (V/s), None outside one.
        self.held_slew: float | None = None

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
        if np.any(self.held != 0.0):
            raise SafetyError(
                "refused a batch: the outputs hold a level and a batch starts at 0 V",
                "Ramp the outputs to 0 V first (end the held session); nothing was written.",
            )
        self._require_open()
        self.last_zero = ()  # the outputs move again
        out = np.asarray(self._sample(batch), dtype=np.float64)
        if out.shape != (batch.batch_points, self.n_outputs):
            raise DeviceError(
                f"the device returned {out.shape} samples for a batch of "
                f"{(batch.batch_points, self.n_outputs)}"
            )
        return out

    def _require_open(self) -> None:
        if not self.is_open:
            raise DeviceError(
                "the device is not open", "Open it (or use it in a with-block) first."
            )

    # --- held levels ----------------------------------------------------------
    def begin_held(self, slew_v_per_s: float) -> None:
        """Start a held session whose steps stay within `slew_v_per_s`; outputs at 0 V."""
        self._require_open()
        slew = check_slew(slew_v_per_s)
        if not self.holds_levels:
            raise DeviceError(f"the {self.kind} device cannot hold levels between frames")
        if np.any(self.held != 0.0):
            raise SafetyError("a held session starts at 0 V, but the outputs hold a level")
        self.held_slew = slew

    def end_held(self) -> None:
        """End the held session: ramp down if the outputs still hold a level."""
        try:
            if np.any(self.held != 0.0):
                self.set_zero()
        finally:
            self.held_slew = None

    def _check_held(self, data: np.ndarray) -> np.ndarray:
        if self.held_slew is None:
            raise SafetyError(
                "refused a held frame outside a held session",
                "Use backend.devices.held.HeldOutputs; nothing was written to the device.",
            )
        return check_held(
            data,
            self.ranges,
            self.held,
            self.held_slew,
            self.config.fs,
            channel_names=self.activation_channels,
        )

    def sample_held(self, frame: HeldFrame) -> np.ndarray:
        """(points, n_outputs) nA for one held frame, after the held-level check.

        On success the outputs hold the frame's last sample; if the frame fails they
        are ramped down from wherever it stopped before the error goes on.
        """
        self._check_held(frame.data)
        self._require_open()
        self.last_zero = ()
        try:
            out = np.asarray(self._sample_held(frame), dtype=np.float64)
        except BaseException:
            self._after_failed_run(frame.data)
            raise
        self.held = frame.data[:, -1].copy()
        if out.shape != (frame.points, self.n_outputs):
            raise DeviceError(
                f"the device returned {out.shape} samples for a frame of "
                f"{(frame.points, self.n_outputs)}"
            )
        return out

    def move_held(self, data: np.ndarray) -> None:
        """Generate `data` (a ramp between held levels) without reading; checked first."""
        data = self._check_held(np.ascontiguousarray(data, dtype=np.float64))
        self._require_open()
        self._run_move(data, recover=True)

    def _run_move(self, data: np.ndarray, recover: bool) -> None:
        self.last_zero = ()
        try:
            self._move(data)
        except BaseException:
            if recover:
                self._after_failed_run(data)
            else:
                self._note_stop(data)
            raise
        self.held = data[:, -1].copy()

    def _note_stop(self, data: np.ndarray) -> None:
        """Where a cut-short frame or ramp left the outputs: the new held level (NaN: unknown)."""
        try:
            stopped = self._stopped_level(data)
        except Exception as exc:
            log.warning("cannot tell where the outputs stopped: %s", exc)
            stopped = None
        unknown = np.full(self.n_inputs, np.nan)
        self.held = unknown if stopped is None else np.asarray(stopped, float)[: self.n_inputs]

    def _after_failed_run(self, data: np.ndarray) -> None:
        """Note where a cut-short frame left the outputs, then ramp them down from there."""
        self._note_stop(data)
        try:
            self._ramp_held_down()
        except Exception as exc:  # the error in flight matters more; set_zero follows
            log.error("could not ramp the outputs down after a failed frame: %s", exc)

    def _ramp_held_down(self) -> None:
        """From a known held level to 0 V: at least the sampler's ramp, within the bound."""
        level = self.held
        if not np.isfinite(level).all() or not np.any(level != 0.0):
            return
        slew = self.held_slew or MAX_SLEW_V_PER_S
        fs = self.config.fs
        ramp = slewed_ramp(level, np.zeros_like(level), slew, fs, self.config.ramp_points)
        check_held(ramp, self.ranges, level, slew, fs, channel_names=self.activation_channels)
        self._run_move(ramp, recover=False)

    def set_zero(self) -> None:
        """Drive every activation output to 0 V now; from a held level, ramped first."""
        if np.any(self.held != 0.0):
            if self.is_open and np.isfinite(self.held).all():
                try:
                    self._ramp_held_down()
                except Exception as exc:
                    log.error("could not ramp the held outputs down: %s", exc)
            if np.any(self.held != 0.0):
                log.error("the outputs' level is not known or not 0 V; writing 0 V directly")
        self._set_zero()
        self.held = np.zeros(self.n_inputs)

    @abstractmethod
    def describe(self) -> dict:
        """Plain-JSON facts about the device, stored in every recording."""

    @abstractmethod
    def _set_zero(self) -> None:
        """Drive every activation output to 0 V now (an on-demand write)."""

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...

    @abstractmethod
    def _sample(self, batch: RampedBatch) -> np.ndarray: ...

    def _sample_held(self, frame: HeldFrame) -> np.ndarray:
        """Run one (checked) held frame and read all of it back (`holds_levels` devices)."""
        raise NotImplementedError

    def _move(self, data: np.ndarray) -> None:
        """Generate one (checked) ramp between held levels, nothing read."""
        raise NotImplementedError

    def _stopped_level(self, data: np.ndarray) -> np.ndarray | None:
        """Where a cut-short frame or ramp left the outputs (V per row); None if unknown."""
        return None
