"""What a training run leaves in its folder, and the result it hands back.

    training_data.pt              the checkpoint (see backend.models.checkpoint)
    training_profile.png          RMSE per epoch, train and validation; test as a line
    <SPLIT>_error.png             predicted vs measured + error histogram, per split
    <SPLIT>_error_vs_output.png   error against the measured output, per split
    smg_configs.yaml              the run's settings in the peer's config layout
    training_summary.json         losses per epoch, RMSE per split (nA), data provenance

Every file is written under a temporary name and moved into place, and the
summary last: a folder with a summary holds a complete run.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from backend import __version__
from backend.datasets.model import get_info_dict
from backend.errors import SamplelabError
from backend.files import write_text_atomic
from backend.models.checkpoint import CHECKPOINT_NAME, checkpoint_dict, save_checkpoint
from backend.models.data import plain
from backend.models.evaluate import predict, split_mse
from backend.models.plots import error_png, error_vs_output_png, training_profile_png
from backend.models.run import Run
from backend.models.settings import peer_training_configs

SUMMARY_NAME = "training_summary.json"
PROFILE_NAME = "training_profile.png"
CONFIG_NAME = "smg_configs.yaml"
PEER_LABELS = {"train": "TRAINING", "validation": "VALIDATION", "test": "TEST"}


def output_names() -> list[str]:
    """Every file name a run may write (so a rerun can clear them all first)."""
    names = [CHECKPOINT_NAME, SUMMARY_NAME, PROFILE_NAME, CONFIG_NAME]
    for label in PEER_LABELS.values():
        names += [f"{label}_error.png", f"{label}_error_vs_output.png"]
    return names


def refuse_existing(out_dir: str | os.PathLike, overwrite: bool) -> None:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SamplelabError(f"{out} is a file, not a folder", "Give a folder for the results.")
    existing = [n for n in output_names() if (out / n).exists()]
    if existing and not overwrite:
        raise SamplelabError(
            f"{out} already holds the results of a training run ({', '.join(existing[:3])}…)",
            "Choose another output folder, or allow overwriting (--overwrite).",
        )


def clear_outputs(out_dir: str | os.PathLike) -> None:
    for name in output_names():
        (Path(out_dir) / name).unlink(missing_ok=True)


@dataclass
class SplitScore:
    """One split scored with the kept weights; arrays in nA."""

    name: str
    rows: int
    rmse_nA: list[float]
    measured: np.ndarray
    predicted: np.ndarray


@dataclass
class TrainingResult:
    out_dir: Path
    status: str  # complete | early_stopped | cancelled
    seed: int
    best_epoch: int
    train_nA: tuple[float, ...]
    val_nA: tuple[float, ...]
    test_rmse_nA: float | None
    scores: dict[str, SplitScore]
    files: dict[str, Path] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    @property
    def checkpoint(self) -> Path:
        return self.files["checkpoint"]


def info_dict(run: Run) -> dict:
    """The checkpoint's `info`: the peer's four keys (+ per-split configs), plain types."""
    data = run.data
    training = peer_training_configs(
        run.settings, run.seed, [s.path for s in data.sources], str(run.out_dir), run.device.type
    )
    training["model_structure"] = run.net.structure.to_peer()
    info = get_info_dict(training, data.sampling_configs)
    info.update(data.extra_configs)
    return plain(info)


def write_checkpoint(run: Run, with_test: bool, test_loss: torch.Tensor | None = None) -> Path:
    """The best epoch's checkpoint into the run's folder (`test_loss` only at the end)."""
    best = run.best
    assert best is not None
    upto = best.epoch + 1
    data = checkpoint_dict(
        epoch=best.epoch,
        state=OrderedDict(best.state),
        info=info_dict(run),
        optimizer_state=best.optimizer,
        train_losses=torch.stack(run.train_nA[:upto]),
        val_losses=torch.stack(run.val_nA[:upto]) if run.val_nA else torch.zeros((0, 1)),
        min_val_loss=best.val_nA,
        test_loss=test_loss if with_test else None,
    )
    return save_checkpoint(data, run.out_dir / CHECKPOINT_NAME)


def _score(run: Run, name: str) -> tuple[SplitScore, torch.Tensor]:
    rows = run.rows[name].to(run.device)
    mse = split_mse(run.net, run.x, run.y, rows, run.settings.batch_size).item()
    rmse = run.amp32 * float(np.sqrt(mse))
    predicted = predict(run.net, run.x, rows).cpu().numpy().astype(np.float64)
    measured = run.y.index_select(0, rows).cpu().numpy().astype(np.float64)
    amp = run.data.amplification
    score = SplitScore(name, len(rows), rmse.tolist(), measured * amp, predicted * amp)
    return score, rmse


def finish(run: Run, figures: bool = True) -> TrainingResult:
    """Score every split with the best weights and write the folder's files."""
    best = run.best
    assert best is not None
    run.net.load_state_dict(best.state)
    run.net.eval()
    scores, test_loss = {}, None
    for name in run.rows:
        scores[name], rmse = _score(run, name)
        if name == "test":
            test_loss = rmse
    out = run.out_dir
    files = {"checkpoint": write_checkpoint(run, True, test_loss)}
    train_nA, val_nA = tuple(run.train_curve), tuple(run.val_curve)
    test_nA = None if test_loss is None else float(test_loss.square().mean().sqrt())
    if figures:
        files.update(_figures(run, scores, train_nA, val_nA, test_nA))
    files["config"] = _write_text(out / CONFIG_NAME, _config_yaml(run))
    result = TrainingResult(
        out, run.status, run.seed, best.epoch, train_nA, val_nA, test_nA, scores, files
    )
    result.summary = summary(run, result)
    files["summary"] = _write_text(out / SUMMARY_NAME, json.dumps(result.summary, indent=1))
    return result


