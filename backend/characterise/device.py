"""The device a characterisation drives, and how every job leaves it: at 0 V and closed.

Devices are the sampling ones (`backend.devices`): the simulated DNPU with its
built-in model or a trained surrogate (read with weights_only=True), or NI
hardware. Every batch goes through `Device.sample`, i.e. the sampling safety
check, and `driven` drives the outputs to 0 V and closes the device however a
job ends (done, cancelled, an error, Ctrl+C).

A surrogate stands in for the device exactly as brains-py's simulation
processor does: no readout noise and no drift unless asked for; the built-in
model keeps the simulated device's own defaults.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.acquisition.waves import RampedBatch, ramped
from backend.config import SamplingConfig
from backend.devices import Device, make_device
from backend.errors import SamplelabError

if TYPE_CHECKING:
    from backend.devices.models import DeviceModel

log = logging.getLogger(__name__)

#: Simulated device defaults (nA) when no surrogate is given: those of SimulatedDevice.
BUILT_IN_NOISE_NA, BUILT_IN_DRIFT_NA = 0.5, 2.0


class ShiftedModel:
    """A device model whose currents moved by `shift_nA` (and scaled by `gain`) since sampling.

    Injects the kind of change a consistency check must catch.
    """

    def __init__(self, model: DeviceModel, shift_nA: float = 0.0, gain: float = 1.0) -> None:
        self.model, self.shift_nA, self.gain = model, float(shift_nA), float(gain)
        self.n_inputs, self.n_outputs = model.n_inputs, model.n_outputs

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.model(x) * self.gain + self.shift_nA

    def describe(self) -> dict:
        return {**self.model.describe(), "shift_nA": self.shift_nA, "gain": self.gain}


def characterisation_device(
    kind: str,
    config: SamplingConfig,
    model: str | None = None,
    noise_nA: float | None = None,
    drift_nA: float | None = None,
    shift_nA: float = 0.0,
    seed: int = 0,
    realtime: bool = False,
) -> Device:
    """A closed device of `kind` ('simulated' or 'nidaq') for `config`.

    Simulated only: `model` is a surrogate `.pt` file (or 'mlp' / 'analytic'),
    `noise_nA` / `drift_nA` default to 0 for a surrogate and to the built-in
    device's values otherwise, `shift_nA` adds a constant to every current.
    """
    if kind != "simulated":
        if model or noise_nA or drift_nA or shift_nA or realtime:
            raise SamplelabError(
                "--model, --noise, --drift, --shift and --realtime describe the simulated device",
                "Leave them out with --device nidaq.",
            )
        try:
            return make_device(kind, config)
        except ValueError as exc:
            raise SamplelabError(str(exc)) from None
    surrogate = bool(model) and str(model).endswith((".pt", ".pth"))
    noise = noise_nA if noise_nA is not None else (0.0 if surrogate else BUILT_IN_NOISE_NA)
    drift = drift_nA if drift_nA is not None else (0.0 if surrogate else BUILT_IN_DRIFT_NA)
    for name, value in (("noise", noise), ("drift", drift), ("shift", shift_nA)):
        if not np.isfinite(value) or (name != "shift" and value < 0):
            raise SamplelabError(f"--{name} {value}: give a finite number of nA (>= 0)")
    device_model: Any = model or "mlp"
    if surrogate:
        # Here, not at import: models need torch, which the GUI loads after its first paint.
        from backend.devices.models import SurrogateModel

        device_model = SurrogateModel.load(model, list(config.driver.amplification))
    if shift_nA:
        if isinstance(device_model, str):
            device_model = _built_in(device_model, config)
        device_model = ShiftedModel(device_model, shift_nA)
    try:
        return make_device(
            "simulated",
            config,
            model=device_model,
            noise_nA=noise,
            drift_nA=drift,
            seed=seed,
            realtime=realtime,
        )
    except ValueError as exc:  # an unknown model name
        raise SamplelabError(str(exc)) from None


def _built_in(name: str, config: SamplingConfig) -> DeviceModel:
    """The simulated device's own model of that name (the same seed as it would use)."""
    from backend.devices.models import AnalyticModel, MLPModel  # torch: on use

    if name == "mlp":
        return MLPModel(config.voltage_ranges(), config.n_outputs)
    if name == "analytic":
        return AnalyticModel(config.voltage_ranges(), config.n_outputs)
    raise SamplelabError(f"unknown simulated model {name!r}", "Use mlp, analytic or a .pt file.")


@contextlib.contextmanager
def driven(device: Device) -> Iterator[Device]:
    """Open `device` for a job; on every way out set 0 V, then close (each step guarded).

    A failure to reach 0 V is logged loudly but never hides the job's own error.
    """
    device.open()
    try:
        yield device
    finally:
        try:
            device.set_zero()
        except Exception as exc:
            log.error("could not drive the device to 0 V: %s", exc)
        try:
            device.close()
        except Exception as exc:
            log.error("could not close the device cleanly: %s", exc)


def ramped_batch(
    inputs: np.ndarray, ramp_points: int, index: int, fs: float, first_row: int
) -> RampedBatch:
    """`inputs` (rows, n) as sampling sends a batch: the sampler's ramps from and to 0 V.

    `first_row` places the batch on the device's continuous clock (t0 = first_row / fs).
    """
    data = ramped(np.ascontiguousarray(np.asarray(inputs, dtype=float).T), ramp_points)
    return RampedBatch(
        index=index,
        data=data,
        ramp_points=ramp_points,
        batch_points=len(inputs),
        phases=np.zeros(data.shape[0]),
        t0=first_row / fs,
    )


def plain_batch(data: np.ndarray, index: int, fs: float, first_row: int) -> RampedBatch:
    """(n, points) volts that already start and end at 0 V (a sweep), as one batch."""
    data = np.ascontiguousarray(data, dtype=float)
    return RampedBatch(index, data, 0, data.shape[1], np.zeros(data.shape[0]), first_row / fs)
