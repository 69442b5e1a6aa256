"""The built-in simulated DNPU: a model wrapped in a realistic readout chain.

current (model, nA) + slow drift + gaussian noise -> amplifier (nA -> V, maybe
inverting) -> ADC saturating at +-4 V -> reading x amplification (x -1 when the
config says the output is inverted). Every random draw derives from
(seed, batch index), so a resumed session reproduces an uninterrupted one.

With a trained surrogate as its model the device is a digital twin: by
default its recorded points scatter by the model's test RMSE (brains-py's
noise convention) and it does not drift; the recording names the model file
and its sha256, and resuming refuses a model file that changed since.

Held frames (`backend.devices.held`) behave as on NI hardware: the outputs keep
the last sample of a frame until the next one, and a fault stops a frame
halfway, from where the device ramps down.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from backend.acquisition.waves import RampedBatch, ramp_fraction
from backend.config import ADC_LIMIT_V, SamplingConfig
from backend.devices.base import Device
from backend.devices.held import HeldFrame
from backend.errors import (
    DeviceDisconnectedError,
    DeviceError,
    DeviceOverflowError,
    DeviceTimeoutError,
)

if TYPE_CHECKING:
    from backend.devices.models import DeviceModel

_DRIFT_PERIODS_S = (180.0, 900.0, 3600.0)


@dataclass(frozen=True)
class FaultPlan:
    """Faults to inject, by batch index, so tests can prove the session's recovery."""

    timeout_at: int | None = None
    overflow_at: int | None = None
    disconnect_at: int | None = None
    fail_open: bool = False

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """'timeout@5', 'overflow@3', 'disconnect@10' or 'open'."""
        if spec == "open":
            return cls(fail_open=True)
        match = re.fullmatch(r"(timeout|overflow|disconnect)@(\d+)", spec.strip())
        if not match:
            raise ValueError(
                f"unknown fault {spec!r}; use timeout@N, overflow@N, disconnect@N or open"
            )
        return cls(**{f"{match.group(1)}_at": int(match.group(2))})

    def check(self, index: int) -> None:
        if self.timeout_at == index:
            raise DeviceTimeoutError(
                f"simulated device: batch {index} timed out",
                "The device did not answer in time; check the connection and try again.",
            )
        if self.overflow_at == index:
            raise DeviceOverflowError(f"simulated device: input buffer overflow in batch {index}")
        if self.disconnect_at is not None and index >= self.disconnect_at:
            raise DeviceDisconnectedError(f"simulated device: disconnected at batch {index}")


