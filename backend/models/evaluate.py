"""Predicting with a trained network and scoring it in nA.

`predict` runs the network in chunks without autograd; `split_mse` is the
peer's per-batch loss (the mean of each `batch_size` chunk, times its rows,
summed in float64), so validation figures are brainspy-smg's to the last
digit. `evaluate_model` is `samplelab evaluate`: any dataset or recording
against a trained file, RMSE in nA, predicted-vs-measured figure.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from backend.errors import SamplelabError
from backend.files import write_text_atomic
from backend.jobs import CancelToken, JobControl, ProgressFn
from backend.models.data import load_training_data
from backend.models.plots import error_png
from backend.models.surrogate import SurrogateModel

PREDICT_CHUNK = 1 << 16


def predict(
    net: nn.Module,
    inputs: torch.Tensor,
    rows: torch.Tensor | None = None,
    chunk: int = PREDICT_CHUNK,
) -> torch.Tensor:
    """Network outputs for `inputs[rows]` (all rows if None), in eval mode, chunk by chunk."""
    net.eval()
    n = len(inputs) if rows is None else len(rows)
    parts = []
    with torch.inference_mode():
        for a in range(0, n, chunk):
            x = (
                inputs[a : a + chunk]
                if rows is None
                else inputs.index_select(0, rows[a : a + chunk])
            )
            parts.append(net(x))
    return torch.cat(parts) if parts else inputs.new_zeros((0, 1))


def split_mse(
    net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, rows: torch.Tensor, batch: int
) -> torch.Tensor:
    """The peer's mean squared error over `rows` (in target units), as a 0-d float64 tensor."""
    net.eval()
    total = torch.zeros((), dtype=torch.float64, device=inputs.device)
    with torch.inference_mode():
        for a in range(0, len(rows), batch):
            idx = rows[a : a + batch]
            x, y = inputs.index_select(0, idx), targets.index_select(0, idx)
            total += functional.mse_loss(net(x), y).double() * len(idx)
    return total / max(1, len(rows))


def rmse_nA(measured: np.ndarray, predicted: np.ndarray) -> list[float]:
    """RMSE per output, in nA."""
    diff = np.asarray(measured, float) - np.asarray(predicted, float)
    return np.sqrt(np.mean(diff**2, axis=0)).reshape(-1).tolist()


@dataclass
class Evaluation:
    """A model scored on a dataset: per-output RMSE (nA) and what it was computed from."""

    model: str
    dataset: list[str]
    rows: int
    rmse_nA: list[float]
    measured: np.ndarray
    predicted: np.ndarray
    outside_ranges: float  # fraction of rows with an input outside the model's training ranges
    files: dict[str, Path] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "dataset": self.dataset,
            "rows": self.rows,
            "rmse_nA": self.rmse_nA,
            "outside_training_ranges": self.outside_ranges,
            "files": {k: str(v) for k, v in self.files.items()},
        }


def evaluate_model(
    model_path: str | os.PathLike,
    datasets: list[str | os.PathLike],
    out_dir: str | os.PathLike | None = None,
    *,
    trust_pickle: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Evaluation:
    """Score a trained model on every row of `datasets`; figures and JSON go to `out_dir`."""
    control = JobControl(progress, cancel)
    model = SurrogateModel.load(model_path, trust_pickle=trust_pickle)
    data = load_training_data(datasets, trust_pickle=trust_pickle, progress=progress, cancel=cancel)
    if (data.d_in, data.d_out) != (model.n_inputs, model.n_outputs):
        raise SamplelabError(
            f"the model takes {model.n_inputs} inputs and gives {model.n_outputs} outputs; "
            f"the dataset has {data.d_in} inputs and {data.d_out} outputs",
            "Evaluate a model on data from the same electrode layout.",
        )
    measured = data.targets.astype(np.float64) * data.amplification
    control.report("predicting", 0, data.n_rows)
    predicted = model(data.inputs)
    control.report("predicting", data.n_rows, data.n_rows)
    outside = 0.0
    if model.voltage_ranges is not None:
        lo, hi = model.voltage_ranges[:, 0], model.voltage_ranges[:, 1]
        tol = 1e-6
        bad = ((data.inputs < lo - tol) | (data.inputs > hi + tol)).any(axis=1)
        outside = float(bad.mean())
    result = Evaluation(
        model=str(model_path),
        dataset=[s.path for s in data.sources],
        rows=data.n_rows,
        rmse_nA=rmse_nA(measured, predicted),
        measured=measured,
        predicted=predicted,
        outside_ranges=outside,
    )
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = _stem(Path(data.sources[0].path))
        rms = float(np.sqrt(np.mean(np.square(result.rmse_nA))))
        result.files["figure"] = error_png(
            measured, predicted, rms, out / f"evaluate_{stem}.png", label=stem
        )
        summary = out / f"evaluate_{stem}.json"
        result.files["summary"] = summary
        write_text_atomic(summary, json.dumps(result.to_json(), indent=2))
    return result


def _stem(path: Path) -> str:
    name = path.parent.name if path.stem in ("postprocessed_data", "train") else path.stem
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "dataset"
