"""Screenshots of the Postprocess page and the Dataset export dialog (called by screenshots.py).

Uses the recording the sampling shots just made (offered on the page as
"recorded in this session"), sets custom clip limits that drop a visible share
of rows, runs postprocessing into the temporary folder and shoots the page
with its results; then exports a dataset from the result and shoots the dialog.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _wait(pump: Callable[[float], None], condition: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        pump(0.05)
    if not condition():
        raise RuntimeError("timed out waiting for the postprocess page")


def shoot(window, out: Path, work: Path, pump: Callable[[float], None]) -> list[str]:
    """Write postprocess.png and dataset-export.png into `out`; returns their names."""
    page = window.pages["postprocess"]
    window.tabs.setCurrentWidget(page)
    recordings = page.recordings.paths()
    if not recordings:
        raise RuntimeError("the sampling shots made no recording to postprocess")
    page.sources.add_suggestion.click()
    _wait(pump, lambda: page.inputs.preview is not None and not page.inputs.checking, 30)
    # Custom limits at the 3rd and 97th percentile of the row means: a visible cut.
    hist = page.inputs.preview.histogram(1024)
    cumulative = np.cumsum(hist.counts) / hist.total
    lo = float(hist.edges[np.searchsorted(cumulative, 0.03)])
    hi = float(hist.edges[np.searchsorted(cumulative, 0.97) + 1])
    page.clip.set_custom_limits(round(lo, 1), round(hi, 1))
    page.out_edit.setText(str(work / "postprocessed"))
    pump(0.3)
    page.run()
    _wait(pump, lambda: page.run_worker is None, 120)
    if page.outcome is None:
        raise RuntimeError("postprocessing failed in the screenshot run")
    pump(0.8)
    window.grab().save(str(out / "postprocess.png"))

    page.open_dataset_dialog()
    dialog = page.dataset_dialog
    _wait(pump, lambda: bool(dialog.source_paths()) and not dialog.inputs.pending, 30)
    dialog.blocks.setChecked(True)
    dialog.block_rows.setValue(1000)
    dialog.seed.setValue(7)
    dialog.out_edit.setText(str(work / "dataset"))
    dialog.run()
    _wait(pump, lambda: dialog.worker is None, 120)
    pump(0.5)
    dialog.grab().save(str(out / "dataset-export.png"))
    dialog.close()
    return ["postprocess.png", "dataset-export.png"]
