"""The live clipping preview: exactly how many rows would a candidate range drop?

`scan_row_means` reads a source once (outputs only where the storage allows)
and returns `RowMeans`: every row's output mean, sorted. Clipping drops the
rows whose mean is not strictly inside (lo, hi)
(`backend.postprocess.electrodes.kept_by_clipping`), so the count is two binary searches:
`dropped(lo, hi)` answers in microseconds, for any range, and it is the count
a run drops, not an estimate. Saturated rows (a mass of rows exactly at the
clip edge), means exactly on a limit and NaN means are all counted as the
run counts them: both compare the same float64 means (`row_means`) with the
same float limits.

Memory stays bounded: the means are sorted in runs of `RUN_ROWS`; one run
stays in memory, more are written to a temporary file and memory-mapped
(deleted on `close()`, or when the object is collected). `histogram(bins)` is
the row-mean histogram to draw, `np.histogram`'s binning over the finite means.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.histograms import (
    PREVIEW_BINS,
    RowMeanHistogram,
    bin_edges,
    row_means,
    usable_range,
)
from backend.data.sources import SamplingSource, source_from
from backend.jobs import DEFAULT_CHUNK_ROWS, CancelToken, JobControl, ProgressFn
from backend.postprocess.electrodes import clipping_value

#: Means sorted (and held in memory) at a time: 8 M rows, 64 MB of float64.
RUN_ROWS = 1 << 23


@dataclass(frozen=True)
class DropCount:
    """Rows a clipping range would drop, of `total`: the count a run drops."""

    rows: int
    total: int

    @property
    def fraction(self) -> float:
        return self.rows / self.total if self.total else 0.0

    @property
    def percent(self) -> float:
        return 100.0 * self.fraction


def _delete(path: Path | None, runs: list) -> None:
    runs.clear()  # the memory maps go first (Windows cannot delete a mapped file)
    if path is not None:
        path.unlink(missing_ok=True)


class RowMeans:
    """Every row's output mean in sorted runs: exact drop counts for any clipping range.

    Fill with `add(means)` chunk by chunk, then `finish()`; see the module docstring.
    """

    def __init__(
        self, run_rows: int = RUN_ROWS, directory: str | os.PathLike | None = None
    ) -> None:
        self.run_rows = max(1, int(run_rows))
        self.directory = directory
        self.total = 0
        self._runs: list[np.ndarray] = []  # sorted; in memory or mapped from the file
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0
        self._file: Any = None
        self._path: Path | None = None
        self._written: list[tuple[int, int]] = []  # (offset, rows) of each run in the file
        self._finalizer = weakref.finalize(self, _delete, None, self._runs)

    # --- filling ------------------------------------------------------------------------
    def add(self, means: np.ndarray) -> None:
        """Append the means of the next rows (`row_means`: float64)."""
        means = np.asarray(means, dtype=np.float64).ravel()
        while len(means):
            take = min(len(means), self.run_rows - self._pending_rows)
            self._pending.append(means[:take].copy())
            self._pending_rows += take
            self.total += take
            means = means[take:]
            if self._pending_rows >= self.run_rows:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        run = np.sort(np.concatenate(self._pending))
        self._pending, self._pending_rows = [], 0
        if self._file is None:
            fd, name = tempfile.mkstemp(prefix=".rowmeans-", suffix=".bin", dir=self.directory)
            self._file, self._path = os.fdopen(fd, "wb"), Path(name)
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _delete, self._path, self._runs)
        self._written.append((self._file.tell(), len(run)))
        self._file.write(memoryview(run).cast("B"))

    def finish(self) -> RowMeans:
        """Sort what is left; afterwards only queries. Returns self."""
        if self._file is None:  # everything fits in one run: keep it in memory
            if self._pending:
                self._runs.append(np.sort(np.concatenate(self._pending)))
            self._pending, self._pending_rows = [], 0
            return self
        self._flush()
        self._file.close()
        for offset, rows in self._written:
            self._runs.append(np.memmap(self._path, np.float64, "r", offset=offset, shape=rows))
        return self

    def close(self) -> None:
        """Release the runs and delete the temporary file (safe to call twice)."""
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._finalizer()

    def __enter__(self) -> RowMeans:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- queries ------------------------------------------------------------------------
    def dropped(self, lo: float | None, hi: float | None) -> DropCount:
        """Rows whose mean is not strictly inside (lo, hi); None keeps every row."""
        if lo is None or hi is None:
            return DropCount(0, self.total)
        if not lo < hi:
            return DropCount(self.total, self.total)
        lo, hi = float(lo), float(hi)
        rows = 0
        for run in self._runs:  # NaN sorts last: counted with ">= hi", dropped as in the run
            rows += int(np.searchsorted(run, lo, side="right"))
            rows += len(run) - int(np.searchsorted(run, hi, side="left"))
        return DropCount(rows, self.total)

    def finite_range(self) -> tuple[float, float] | None:
        """(lowest, highest) finite mean; None when there is none."""
        lows, highs = [], []
        for run in self._runs:
            finite = run[np.searchsorted(run, -np.inf, "right") : np.searchsorted(run, np.inf)]
            if len(finite):
                lows.append(float(finite[0]))
                highs.append(float(finite[-1]))
        return (min(lows), max(highs)) if lows else None

    @property
    def lowest(self) -> float | None:
        found = self.finite_range()
        return None if found is None else found[0]

    @property
    def highest(self) -> float | None:
        found = self.finite_range()
        return None if found is None else found[1]

    def histogram(self, bins: int = PREVIEW_BINS) -> RowMeanHistogram:
        """`np.histogram` of the finite means over their min..max (values on an edge go
        right, the last bin is closed), counted from the sorted runs."""
        span = self.finite_range()
        if span is None:
            return RowMeanHistogram(bin_edges(0.0, 1.0, bins), np.zeros(bins, dtype=np.int64))
        lo, hi = usable_range(span[0], span[1], bins)
        edges = bin_edges(lo, hi, bins)
        counts = np.zeros(bins, dtype=np.int64)
        for run in self._runs:
            below = np.searchsorted(run, edges, side="left").astype(np.int64)
            below[-1] = np.searchsorted(run, edges[-1], side="right")
            counts += np.diff(below)
        return RowMeanHistogram(edges, counts)


def scan_row_means(
    source: str | os.PathLike | Sequence[str | os.PathLike] | SamplingSource,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    run_rows: int = RUN_ROWS,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> RowMeans:
    """Every row's output mean, sorted: the exact clipping preview (a worker-thread job).

    One pass over the source, reading the outputs the way postprocessing reads them.
    """
    ctl = JobControl(progress, cancel)
    means = RowMeans(run_rows)
    try:
        with source_from(source) as src:
            for first, y in src.iter_output_chunks(chunk_rows):
                ctl.report("scanning", first, src.n_rows)
                means.add(row_means(y))
        return means.finish()
    except BaseException:
        means.close()
        raise


def preview_dropped(means: RowMeans, clip: object, amplification: Sequence[float]) -> DropCount:
    """Rows `clip` ('default', None, [lo, hi] or x) would drop: what a run drops."""
    value = clipping_value(clip, amplification)
    if value is None:
        return means.dropped(None, None)
    return means.dropped(value[0], value[1])