def _figures(run: Run, scores: dict, train_nA: tuple, val_nA: tuple, test_nA: float | None):
    out = run.out_dir
    assert run.best is not None
    files = {
        "profile": training_profile_png(
            train_nA, val_nA or None, test_nA, out / PROFILE_NAME, run.best.epoch
        )
    }
    for name, score in scores.items():
        label = PEER_LABELS[name]
        rms = float(np.sqrt(np.mean(np.square(score.rmse_nA))))
        files[f"{name}_error"] = error_png(
            score.measured, score.predicted, rms, out / f"{label}_error.png", label.capitalize()
        )
        files[f"{name}_error_vs_output"] = error_vs_output_png(
            score.measured,
            score.predicted,
            out / f"{label}_error_vs_output.png",
            label.capitalize(),
        )
    return files


def summary(run: Run, result: TrainingResult) -> dict:
    """The run as plain JSON: settings, losses per epoch, RMSE per split, data provenance."""
    settings = asdict(run.settings)
    settings.pop("extra", None)
    data = run.data
    return {
        "format": "samplelab-training",
        "format_version": 1,
        "status": run.status,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "samplelab": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(run.device),
        "threads": torch.get_num_threads(),
        "seed": run.seed,
        "settings": settings,
        "structure": run.net.structure.to_peer(),
        "epochs_run": len(run.train_nA),
        "best_epoch": result.best_epoch,
        "train_rmse_nA": list(result.train_nA),
        "val_rmse_nA": list(result.val_nA),
        "test_rmse_nA": result.test_rmse_nA,
        "rmse_nA": {name: s.rmse_nA for name, s in result.scores.items()},
        "epoch_seconds": [round(t, 6) for t in run.epoch_s],
        "epoch_cpu_seconds": [round(t, 6) for t in run.epoch_cpu_s],
        "wall_s": round(time.time() - run.started, 3),
        "data": {
            "sources": [s.to_json() for s in data.sources],
            "rows": {name: len(r) for name, r in run.rows.items()},
            "amplification": data.amplification.tolist(),
            "inputs": data.d_in,
            "outputs": data.d_out,
        },
        "files": {k: p.name for k, p in result.files.items()},
    }


def _config_yaml(run: Run) -> str:
    s = run.settings
    config = peer_training_configs(
        s, run.seed, [src.path for src in run.data.sources], str(run.out_dir), run.device.type
    )
    config["model_structure"] = run.net.structure.to_peer()
    return yaml.safe_dump(plain(config), sort_keys=False)


def _write_text(path: Path, text: str) -> Path:
    return write_text_atomic(path, text)
