"""Consistency check: does the device still answer the stored signals as when it was sampled?

From a postprocessed folder (`reference_batch.npz`, `charging_signal.npz`, and
the config: `sampler_configs.json`, or the JSON copy our npz files carry):

1. charge the device by replaying the charging signal batch by batch through
   the sampler's ramps; per batch the RMSE against the stored outputs
   (`deviation_chargeup`);
2. replay the whole reference signal `repetitions` times: `results[r]` the
   measured outputs, `deviations[r]` = sqrt(mean((results[r] - reference)^2)),
   `correlation[r]` = Pearson correlation with the reference (the peer's
   corrcoef; with several outputs the lowest over outputs, where the peer's
   formula would correlate two outputs with each other);
3. a verdict against the user's limits: "consistent" when every repetition's
   RMSE is at most `max_rmse_nA` and its correlation at least
   `min_correlation`, "drifted" otherwise, with the numbers.

Optionally a surrogate's prediction is compared beside it, as the peer does.
The npz files are read without pickle.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backend.acquisition.safety import check_batch
from backend.characterise.device import driven, ramped_batch
from backend.config import (
    BSPYSMG_CONFIG_NAME,
    SamplingConfig,
    load_config,
    parse_config,
    saturation_current,
)
from backend.data.formats.npz import read_npz_arrays
from backend.data.formats.npz_config import read_npz_config
from backend.devices import Device
from backend.errors import FileFormatError, SamplelabError
from backend.jobs import CancelToken, JobControl, JobProgress, ProgressFn

REFERENCE_NAME, CHARGING_NAME = "reference_batch.npz", "charging_signal.npz"
DEFAULT_MAX_RMSE_NA = 5.0
DEFAULT_MIN_CORRELATION = 0.95


@dataclass(frozen=True)
class Limits:
    """What the user accepts as 'the device still behaves as sampled'."""

    max_rmse_nA: float = DEFAULT_MAX_RMSE_NA
    min_correlation: float = DEFAULT_MIN_CORRELATION

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_rmse_nA) and self.max_rmse_nA > 0):
            raise SamplelabError(f"maximum RMSE {self.max_rmse_nA}: give a number of nA > 0")
        if not -1.0 <= self.min_correlation <= 1.0:
            raise SamplelabError(f"minimum correlation {self.min_correlation}: give -1 ... 1")


@dataclass
class StoredSignals:
    """A folder's config and its stored charging and reference signals."""

    folder: Path
    config: SamplingConfig
    reference_inputs: np.ndarray  # (rows, n_inputs) V
    reference_outputs: np.ndarray  # (rows, n_outputs) nA
    charging_inputs: np.ndarray
    charging_outputs: np.ndarray

    @property
    def batch_points(self) -> int:
        return self.config.batch_points

    def batches(self, which: str) -> int:
        rows = len(self.reference_inputs if which == "reference" else self.charging_inputs)
        return rows // self.batch_points


@dataclass(frozen=True)
class Verdict:
    """The outcome ("consistent" or "drifted"), the limits used, and the numbers behind it."""

    status: str
    limits: Limits
    worst_rmse_nA: float
    mean_rmse_nA: float
    lowest_correlation: float
    failed: tuple[int, ...]  # repetitions outside a limit (0-based)

    @property
    def consistent(self) -> bool:
        return self.status == "consistent"

    def text(self) -> str:
        lim = self.limits
        numbers = (
            f"worst RMSE {self.worst_rmse_nA:.3g} nA (limit {lim.max_rmse_nA:g}), "
            f"lowest correlation {self.lowest_correlation:.4f} (limit {lim.min_correlation:g})"
        )
        if self.consistent:
            return f"consistent: {numbers}"
        which = ", ".join(str(r + 1) for r in self.failed)
        return f"drifted: {numbers}; repetition(s) {which} outside the limits"

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "max_rmse_nA": self.limits.max_rmse_nA,
            "min_correlation": self.limits.min_correlation,
            "worst_rmse_nA": self.worst_rmse_nA,
            "mean_rmse_nA": self.mean_rmse_nA,
            "lowest_correlation": self.lowest_correlation,
            "failed_repetitions": [r + 1 for r in self.failed],
            "text": self.text(),
        }


@dataclass(frozen=True)
class CheckProgress(JobProgress):
    """Progress with everything measured so far (a coalesced report loses nothing)."""

    deviation_chargeup: tuple[float, ...] = ()
    deviations: tuple[float, ...] = ()
    correlation: tuple[float, ...] = ()


