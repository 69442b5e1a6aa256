"""Histograms as data, built chunk by chunk with bounded memory.

Every histogram here uses `np.histogram`'s binning (equal bins over a range,
last bin closed), so counts added up chunk by chunk equal one `np.histogram`
of the whole column: the chunked results are exact, not approximations.
When the range depends on the data (the peer's output histogram spans the
min..max of `outputs[::3]`), the values are spooled to a temporary file during
the pass and binned once the range is known.

`RowMeanHistogram` is a fine histogram of the per-row output mean (what
clipping compares), kept in the results file and drawn under the clipping
choice; the exact count of rows a range drops is `backend.postprocess.preview`'s.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Bins of the row-mean histogram behind the clipping preview.
PREVIEW_BINS = 4096
_GROUP = 256


@dataclass(frozen=True)
class Histogram:
    """Counts of one channel: `counts[i]` values in [edges[i], edges[i+1]) (last bin closed).

    `below`/`above` count values outside the edges, which np.histogram drops.
    """

    name: str
    units: str
    edges: np.ndarray
    counts: np.ndarray
    below: int = 0
    above: int = 0

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + self.below + self.above

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "units": self.units,
            "edges": self.edges.tolist(),
            "counts": self.counts.tolist(),
            "below": self.below,
            "above": self.above,
        }


def row_means(outputs: np.ndarray) -> np.ndarray:
    """The per-row mean over the output columns (float64): what clipping compares.

    Always float64, whatever the source's dtype: postprocessing reads a table
    twice (outputs alone, then into float64 buffers), and a float32 mean
    compared in float32 in one pass and float64 in the other could keep a row
    once and drop it the next time.
    """
    if outputs.shape[1] == 1:
        return outputs[:, 0].astype(np.float64, copy=False)
    return outputs.mean(axis=1, dtype=np.float64)


def column_min_max(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column min and max of a (rows, cols) block.

    Reducing a narrow C-order table over axis 0 is slow in numpy (an inner loop
    of `cols` elements); viewing groups of rows as one wide row makes it ~7x
    faster, and a single column is reduced as one contiguous run.
    """
    n, k = x.shape
    if n == 0:
        return np.full(k, np.inf), np.full(k, -np.inf)
    x = np.ascontiguousarray(x)
    if k == 1:
        return np.array([x.min()]), np.array([x.max()])
    group = _GROUP if n >= 4 * _GROUP else 1
    whole = n // group * group
    wide = x[:whole].reshape(-1, group * k)
    lo = wide.min(axis=0).reshape(group, k).min(axis=0)
    hi = wide.max(axis=0).reshape(group, k).max(axis=0)
    if whole < n:
        lo = np.minimum(lo, x[whole:].min(axis=0))
        hi = np.maximum(hi, x[whole:].max(axis=0))
    return lo, hi


