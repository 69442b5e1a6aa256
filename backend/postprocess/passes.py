"""What `backend.postprocess.job` computes per chunk, and in which pass.

`postprocess._run` strings these pieces together in one of two strategies,
with the same results:

- Sources that can read their outputs alone (our HDF5 recordings) are read
  twice: first the outputs only (a fraction of the file) for the clipping
  mask, the kept-row count and every output statistic; then everything, with
  the kept inputs streamed straight into `postprocessed_data.npz` (its header
  needs the kept-row count, now known) while they also go to the HDF5 results.
- Text sources (IO.dat) are parsed once: one pass feeds both halves and the
  npz files are streamed afterwards from the HDF5 results.

The npz member writing and the input histograms run on one background
thread (zlib's CRC, file writes and numpy release the GIL), overlapping the
reads and HDF5 writes of the main thread. Queues are short, so memory stays
at a few chunks.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.data.formats.npz_write import jsonable
from backend.data.histograms import (
    PREVIEW_BINS,
    ColumnHistograms,
    Histogram,
    MinMax,
    RowMeanHistogram,
    Spool,
    column_min_max,
    row_means,
    spooled_histograms,
)
from backend.postprocess.electrodes import kept_by_clipping

if TYPE_CHECKING:
    from backend.data.sources import SamplingSource

#: The peer's output histogram uses every 3rd row; the input histograms do the same.
HIST_STEP, HIST_BINS = 3, 100


class Background:
    """One worker thread running submitted calls in order; its errors surface in the caller."""

    def __init__(self, depth: int = 3) -> None:
        self._jobs: queue.Queue = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="postprocess-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args = job
            if self._error is None:
                try:
                    fn(*args)
                except BaseException as exc:  # handed to the submitting thread
                    self._error = self._error or exc

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue `fn(*args)`; raises here if an earlier job failed."""
        self._raise()
        self._jobs.put((fn, args))

    def check(self) -> None:
        """Raise the error a job raised, if one did."""
        self._raise()

    def join(self, reraise: bool = True) -> None:
        """Wait for every submitted call; re-raise the first error one of them raised."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        if reraise:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


class BufferPool:
    """A few row buffers lent to background jobs and given back when they are done.

    Fresh multi-MB arrays pay a page fault per 4 KiB on first touch; copying
    kept rows into recycled buffers avoids that. `take` waits for one, and
    raises the background's error rather than waiting for a job that failed.
    """

    def __init__(self, count: int, shape: tuple[int, ...]) -> None:
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(count):
            self._free.put(np.empty(shape))

    def take(self, bg: Background) -> np.ndarray:
        while True:
            try:
                return self._free.get(timeout=0.05)
            except queue.Empty:
                bg.check()

    def give(self, buffer: np.ndarray) -> None:
        self._free.put(buffer)


class OutputStats:
    """Everything that needs only the outputs: mask, kept count, output statistics."""

    def __init__(self, n_out: int, clip_value: list[float] | None, folder: Path) -> None:
        self.clip = clip_value
        self.raw, self.kept, self.sample_mm, self.mean_mm = (
            MinMax(n_out),
            MinMax(n_out),
            MinMax(n_out),
            MinMax(1),
        )
        self.sample = Spool(n_out, folder)
        self.means = Spool(1, folder)
        self.rows = self.kept_rows = 0

    def keep(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(row means, keep mask or None when every row is kept)."""
        mean = row_means(y)
        if self.clip is None:
            return mean, None
        keep = kept_by_clipping(mean, self.clip)
        return mean, (None if keep.all() else keep)

    def add(self, first: int, y: np.ndarray) -> np.ndarray | None:
        """Fold one chunk of outputs in; returns its keep mask (None = all kept)."""
        mean, keep = self.keep(y)
        self.raw.add(y)
        self.means.append(mean)
        self.mean_mm.add(mean[:, None])
        every = y[(-first) % HIST_STEP :: HIST_STEP]
        self.sample.append(every)
        self.sample_mm.add(every)
        kept = y if keep is None else np.compress(keep, y, 0)
        self.kept.add(kept)
        self.kept_rows += len(kept)
        self.rows = first + len(y)
        return keep

    def histograms(self, names: list[str]) -> list[Histogram]:
        """The peer's plot data: outputs[::3], 100 bins over their own min..max."""
        return spooled_histograms(self.sample, self.sample_mm, HIST_BINS, names, "nA")

    def row_means(self) -> RowMeanHistogram:
        lo, hi = self.mean_mm.ranges()[0]
        return RowMeanHistogram.from_spool(self.means, lo, hi, PREVIEW_BINS)

    def close(self) -> None:
        self.sample.close()
        self.means.close()


class InputStats:
    """Raw input min/max (main thread) and kept-input histograms (background)."""

    def __init__(self, wave_ranges: np.ndarray) -> None:
        self.raw = MinMax(len(wave_ranges))
        self.hist = ColumnHistograms(wave_ranges, HIST_BINS)
        self.kept_rows = 0

    def add_raw(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = column_min_max(x)
        self.raw.update(lo, hi)
        return lo, hi

    def kept_sample(self, kx: np.ndarray) -> np.ndarray:
        """Every 3rd kept row, counted over the whole kept table (not per chunk)."""
        sample = kx[(-self.kept_rows) % HIST_STEP :: HIST_STEP]
        self.kept_rows += len(kx)
        return sample


def run_summary(
    src: SamplingSource,
    kept: int,
    clip_value: list[float] | None,
    config: dict,
    raw_in: MinMax,
    raw_out: MinMax,
    kept_out: MinMax,
    charging_batches: int,
    reference_batches: int,
    tails: dict[str, int],
) -> dict:
    """Plain-JSON facts of a run: rows in/kept, ranges, electrode info, tails."""
    total, bp, fs = src.n_rows, src.batch_points, float(src.config.fs)
    sources = getattr(src, "sources", [src])
    out_kept = kept_out.ranges()
    return {
        "sources": [str(s.path) for s in sources],
        "note": src.note,
        "rows_in": total,
        "rows_kept": kept,
        "rows_dropped": total - kept,
        "percent_dropped": 100.0 * (total - kept) / total if total else 0.0,
        "batches": src.batches_done,
        "batch_points": bp,
        "sampling_frequency_hz": fs,
        "clipping_value": clip_value,
        "inputs": [
            {"name": n, "units": "V", "min": a, "max": b}
            for n, (a, b) in zip(src.input_names, raw_in.ranges())
        ],
        "outputs": [
            {"name": n, "units": "nA", "min": a, "max": b, "kept_min": c, "kept_max": d}
            for n, (a, b), (c, d) in zip(src.output_names, raw_out.ranges(), out_kept)
        ],
        "electrode_info": jsonable(config["electrode_info"]),
        "charging_signal": _tail(charging_batches, total - tails["charging_signal"], bp, fs),
        "reference_batch": _tail(reference_batches, total - tails["reference_batch"], bp, fs),
    }


def _tail(batches: int, rows: int, bp: int, fs: float) -> dict:
    return {"batches_asked": batches, "batches": rows // bp, "rows": rows, "seconds": rows / fs}