@dataclass
class ConsistencyResult:
    """The peer's arrays plus the charge-up deviations, the verdict and what was compared."""

    results: np.ndarray  # (repetitions, rows, n_outputs) nA
    deviations: np.ndarray  # (repetitions,)
    correlation: np.ndarray  # (repetitions,)
    deviation_chargeup: np.ndarray  # (charging batches,)
    verdict: Verdict
    reference_outputs: np.ndarray
    first_charging: tuple[np.ndarray, np.ndarray] | None  # (stored, measured)
    device: dict = field(default_factory=dict)
    model_outputs: np.ndarray | None = None  # a surrogate's prediction of the reference
    model_deviations: np.ndarray | None = None
    model_correlation: np.ndarray | None = None
    model_deviation_chargeup: np.ndarray | None = None
    model_first_charging: np.ndarray | None = None


# --- the folder ---------------------------------------------------------------------------


def load_stored_signals(folder: str | os.PathLike, trust_pickle: bool = False) -> StoredSignals:
    """The folder's config and signals; one clear error for anything missing or inconsistent."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileFormatError(
            f"{folder} is not a folder",
            "Give the postprocessed folder holding reference_batch.npz and charging_signal.npz.",
        )
    missing = [n for n in (REFERENCE_NAME, CHARGING_NAME) if not (folder / n).is_file()]
    if missing:
        raise FileFormatError(
            f"{folder} has no {' or '.join(missing)}",
            "Postprocess the recording first (samplelab postprocess), then check that folder.",
        )
    config = _folder_config(folder, trust_pickle)
    ref_in, ref_out = read_npz_arrays(folder / REFERENCE_NAME)
    chg_in, chg_out = read_npz_arrays(folder / CHARGING_NAME)
    signals = StoredSignals(folder, config, ref_in, ref_out, chg_in, chg_out)
    _check_shapes(signals)
    return signals


def _folder_config(folder: Path, trust_pickle: bool) -> SamplingConfig:
    if (folder / BSPYSMG_CONFIG_NAME).is_file():
        return load_config(folder / BSPYSMG_CONFIG_NAME)
    try:
        data = read_npz_config(folder / REFERENCE_NAME, trust_pickle)
    except FileFormatError as exc:
        raise FileFormatError(
            f"{folder} has no {BSPYSMG_CONFIG_NAME}, and the config inside "
            f"{REFERENCE_NAME} could not be read: {exc.message}",
            exc.hint or "Put the sampler_configs.json of that recording into the folder.",
        ) from None
    data = {k: v for k, v in data.items() if k != "electrode_info"}
    return parse_config(data, str(folder / REFERENCE_NAME))


def _check_shapes(s: StoredSignals) -> None:
    cfg, bp = s.config, s.batch_points
    for name, x, y in (
        (REFERENCE_NAME, s.reference_inputs, s.reference_outputs),
        (CHARGING_NAME, s.charging_inputs, s.charging_outputs),
    ):
        if x.shape[1:] != (cfg.n_inputs,) or y.shape[1:] != (cfg.n_outputs,):
            raise FileFormatError(
                f"{s.folder / name}: {x.shape[1]} inputs and {y.shape[1]} outputs, but the "
                f"config has {cfg.n_inputs} and {cfg.n_outputs}",
                "The signals and the config must come from the same recording.",
            )
        if not len(x) or len(x) % bp:
            raise FileFormatError(
                f"{s.folder / name}: {len(x)} rows is not a whole number of "
                f"{bp}-row batches (batch_time x activation_sampling_frequency)",
                "The signals and the config must come from the same recording.",
            )


# --- the check ------------------------------------------------------------------------------


def correlation_of(measured: np.ndarray, reference: np.ndarray) -> float:
    """Pearson correlation per output; the lowest (NaN when an output is constant)."""
    values = []
    for j in range(reference.shape[1]):
        a, b = measured[:, j], reference[:, j]
        if np.std(a) == 0 or np.std(b) == 0:
            return math.nan
        values.append(float(np.corrcoef(a, b)[0, 1]))
    return min(values)


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def verdict_of(deviations: np.ndarray, correlation: np.ndarray, limits: Limits) -> Verdict:
    """Every repetition within both limits -> consistent; a NaN correlation fails."""
    ok = (deviations <= limits.max_rmse_nA) & (correlation >= limits.min_correlation)
    failed = tuple(int(i) for i in np.flatnonzero(~ok))
    return Verdict(
        "drifted" if failed else "consistent",
        limits,
        float(np.max(deviations)),
        float(np.mean(deviations)),
        float(np.min(correlation)) if not np.isnan(correlation).any() else math.nan,
        failed,
    )


def _precheck(device: Device, signals: StoredSignals, ramp_points: int) -> None:
    """Every batch the check will send passes the safety check before the device opens."""
    bp = signals.batch_points
    for name, inputs in (
        ("charging", signals.charging_inputs),
        ("reference", signals.reference_inputs),
    ):
        for b in range(len(inputs) // bp):
            batch = ramped_batch(inputs[b * bp : (b + 1) * bp], ramp_points, b, device.config.fs, 0)
            try:
                check_batch(batch.data, device.ranges, channel_names=device.activation_channels)
            except SamplelabError as exc:
                raise type(exc)(
                    f"the stored {name} signal, batch {b + 1}: {exc.message}",
                    "Nothing was sent to the device. Check with the config the signal was "
                    "sampled with.",
                ) from None


def check_consistency(
    device: Device,
    signals: StoredSignals,
    repetitions: int = 1,
    *,
    charge: bool = True,
    limits: Limits | None = None,
    model: object | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> ConsistencyResult:
    """Charge (unless `charge` is False), replay the reference `repetitions` times, judge.

    `device` (closed or open) is left at 0 V and closed however this ends. `model`
    is a device model (e.g. a SurrogateModel) whose prediction is compared beside.
    """
    if int(repetitions) < 1:
        raise SamplelabError(f"{repetitions} repetitions: give at least 1")
    control = JobControl(progress, cancel)
    bp, ramp_points, fs = signals.batch_points, signals.config.ramp_points, device.config.fs
    _precheck(device, signals, ramp_points)
    n_charge = signals.batches("charging") if charge else 0
    n_ref = signals.batches("reference")
    total = n_charge + repetitions * n_ref
    ref_out = signals.reference_outputs
    predict = _predictor(model, device) if model is not None else None
    results = np.zeros((repetitions, *ref_out.shape))
    deviations, correlation = np.zeros(repetitions), np.zeros(repetitions)
    chargeup: list[float] = []
    model_chargeup: list[float] = []
    first_charging = model_first = None
    state = {"index": 0, "row": 0, "done": 0, "finished": 0}

    def play(inputs: np.ndarray) -> np.ndarray:
        control.check()
        out = device.sample(ramped_batch(inputs, ramp_points, state["index"], fs, state["row"]))
        state["index"] += 1
        state["row"] += len(inputs)
        state["done"] += 1
        return out

    def report(stage: str) -> None:
        if progress is None:
            return
        control.check()
        finished = state["finished"]
        progress(
            CheckProgress(
                stage,
                state["done"],
                total,
                tuple(chargeup),
                tuple(deviations[:finished].tolist()),
                tuple(correlation[:finished].tolist()),
            )
        )

    control.report("charging", 0, total)
    with driven(device):
        for b in range(n_charge):
            rows = slice(b * bp, (b + 1) * bp)
            measured = play(signals.charging_inputs[rows])
            chargeup.append(rmse(measured, signals.charging_outputs[rows]))
            if predict is not None:
                predicted = predict(signals.charging_inputs[rows])
                model_chargeup.append(rmse(measured, predicted))
                model_first = predicted if b == 0 else model_first
            if b == 0:
                first_charging = (signals.charging_outputs[rows].copy(), measured)
            report("charging")
        for r in range(repetitions):
            for b in range(n_ref):
                rows = slice(b * bp, (b + 1) * bp)
                results[r, rows] = play(signals.reference_inputs[rows])
                report("reference")
            deviations[r] = rmse(results[r], ref_out)
            correlation[r] = correlation_of(results[r], ref_out)
            state["finished"] = r + 1
            report("reference")
    result = ConsistencyResult(
        results=results,
        deviations=deviations,
        correlation=correlation,
        deviation_chargeup=np.asarray(chargeup, dtype=float),
        verdict=verdict_of(deviations, correlation, limits or Limits()),
        reference_outputs=ref_out,
        first_charging=first_charging,
        device=device.describe(),
    )
    if predict is not None:
        predicted = predict(signals.reference_inputs)
        result.model_outputs = predicted
        result.model_deviations = np.array([rmse(r, predicted) for r in results])
        result.model_correlation = np.array([correlation_of(r, predicted) for r in results])
        result.model_deviation_chargeup = np.asarray(model_chargeup, dtype=float)
        result.model_first_charging = model_first
    return result


def _predictor(model: object, device: Device):
    """The model's currents as the readout would see them: clipped at the ADC's range."""
    limit = saturation_current(device.config.amplification)

    def predict(x: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(model(x), dtype=float), -limit, limit)  # type: ignore[operator]

    return predict