@dataclass
class MinMax:
    """Running per-column min/max over chunks."""

    n_cols: int
    lo: np.ndarray = field(init=False)
    hi: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.lo = np.full(self.n_cols, np.inf)
        self.hi = np.full(self.n_cols, -np.inf)

    def add(self, x: np.ndarray) -> None:
        if len(x):
            self.update(*column_min_max(x))

    def update(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Fold in a block's own column min/max (already computed)."""
        np.minimum(self.lo, lo, out=self.lo)
        np.maximum(self.hi, hi, out=self.hi)

    def ranges(self) -> list[tuple[float | None, float | None]]:
        """(min, max) per column; None for a column that saw no values."""
        return [
            (float(a), float(b)) if np.isfinite(a) else (None, None)
            for a, b in zip(self.lo, self.hi)
        ]


def usable_range(lo: float, hi: float, bins: int) -> tuple[float, float]:
    """(lo, hi) widened until `bins` equal bins over it can be told apart.

    An empty range gets +-0.5, as np.histogram widens it; a range of a few ulps
    (which np.histogram refuses, e.g. one value near 1e15) is widened further.
    """
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.5
    while not np.all(np.diff(np.linspace(lo, hi, bins + 1)) > 0):
        lo, hi, pad = lo - pad, hi + pad, 2 * pad
    return lo, hi


def bin_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """The edges np.histogram uses for `bins` equal bins over [lo, hi]."""
    return np.histogram_bin_edges(np.empty(0), bins=bins, range=(lo, hi))


class ColumnHistograms:
    """Per-column histograms over fixed ranges, accumulated chunk by chunk."""

    def __init__(self, ranges: np.ndarray, bins: int) -> None:
        ranges = np.asarray(ranges, dtype=float).reshape(-1, 2)
        self.ranges = np.array([usable_range(a, b, bins) for a, b in ranges]).reshape(-1, 2)
        self.bins = bins
        n = len(self.ranges)
        self.counts = np.zeros((n, bins), dtype=np.int64)
        self.below = np.zeros(n, dtype=np.int64)
        self.above = np.zeros(n, dtype=np.int64)

    def add(self, x: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None):
        """Count a (rows, cols) block; `lo`/`hi` (its column min/max) skip range checks."""
        if not len(x):
            return
        if lo is None or hi is None:
            lo, hi = column_min_max(x)
        for j, (a, b) in enumerate(self.ranges):
            column = x[:, j]
            self.counts[j] += np.histogram(column, bins=self.bins, range=(a, b))[0]
            if lo[j] < a:
                self.below[j] += np.count_nonzero(column < a)
            if hi[j] > b:
                self.above[j] += np.count_nonzero(column > b)

    def histograms(self, names: list[str], units: str) -> list[Histogram]:
        return [
            Histogram(
                name,
                units,
                bin_edges(a, b, self.bins),
                self.counts[j].copy(),
                int(self.below[j]),
                int(self.above[j]),
            )
            for j, (name, (a, b)) in enumerate(zip(names, self.ranges))
        ]


class Spool:
    """A temporary file of rows (float64 unless told): written during one pass, read back after."""

    def __init__(
        self,
        n_cols: int,
        directory: str | os.PathLike | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.n_cols = n_cols
        self.dtype = np.dtype(dtype)
        fd, name = tempfile.mkstemp(prefix=".spool-", suffix=".bin", dir=directory)
        self.path = Path(name)
        self._fh = os.fdopen(fd, "w+b")
        self.rows = 0

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype).reshape(-1, self.n_cols)
        if len(rows):
            self._fh.write(memoryview(rows).cast("B"))
            self.rows += len(rows)

    def iter_chunks(self, rows: int = 1 << 18) -> Iterator[np.ndarray]:
        self._fh.flush()
        self._fh.seek(0)
        left = self.rows
        while left:
            n = min(rows, left)
            yield np.fromfile(self._fh, dtype=self.dtype, count=n * self.n_cols).reshape(
                n, self.n_cols
            )
            left -= n

    def close(self) -> None:
        """Close and delete the file; safe to call twice."""
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def spooled_histograms(
    spool: Spool, minmax: MinMax, bins: int, names: list[str], units: str
) -> list[Histogram]:
    """Histograms of spooled columns over their own min..max: np.histogram(column, bins)."""
    ranges = [(a, b) if a is not None else (0.0, 1.0) for a, b in minmax.ranges()]
    acc = ColumnHistograms(np.asarray(ranges), bins)
    for block in spool.iter_chunks():
        acc.add(block, minmax.lo, minmax.hi)
    return acc.histograms(names, units)


# --- the row-mean histogram -----------------------------------------------------------


@dataclass(frozen=True)
class RowMeanHistogram:
    """A fine histogram of the per-row output mean over its exact min..max (for drawing)."""

    edges: np.ndarray
    counts: np.ndarray

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def lowest(self) -> float:
        return float(self.edges[0])

    @property
    def highest(self) -> float:
        return float(self.edges[-1])

    @classmethod
    def from_spool(cls, spool: Spool, lo: float, hi: float, bins: int = PREVIEW_BINS):
        counts = np.zeros(bins, dtype=np.int64)
        if not spool.rows:
            return cls(bin_edges(0.0, 1.0, bins), counts)
        lo, hi = usable_range(lo, hi, bins)
        for block in spool.iter_chunks():
            counts += np.histogram(block[:, 0], bins=bins, range=(lo, hi))[0]
        return cls(bin_edges(lo, hi, bins), counts)
