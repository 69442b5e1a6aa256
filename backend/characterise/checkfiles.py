"""Consistency-check result files.

- `consistency_results.npz`: the peer's keys `results` (repetitions, rows,
  n_outputs), `deviations`, `correlation`, plus `deviation_chargeup`
  (charging batches); with a surrogate compared beside, also `model_outputs`,
  `model_deviations`, `model_correlation`, `model_deviation_chargeup`.
- `consistency_verdict.json`: the verdict, its limits and numbers, the folder
  checked and the device's description.
- the peer's plots: `first_batch.png`, `consistency_check.png`,
  `diff_mean-ref.png` (a histogram of |mean - reference| per point),
  `hist_deviations.png`, `deviations_while_charging_up.png`.

Everything is staged in a hidden folder and moved into place when complete.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.characterise import figures
from backend.characterise.consistency import ConsistencyResult
from backend.errors import FileFormatError
from backend.postprocess.job import Staging

RESULTS_NPZ = "consistency_results.npz"
VERDICT_JSON = "consistency_verdict.json"
PLOTS = (
    "first_batch.png",
    "consistency_check.png",
    "diff_mean-ref.png",
    "hist_deviations.png",
    "deviations_while_charging_up.png",
)
#: Members that make an npz a consistency result.
CHECK_KEYS = {"results", "deviations", "correlation"}
_MODEL_KEYS = ("model_outputs", "model_deviations", "model_correlation", "model_deviation_chargeup")


@dataclass
class CheckFile:
    """A consistency result read back: the arrays and, when beside it, the verdict."""

    path: Path
    results: np.ndarray
    deviations: np.ndarray
    correlation: np.ndarray
    deviation_chargeup: np.ndarray | None
    verdict: dict | None


def write_consistency(
    result: ConsistencyResult, out_dir: str | os.PathLike, source: str = ""
) -> dict[str, Path]:
    """Write the npz, the verdict and the plots into `out_dir`; returns name -> path."""
    plots = [p for p in PLOTS if p != "first_batch.png" or result.first_charging is not None]
    if not len(result.deviation_chargeup):
        plots.remove("deviations_while_charging_up.png")
    names = (RESULTS_NPZ, VERDICT_JSON, *plots)
    staging = Staging(Path(out_dir), names)
    try:
        arrays = {
            "results": result.results,
            "deviations": result.deviations,
            "correlation": result.correlation,
            "deviation_chargeup": result.deviation_chargeup,
        }
        for key in _MODEL_KEYS:
            value = getattr(result, key)
            if value is not None:
                arrays[key] = value
        np.savez(staging.dir / RESULTS_NPZ, **arrays)
        verdict = {
            **result.verdict.as_dict(),
            "repetitions": len(result.results),
            "deviations_nA": result.deviations.tolist(),
            "correlation": [_json_number(c) for c in result.correlation.tolist()],
            "deviation_chargeup_nA": result.deviation_chargeup.tolist(),
            "source": source,
            "device": result.device,
        }
        verdict["lowest_correlation"] = _json_number(verdict["lowest_correlation"])
        (staging.dir / VERDICT_JSON).write_text(json.dumps(verdict, indent=2), encoding="utf-8")
        _plots(result, staging.dir, plots)
    except BaseException:
        staging.abandon()
        raise
    return staging.commit(names)


def _json_number(x: float) -> float | None:
    return None if x != x else x  # NaN is not JSON


def _plots(result: ConsistencyResult, folder: Path, plots: list[str]) -> None:
    reference = result.reference_outputs
    if "first_batch.png" in plots and result.first_charging is not None:
        stored, measured = result.first_charging
        figures.first_batch_png(
            stored, measured, folder / "first_batch.png", result.model_first_charging
        )
    figures.consistency_png(result.results, reference, folder / "consistency_check.png")
    figures.difference_png(result.results, reference, folder / "diff_mean-ref.png")
    figures.deviations_png(
        result.deviations, folder / "hist_deviations.png", result.verdict.limits.max_rmse_nA
    )
    if "deviations_while_charging_up.png" in plots:
        figures.chargeup_png(
            result.deviation_chargeup,
            folder / "deviations_while_charging_up.png",
            result.model_deviation_chargeup,
        )


def read_consistency(path: str | os.PathLike) -> CheckFile:
    """A consistency_results.npz (ours or the peer's), read without pickle."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except ValueError as exc:
        raise FileFormatError(f"{path}: holds pickled members ({exc}); not read") from None
    except (OSError, EOFError) as exc:
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None
    missing = CHECK_KEYS - set(data)
    if missing:
        raise FileFormatError(f"{path} is not a consistency result (no {', '.join(missing)})")
    results = np.asarray(data["results"], dtype=float)
    if results.ndim == 2:
        results = results[:, :, None]
    if results.ndim != 3:
        raise FileFormatError(f"{path}: results has shape {results.shape}, not (reps, rows, outs)")
    verdict_path = path.with_name(VERDICT_JSON)
    verdict = None
    if verdict_path.is_file():
        try:
            verdict = json.loads(verdict_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            verdict = None
    chargeup = data.get("deviation_chargeup")
    return CheckFile(
        path,
        results,
        np.asarray(data["deviations"], dtype=float).reshape(-1),
        np.asarray(data["correlation"], dtype=float).reshape(-1),
        None if chargeup is None else np.asarray(chargeup, dtype=float).reshape(-1),
        verdict if isinstance(verdict, dict) else None,
    )
