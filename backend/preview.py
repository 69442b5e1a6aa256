"""The live clipping preview: how many rows would a candidate range drop?

`scan_row_means` reads a source once (outputs only where the storage allows)
and returns a `RowMeanHistogram`; its `dropped(lo, hi)` answers for any range
in microseconds, so the GUI can update the number as the user drags. After a
postprocess run the same histogram is in the results file
(`PostprocessedFile.row_mean_histogram()`), and `preview_dropped` turns a
clip spec ('default', None, [lo, hi]) into the estimate.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from backend.histograms import (
    PREVIEW_BINS,
    DropEstimate,
    MinMax,
    RowMeanHistogram,
    Spool,
    row_means,
)
from backend.jobs import CancelFn, ProgressFn, as_control
from backend.sources import DEFAULT_CHUNK_ROWS, SamplingSource, source_from


def scan_row_means(
    source: str | os.PathLike | Sequence[str | os.PathLike] | SamplingSource,
    bins: int = PREVIEW_BINS,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> RowMeanHistogram:
    """The per-row output mean histogram behind the live clipping preview.

    One pass over the source (a worker-thread job); afterwards
    `histogram.dropped(lo, hi)` answers instantly for any candidate range.
    """
    ctl = as_control(None, on_progress, cancelled)
    with source_from(source) as src, Spool(1) as means:
        mm = MinMax(1)
        for first, y in src.iter_output_chunks(chunk_rows):
            ctl.report("scanning", first, src.n_rows)
            mean = row_means(y)
            means.append(mean)
            mm.add(mean[:, None])
        lo, hi = mm.ranges()[0]
        return RowMeanHistogram.from_spool(means, lo, hi, bins)


def preview_dropped(
    histogram: RowMeanHistogram, clip: object, amplification: Sequence[float]
) -> DropEstimate:
    """Rows `clip` ('default', None, [lo, hi] or x) would drop, from the scan's histogram."""
    from backend.electrodes import clipping_value

    value = clipping_value(clip, amplification)
    if value is None:
        return histogram.dropped(None, None)
    return histogram.dropped(value[0], value[1])