class SimulatedDevice(Device):
    """A DNPU stand-in; `realtime=True` paces batches to their real duration."""

    kind = "simulated"
    holds_levels = True

    def __init__(
        self,
        config: SamplingConfig,
        model: DeviceModel | str = "mlp",
        seed: int = 0,
        model_seed: int = 0,
        noise_nA: float | None = None,
        drift_nA: float | None = None,
        realtime: bool = False,
        faults: FaultPlan | None = None,
        amplifier_inverts: bool | None = None,
        point_noise_nA: float | None = None,
        model_sha256: str | None = None,
    ) -> None:
        """`noise_nA` is the noise of one raw readout sample (a recorded point averages
        `io_point_difference` of them); `point_noise_nA` sets it by the recorded points'
        scatter instead. Unset: 0.5 nA, or a surrogate's test RMSE per point."""
        super().__init__(config)
        self.model_seed = int(model_seed)
        self.model = self._make_model(model, model_seed)
        from backend.devices.models import SurrogateModel  # loaded by _make_model already

        twin = isinstance(self.model, SurrogateModel)
        if twin and model_sha256 and model_sha256 != self.model.sha256:
            raise DeviceError(
                f"the surrogate model {self.model.source} changed since the recording was made "
                "(its sha256 differs)",
                "Resume with the model file the recording names, or start a new recording.",
            )
        io_points = config.io_point_difference
        if noise_nA is not None and point_noise_nA is not None:
            raise ValueError("give noise_nA or point_noise_nA, not both")
        if noise_nA is None:
            per_point = point_noise_nA
            if per_point is None and twin:
                per_point = self.model.test_rmse_nA
            noise_nA = 0.5 if per_point is None else float(per_point) * math.sqrt(io_points)
        if drift_nA is None:
            drift_nA = 0.0 if twin else 2.0
        if (self.model.n_inputs, self.model.n_outputs) != (self.n_inputs, self.n_outputs):
            raise DeviceError(
                f"the simulated device's model has {self.model.n_inputs} inputs and "
                f"{self.model.n_outputs} outputs, the config {self.n_inputs} and {self.n_outputs}",
                "Use a surrogate trained for this electrode layout.",
            )
        self.seed = int(seed)
        self.noise_nA, self.drift_nA = noise_nA, drift_nA
        self.realtime = realtime
        self.faults = faults or FaultPlan()
        self.inverted_output = config.driver.inverted_output
        self.amplifier_inverts = (
            self.inverted_output if amplifier_inverts is None else amplifier_inverts
        )
        self.amplification = config.amplification
        self.fs = config.fs
        self.io_points = config.io_point_difference
        drift_rng = np.random.default_rng([model_seed, 0xD21F7])
        self._drift_phase = drift_rng.uniform(0, 2 * np.pi, (len(_DRIFT_PERIODS_S), self.n_outputs))
        self._drift_periods = np.asarray(_DRIFT_PERIODS_S)[:, None]
        self._drift_weights = 1.0 / np.arange(1, len(_DRIFT_PERIODS_S) + 1)[:, None]
        #: The voltage each activation output holds now (what a scope would show).
        self.output_voltages = np.zeros(self.n_inputs)
        self.zeroed = 0
        self.batches_sampled = 0

    def _make_model(self, model: DeviceModel | str, model_seed: int) -> DeviceModel:
        # Here, not at import: the models need torch, which the GUI loads after its first paint.
        from backend.devices.models import AnalyticModel, MLPModel, SurrogateModel

        if model == "mlp":
            return MLPModel(self.ranges, self.n_outputs, seed=model_seed)
        if model == "analytic":
            return AnalyticModel(self.ranges, self.n_outputs, seed=model_seed)
        if isinstance(model, str) and model.endswith((".pt", ".pth")):
            return SurrogateModel.load(model, list(self.config.driver.amplification))
        if isinstance(model, str):
            raise ValueError(
                f"unknown simulated model {model!r}; use 'mlp', 'analytic' or a surrogate .pt file"
            )
        return model

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "name": "Simulated DNPU",
            "model": self.model.describe(),
            "model_seed": self.model_seed,
            "seed": self.seed,
            "noise_nA": self.noise_nA,
            "point_noise_nA": self.noise_nA / math.sqrt(self.io_points),
            "drift_nA": self.drift_nA,
            "amplifier_inverts": self.amplifier_inverts,
            "realtime": self.realtime,
            "activation_channels": list(self.activation_channels),
            "readout_channels": list(self.readout_channels),
        }

    def _open(self) -> None:
        if self.faults.fail_open:
            raise DeviceDisconnectedError("simulated device: not found when opening")
        self.output_voltages = np.zeros(self.n_inputs)

    def _close(self) -> None:
        pass

    def _set_zero(self) -> None:
        self.output_voltages = np.zeros(self.n_inputs)
        self.zeroed += 1
        self.last_zero = tuple(self.activation_channels)

    def drift(self, t: np.ndarray) -> np.ndarray:
        """(len(t), n_outputs) slow baseline wander in nA: a pure function of time."""
        t = np.asarray(t, dtype=float)
        angles = 2 * np.pi * t[:, None, None] / self._drift_periods + self._drift_phase
        return self.drift_nA * (np.sin(angles) * self._drift_weights).sum(axis=1)

    def batch_drift(self, t0: float, points: int) -> np.ndarray:
        """Drift over one batch: exact at its ends, straight in between.

        The slowest wander period is minutes, a batch lasts about a second: the
        straight line is within 1e-5 nA of `drift` and far cheaper.
        """
        ends = self.drift(np.array([t0, t0 + (points - 1) / self.fs]))
        if points == 1:
            return ends[:1]
        return ends[0] + ramp_fraction(points)[:, None] * (ends[1] - ends[0])

    def _sample(self, batch: RampedBatch) -> np.ndarray:
        started = time.monotonic()
        out = self._run(batch.index, batch.data, batch.inputs, batch.t0, 0x5A3)
        self._pace(batch.data.shape[1], started)
        return out

    def _sample_held(self, frame: HeldFrame) -> np.ndarray:
        started = time.monotonic()
        out = self._run(frame.index, frame.data, frame.inputs, frame.t0, 0x4E1D)
        self._pace(frame.points, started)
        return out

    def _move(self, data: np.ndarray) -> None:
        started = time.monotonic()
        self.output_voltages = data[:, -1].copy()
        self._pace(data.shape[1], started)

    def _stopped_level(self, data: np.ndarray) -> np.ndarray:
        return self.output_voltages.copy()

    def _run(self, index: int, data: np.ndarray, x: np.ndarray, t0: float, stream: int):
        """The readout of `x` (rows, n_inputs) from the activation `data` (n, points) sent."""
        try:
            self.faults.check(index)
        except DeviceError:
            # A real DAQ stops mid-waveform: leave the outputs where a fault would.
            self.output_voltages = data[:, data.shape[1] // 2].copy()
            raise
        points = len(x)
        rng = np.random.default_rng([self.seed, stream, index])
        noise = rng.standard_normal((points, self.n_outputs))
        noise *= self.noise_nA / np.sqrt(self.io_points)
        current = self.model(x) + self.batch_drift(t0, points) + noise
        sign = -1.0 if self.amplifier_inverts else 1.0
        reading = np.clip(sign * current / self.amplification, -ADC_LIMIT_V, ADC_LIMIT_V)
        out = reading * self.amplification * (-1.0 if self.inverted_output else 1.0)
        self.output_voltages = data[:, -1].copy()
        self.batches_sampled += 1
        return out

    def _pace(self, points: int, started: float) -> None:
        """With `realtime`, take as long as the points take at the DAC rate."""
        if self.realtime:
            remaining = points / self.fs - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)


def simulated_options(description: dict) -> dict:
    """Constructor options that rebuild the simulated device a recording describes."""
    model = description.get("model", {})
    name = model.get("model", "mlp")
    surrogate = {"model_sha256": model.get("sha256")} if name == "surrogate" else {}
    return {
        **surrogate,
        "model": model.get("source") if name == "surrogate" else name,
        "seed": description.get("seed", 0),
        "model_seed": description.get("model_seed", model.get("seed", 0)),
        "noise_nA": description.get("noise_nA", 0.5),
        "drift_nA": description.get("drift_nA", 2.0),
        "amplifier_inverts": description.get("amplifier_inverts"),
    }
