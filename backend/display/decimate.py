"""Min/max decimation: a few thousand points that look exactly like millions.

A plot cannot show more points than it has pixels. Keeping the minimum and the
maximum of each pixel-wide bin preserves every peak and the full envelope, which
plain subsampling would lose. Views draw the envelope as a line that visits the
min and the max of each bin in turn.

Speed matters (a live view redraws 10-30 times a second), so every path reduces
contiguous memory: channel-major data is binned in place through reshaped
views, row-major data is transposed block by block in a cache-sized buffer, and
a window split in pieces (a ring buffer's wrap) is binned without joining the
pieces. All bin arithmetic is integer.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

#: Rows per block when transposing row-major data (8 channels x 8192 x 8 B = 512 KiB).
BLOCK_ROWS = 8192
#: Row-major inputs with at least this many values are split over several threads.
PARALLEL_VALUES = 1 << 21
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class Envelope:
    """Per-bin extremes of a window: bin k covers rows [starts[k], starts[k] + step)."""

    starts: np.ndarray  # (bins,) absolute row index of each bin's first row
    mins: np.ndarray  # (bins, channels)
    maxs: np.ndarray  # (bins, channels)
    step: int  # rows per bin (1 = not decimated: mins == maxs == the data)

    @property
    def bins(self) -> int:
        return len(self.starts)

    def line(self, channel: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) for one channel: min then max of each bin, ready to draw as a line."""
        if self.step == 1:
            return self.starts.astype(float), self.mins[:, channel]
        x = np.repeat(self.starts.astype(float), 2)
        x[1::2] += (self.step - 1) / 2
        y = np.empty(2 * self.bins, dtype=np.result_type(self.mins.dtype, np.float64))
        y[0::2] = self.mins[:, channel]
        y[1::2] = self.maxs[:, channel]
        return x, y


def bin_step(rows: int, max_points: int) -> int:
    """Rows per bin so that two points per bin stay within `max_points`."""
    rows, max_points = int(rows), int(max_points)
    if rows <= max_points:
        return 1
    per_bin = max(1, max_points // 2)
    return -(-rows // per_bin)


def minmax(
    data: np.ndarray,
    max_points: int,
    first_row: int = 0,
    step: int | None = None,
    workers: int | None = None,
) -> Envelope:
    """Decimate (rows, channels) data to at most `max_points` points per channel.

    `step` fixes the bin size (it must be the same for neighbouring windows so
    that bins line up); by default it is chosen from `max_points`. Big
    row-major inputs are split over `workers` threads (numpy releases the GIL
    while it copies and reduces); by default two when the machine has them.
    """
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[:, None]
    rows, channels = data.shape
    step = bin_step(rows, max_points) if step is None else max(1, int(step))
    if step == 1 or channels == 1 or data.T.flags.c_contiguous:
        return minmax_channels(data.T, max_points, first_row, step)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if data.size >= PARALLEL_VALUES else 1
    bins = -(-rows // step)
    if workers <= 1 or bins < 2:
        return _envelope(_reduce(_transposed_blocks(data, step), step, channels), first_row, step)
    inner = [min(rows, -(-bins * k // workers) * step) for k in range(1, workers)]
    parts = [data[a:b] for a, b in itertools.pairwise([0, *inner, rows]) if b > a]
    done = list(
        _threads().map(lambda part: _reduce(_transposed_blocks(part, step), step, channels), parts)
    )
    mins = np.concatenate([m for m, _ in done], axis=1)
    maxs = np.concatenate([m for _, m in done], axis=1)
    return _envelope((mins, maxs), first_row, step)


def _threads() -> ThreadPoolExecutor:
    """One shared pool for all decimation; threads start on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="minmax")
        return _pool


def minmax_channels(
    data: np.ndarray, max_points: int, first_row: int = 0, step: int | None = None
) -> Envelope:
    """`minmax` for channel-major (channels, rows) data: fastest when each row is contiguous.

    Each channel's bins are then contiguous in memory, so the reduction runs at
    memory speed (about 10x faster than reducing row-major data naively).
    """
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[None, :]
    return minmax_segments([data], max_points, first_row, step)


def minmax_segments(
    segments: list[np.ndarray], max_points: int, first_row: int = 0, step: int | None = None
) -> Envelope:
    """`minmax_channels` of the concatenation of channel-major pieces, without joining them.

    A ring buffer's window is two pieces (before and after the wrap); only the
    one bin that straddles the seam is assembled from both.
    """
    segments = [np.asarray(s) for s in segments]
    channels = segments[0].shape[0]
    rows = sum(s.shape[1] for s in segments)
    step = bin_step(rows, max_points) if step is None else max(1, int(step))
    if step == 1:
        joined = segments[0] if len(segments) == 1 else np.concatenate(segments, axis=1)
        return Envelope(first_row + np.arange(rows), joined.T, joined.T, 1)
    return _envelope(_reduce(segments, step, channels), first_row, step)


def _envelope(minsmaxs: tuple[np.ndarray, np.ndarray], first_row: int, step: int) -> Envelope:
    mins, maxs = minsmaxs
    starts = int(first_row) + np.arange(mins.shape[1], dtype=np.int64) * step
    return Envelope(starts, mins.T, maxs.T, step)


def _reduce(
    segments: Iterable[np.ndarray], step: int, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """(mins, maxs) as (channels, bins) over consecutive channel-major segments.

    Bins run across segment boundaries: a partly filled bin is carried into the
    next segment, so the result equals binning the concatenation.
    """
    mins: list[np.ndarray] = []
    maxs: list[np.ndarray] = []
    carry_min = carry_max = None
    carried = 0
    for seg in segments:
        n, pos = seg.shape[1], 0
        if n == 0:
            continue
        if carried:
            take = min(step - carried, n)
            piece = seg[:, :take]
            carry_min = np.minimum(carry_min, piece.min(axis=1))
            carry_max = np.maximum(carry_max, piece.max(axis=1))
            carried, pos = carried + take, take
            if carried == step:
                mins.append(carry_min[:, None])
                maxs.append(carry_max[:, None])
                carried = 0
        full = (n - pos) // step
        if full:
            bins = seg[:, pos : pos + full * step].reshape(seg.shape[0], full, step)
            mins.append(bins.min(axis=2))
            maxs.append(bins.max(axis=2))
            pos += full * step
        if pos < n:
            rest = seg[:, pos:]
            carry_min, carry_max, carried = rest.min(axis=1), rest.max(axis=1), n - pos
    if carried:
        mins.append(carry_min[:, None])
        maxs.append(carry_max[:, None])
    if not mins:
        empty = np.empty((channels, 0))
        return empty, empty
    if len(mins) == 1:
        return mins[0], maxs[0]
    return np.concatenate(mins, axis=1), np.concatenate(maxs, axis=1)


def _transposed_blocks(data: np.ndarray, step: int) -> Iterator[np.ndarray]:
    """Row-major data as channel-major blocks, transposed into one reused buffer.

    Blocks hold whole bins when bins are small, so most bins reduce in cache.
    `_reduce` finishes with each block before the next overwrites the buffer.
    """
    rows, channels = data.shape
    block = step * max(1, BLOCK_ROWS // step) if step <= BLOCK_ROWS else BLOCK_ROWS
    buf = np.empty((channels, min(block, rows)), dtype=data.dtype)
    for start in range(0, rows, block):
        stop = min(start + block, rows)
        out = buf[:, : stop - start]
        np.copyto(out, data[start:stop].T)
        yield out
