"""PNG figures for reports: histograms and waveforms, drawn from data we already have.

matplotlib is imported lazily and used through `Figure` + the Agg canvas
only, never `pyplot`: no global figure state, no GUI backend, safe on a
worker thread and next to Qt.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.histograms import Histogram
from backend.files import written_atomically

_MAX_POINTS = 4000


def new_figure(width: float, height: float, **margins: float) -> Any:
    """A matplotlib Figure (inches) on the Agg canvas: no pyplot, safe on any thread.

    Laid out by matplotlib's constrained layout, or with fixed `margins`
    (`subplots_adjust` keywords) where that layout's ~0.5 s per figure matters.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # matplotlib: on use
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout=None if margins else "constrained")
    FigureCanvasAgg(fig)
    if margins:
        fig.subplots_adjust(**margins)
    return fig


def save_png(fig: Any, path: str | os.PathLike) -> Path:
    """Write the PNG under a temporary name first, so a failure leaves no half file."""
    with written_atomically(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


def output_distribution_png(
    histograms: Sequence[Histogram],
    path: str | os.PathLike,
    clip_value: Sequence[float] | None = None,
    title: str = "Output Histogram",
) -> Path:
    """The peer's `output_distribution.png`: raw outputs (every 3rd row), 100 bins.

    Dashed lines mark the clipping range when there is one.
    """
    fig = new_figure(6.4, 4.8)
    ax = fig.add_subplot()
    for h in histograms:
        ax.stairs(
            h.counts, h.edges, fill=True, alpha=0.7 if len(histograms) > 1 else 1.0, label=h.name
        )
    if clip_value is not None:
        for x in clip_value:
            ax.axvline(x, color="k", linestyle="--", linewidth=1)
    ax.set_title(title)
    ax.set_xlabel("Raw output (nA)")
    ax.set_ylabel("Counts")
    if len(histograms) > 1:
        ax.legend()
    return save_png(fig, path)


def histograms_png(
    histograms: Sequence[Histogram], path: str | os.PathLike, title: str = ""
) -> Path:
    """One panel per channel (e.g. input-space coverage per electrode)."""
    n = max(1, len(histograms))
    cols = min(4, n)
    rows = -(-n // cols)
    fig = new_figure(3.2 * cols, 2.4 * rows)
    for i, h in enumerate(histograms):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.stairs(h.counts, h.edges, fill=True)
        ax.set_title(h.name, fontsize=9)
        ax.set_xlabel(f"({h.units})", fontsize=8)
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title)
    return save_png(fig, path)


def _envelope(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max per bucket so a long trace keeps its extremes in ~_MAX_POINTS columns."""
    step = -(-len(t) // _MAX_POINTS)
    whole = len(t) // step * step
    tb = t[:whole:step]
    yb = y[:whole].reshape(-1, step, y.shape[1])
    return tb, yb.min(axis=1), yb.max(axis=1)


def waveform_png(
    inputs: np.ndarray,
    outputs: np.ndarray,
    path: str | os.PathLike,
    fs: float | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Inputs (V) over outputs (nA) against time, like the peer's example_batch plot."""
    inputs, outputs = np.asarray(inputs), np.asarray(outputs)
    t = np.arange(len(inputs)) / fs if fs else np.arange(len(inputs), dtype=float)
    fig = new_figure(8.0, 5.6)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, data, names, label in (
        (axes[0], inputs, input_names, "Inputs (V)"),
        (axes[1], outputs, output_names, "Outputs (nA)"),
    ):
        names = (
            list(names) if names else [f"{label.split()[0][:-1]} {i}" for i in range(data.shape[1])]
        )
        if len(t) > 2 * _MAX_POINTS:
            tb, lo, hi = _envelope(t, data)
            for j, name in enumerate(names):
                ax.fill_between(tb, lo[:, j], hi[:, j], label=name, alpha=0.6, linewidth=0)
        else:
            for j, name in enumerate(names):
                ax.plot(t, data[:, j], label=name, linewidth=1)
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="upper right", ncol=min(4, len(names)))
    axes[1].set_xlabel("Time (s)" if fs else "Time points")
    if title:
        fig.suptitle(title)
    return save_png(fig, path)
