"""The peer's training figures, drawn with matplotlib's Agg canvas (no pyplot, thread-safe).

- `training_profile.png`: train and validation RMSE (nA) per epoch, test RMSE as a line;
- `<SPLIT>_error.png`: predicted vs measured (with the diagonal) and the error histogram;
- `<SPLIT>_error_vs_output.png`: error against the measured output.

Scatter plots show at most `MAX_SCATTER` points (a seeded random choice,
said in the title); histograms and RMSE use every point.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from backend.display.figures import new_figure, save_png

MAX_SCATTER = 50_000
HIST_BINS = 200


MARGINS = {"left": 0.12, "right": 0.96, "bottom": 0.11, "top": 0.88}


def _figure(width: float, height: float, **margins: float):
    """An Agg figure with fixed margins (constrained layout costs ~0.5 s a figure)."""
    return new_figure(width, height, **{**MARGINS, **margins})


def _shown(n: int) -> tuple[np.ndarray, str]:
    if n <= MAX_SCATTER:
        return np.arange(n), ""
    pick = np.sort(np.random.default_rng(0).choice(n, MAX_SCATTER, replace=False))
    return pick, f" ({MAX_SCATTER:,} of {n:,} points shown)"


def training_profile_png(
    train_nA: Sequence[float],
    val_nA: Sequence[float] | None,
    test_nA: float | None,
    path: str | os.PathLike,
    best_epoch: int | None = None,
) -> Path:
    fig = _figure(6.4, 4.8)
    ax = fig.add_subplot()
    epochs = np.arange(len(train_nA))
    ax.plot(epochs, train_nA, label="training")
    if val_nA is not None and len(val_nA):
        ax.plot(np.arange(len(val_nA)), val_nA, label="validation")
    if best_epoch is not None:
        ax.axvline(best_epoch, color="0.6", linestyle=":", linewidth=1, label="best epoch")
    if test_nA is not None:
        ax.axhline(test_nA, color="k", linestyle="--", linewidth=1, label="test")
        ax.set_title(f"Training profile\nTest RMSE: {test_nA:.6g} nA")
    else:
        ax.set_title("Training profile")
    if len(train_nA) and min(train_nA) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("RMSE (nA)")
    ax.legend()
    return save_png(fig, path)


def error_png(
    measured: np.ndarray,
    predicted: np.ndarray,
    rmse_nA: float,
    path: str | os.PathLike,
    label: str = "",
) -> Path:
    """Predicted vs measured (left) and the error histogram (right), as the peer lays them out."""
    measured = np.asarray(measured, dtype=float).reshape(len(measured), -1)
    predicted = np.asarray(predicted, dtype=float).reshape(measured.shape)
    error = measured - predicted
    pick, note = _shown(len(measured))
    fig = _figure(9.6, 4.4, left=0.08, right=0.98, wspace=0.28)
    left, right = fig.subplots(1, 2)
    for j in range(measured.shape[1]):
        name = f"output {j}" if measured.shape[1] > 1 else None
        left.plot(measured[pick, j], predicted[pick, j], ".", markersize=2, alpha=0.5, label=name)
    lo = float(min(measured.min(), predicted.min()))
    hi = float(max(measured.max(), predicted.max()))
    left.plot([lo, hi], [lo, hi], "k", linewidth=1)
    left.set_xlabel("Measured output (nA)")
    left.set_ylabel("Predicted output (nA)")
    left.set_title(f"{label} RMSE {rmse_nA:.6g} nA{note}".strip(), fontsize=9)
    if measured.shape[1] > 1:
        left.legend(fontsize=7)
    flat = error.ravel()
    span = float(np.percentile(np.abs(flat), 99.9)) or 1.0
    right.hist(flat, bins=HIST_BINS, range=(-span, span))
    right.set_xlabel("Error: measured - predicted (nA)")
    right.set_ylabel("Count")
    right.set_title("Error histogram (99.9 % of points)", fontsize=9)
    return save_png(fig, path)


def error_vs_output_png(
    measured: np.ndarray, predicted: np.ndarray, path: str | os.PathLike, label: str = ""
) -> Path:
    measured = np.asarray(measured, dtype=float).reshape(len(measured), -1)
    error = measured - np.asarray(predicted, dtype=float).reshape(measured.shape)
    pick, note = _shown(len(measured))
    fig = _figure(6.4, 4.8)
    ax = fig.add_subplot()
    ax.plot(measured[pick].ravel(), error[pick].ravel(), ".", markersize=2, alpha=0.5)
    ax.axhline(0.0, color="k", linewidth=1)
    ax.set_title(f"{label} error vs output{note}".strip())
    ax.set_xlabel("Measured output (nA)")
    ax.set_ylabel("Error (nA)")
    return save_png(fig, path)
