"""PNG figures of I-V curves and consistency checks (matplotlib Agg, never pyplot)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from backend.characterise.ivconfig import DeviceGroup
from backend.display.figures import new_figure, save_png


def iv_png(
    voltages: np.ndarray,
    currents: np.ndarray,
    groups: Sequence[DeviceGroup],
    path: str | os.PathLike,
    channel_names: Sequence[str] | None = None,
) -> Path:
    """One panel per electrode (current against voltage), one row of panels per device.

    A device's panels show that device's own outputs.
    """
    groups = [g for g in groups if g.electrodes] or [
        DeviceGroup("device", tuple(range(len(voltages))), tuple(range(currents.shape[2])))
    ]
    cols = min(4, max(len(g.electrodes) for g in groups))
    rows_per = [-(-len(g.electrodes) // cols) for g in groups]
    fig = new_figure(3.0 * cols, 2.5 * sum(rows_per) + 0.4 * len(groups))
    grid = fig.add_gridspec(sum(rows_per), cols)
    row = 0
    for group, n_rows in zip(groups, rows_per):
        for i, k in enumerate(group.electrodes):
            ax = fig.add_subplot(grid[row + i // cols, i % cols])
            for j in group.readouts or range(currents.shape[2]):
                ax.plot(voltages[k], currents[k, :, j], linewidth=1, label=f"out {j}")
            name = channel_names[k] if channel_names else f"electrode {k}"
            prefix = f"{group.name}: " if len(groups) > 1 else ""
            ax.set_title(f"{prefix}IV{i + 1} ({name})", fontsize=8)
            ax.set_xlabel("Voltage (V)", fontsize=7)
            ax.set_ylabel("Current (nA)", fontsize=7)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
            if len(group.readouts) > 1 and i == 0:
                ax.legend(fontsize=6)
        row += n_rows
    fig.suptitle("I-V curves")
    return save_png(fig, path)


def first_batch_png(
    stored: np.ndarray, measured: np.ndarray, path: str | os.PathLike, model: np.ndarray | None
) -> Path:
    """The first charging batch: the stored output against the one measured now."""
    fig = new_figure(6.4, 4.8)
    ax = fig.add_subplot()
    ax.plot(stored, label="Original output", alpha=0.6)
    ax.plot(measured, label="Measured output", alpha=0.6)
    if model is not None:
        ax.plot(model, label="Model output", alpha=0.6)
    ax.set_title("Raw comparison of the first batch of signals")
    ax.set_xlabel("Time points")
    ax.set_ylabel("Output (nA)")
    ax.legend(fontsize=8)
    return save_png(fig, path)


def consistency_png(results: np.ndarray, reference: np.ndarray, path: str | os.PathLike) -> Path:
    """The reference against the mean +- std over repetitions."""
    mean, std = results.mean(axis=0), results.std(axis=0)
    fig = new_figure(8.0, 4.8)
    ax = fig.add_subplot()
    ax.plot(reference, "r", label="reference signal", alpha=0.5)
    ax.plot(mean, "k", label="mean over repetitions", alpha=0.5)
    ax.plot(mean + std, ":k", alpha=0.5)
    ax.plot(mean - std, ":k", label="stdev over repetitions", alpha=0.5)
    ax.set_title(f"Consistency over {len(results)} trials with same input")
    ax.set_xlabel("Time points")
    ax.set_ylabel("Output (nA)")
    _dedup_legend(ax)
    return save_png(fig, path)


def difference_png(results: np.ndarray, reference: np.ndarray, path: str | os.PathLike) -> Path:
    """Histogram of |mean - reference| per point: where the device answers differently."""
    diff = np.abs(results.mean(axis=0) - reference).reshape(-1)
    fig = new_figure(6.4, 4.8)
    ax = fig.add_subplot()
    ax.hist(diff, bins=50)
    ax.set_title("|mean - reference| per point (nA)")
    ax.set_xlabel("Deviation (nA)")
    ax.set_ylabel("Counts")
    return save_png(fig, path)


def deviations_png(deviations: np.ndarray, path: str | os.PathLike, limit: float | None) -> Path:
    """Histogram of the RMSE of each repetition against the reference, with the limit."""
    fig = new_figure(6.4, 4.8)
    ax = fig.add_subplot()
    ax.hist(deviations, bins=max(5, min(30, len(deviations))), alpha=0.7)
    if limit is not None:
        ax.axvline(limit, color="r", linestyle="--", label=f"limit {limit:g} nA")
        ax.legend(fontsize=8)
    ax.set_title("RMSE deviations from the reference signal (nA)")
    ax.set_xlabel("RMSE (nA)")
    ax.set_ylabel("Repetitions")
    return save_png(fig, path)


def chargeup_png(
    deviation_chargeup: np.ndarray, path: str | os.PathLike, model: np.ndarray | None = None
) -> Path:
    """RMSE of each charging batch against the stored one: does the device settle?"""
    fig = new_figure(6.4, 4.8)
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(deviation_chargeup) + 1), deviation_chargeup, "o-", label="Device")
    if model is not None:
        ax.plot(np.arange(1, len(model) + 1), model, "o-", label="Device vs model", alpha=0.6)
        ax.legend(fontsize=8)
    ax.set_title("RMSE deviations (nA) while charging up")
    ax.set_xlabel("Charging batch")
    ax.set_ylabel("RMSE (nA)")
    return save_png(fig, path)


def _dedup_legend(ax) -> None:
    handles, labels = ax.get_legend_handles_labels()
    seen: dict[str, object] = {}
    for h, label in zip(handles, labels):
        seen.setdefault(label, h)
    ax.legend(list(seen.values()), list(seen), fontsize=8)
