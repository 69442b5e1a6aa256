"""What the Recordings page reads, as plain functions and objects (no Qt): run on workers.

`OpenedFile` is one file the browser shows: a data-layer reader plus, for
files too big to decimate raw on every view change, the overview pyramid in
its sidecar. It answers "min/max envelope of rows [a, b) in about n points"
from whichever is fit: raw rows for short windows, the pyramid otherwise, and
None when the window is too long to read raw and no overview exists yet (the
page then builds one with `build_overview` on a worker and shows progress).
Every answer is binned like `Pyramid.envelope`: bins aligned to multiples of
the step, so neighbouring views line up, and each answer equals
`decimate.minmax` of the raw rows with the step it reports.

An `OpenedFile` belongs to one thread (the page's browser worker); the jobs
here (`build_overview`, `channel_ranges`) open their own
readers so they never share an h5py handle with it. Only the browser's own
reader is ever refreshed (its overview borrows it), and never while another
handle of the file is open: HDF5 fails reads ("can't insert duplicate key")
when a SWMR dataset is refreshed through one handle while a second handle of
it is open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.channels import OUTPUT
from backend.data.kinds import detect_kind, open_reader
from backend.display.decimate import Envelope, bin_step, minmax
from backend.display.pyramid import Pyramid, overview_path
from backend.errors import SamplelabError

#: Windows of at most this many values (rows x channels) are decimated from raw rows.
RAW_LIMIT_VALUES = 1 << 23


@dataclass(frozen=True)
class FileInfo:
    """What the page needs to lay out a file's view."""

    path: str
    kind: str
    rows: int
    names: list[str]
    units: list[str]
    fs: float | None
    live: bool
    status: str | None = None  # recordings: complete | running | interrupted | ...
    batches_done: int | None = None
    batches_planned: int | None = None
    overview: str = "not needed"  # not needed | ready | needed
    notes: list[str] = field(default_factory=list)
    batch_rows: int | None = None  # rows per batch (boundaries drawn), when known
    limits: list[tuple[float, float] | None] = field(default_factory=list)  # ADC saturation

    @property
    def channels(self) -> int:
        return len(self.names)

    @property
    def resumable(self) -> bool:
        return (
            self.kind == "recording"
            and self.status in ("interrupted", "failed", "cancelled")
            and self.batches_done is not None
            and self.batches_planned is not None
            and self.batches_done < self.batches_planned
        )


@dataclass(frozen=True)
class Window:
    """An envelope answered for a requested view, with the file's size at that moment."""

    start: int
    stop: int
    envelope: Envelope | None  # None: too long to read raw and no overview yet
    rows: int


class _Borrowed:
    """The browser's reader lent to its Pyramid: closing the pyramid must not close it."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def close(self) -> None:
        """The owner closes the reader."""


class _FixedRows:
    """A reader without `refresh`: a build covers the rows there were when it began."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.n_rows = int(reader.n_rows)
        self.channel_names = list(reader.channel_names)

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.reader.read(start, min(stop, self.n_rows))

    def close(self) -> None:
        self.reader.close()


class OpenedFile:
    """One file as the browser reads it; used by one thread only (see the module)."""

    def __init__(self, path: str | os.PathLike, raw_limit: int = RAW_LIMIT_VALUES) -> None:
        self.path = Path(path)
        self.kind = detect_kind(self.path)
        self.reader = open_reader(self.path, kind=self.kind)
        self.raw_limit = int(raw_limit)
        self.pyramid: Pyramid | None = None
        self.closed = False
        self._facts: dict[str, Any] | None = None

    @property
    def rows(self) -> int:
        return int(self.reader.n_rows)

    @property
    def channels(self) -> int:
        return int(self.reader.n_channels)

    @property
    def live(self) -> bool:
        return bool(getattr(self.reader, "live", False))

    def needs_overview(self, rows: int | None = None) -> bool:
        return (self.rows if rows is None else rows) * self.channels > self.raw_limit

    def info(self) -> FileInfo:
        rec = getattr(self.reader, "recording", None)
        overview = "not needed"
        if self.needs_overview():
            overview = "ready" if self.pyramid is not None else "needed"
        return FileInfo(
            path=str(self.path),
            kind=self.kind,
            rows=self.rows,
            names=list(self.reader.channel_names),
            units=list(self.reader.units),
            fs=self.reader.fs,
            live=self.live,
            status=rec.status if rec is not None else None,
            batches_done=rec.batches_done if rec is not None else None,
            batches_planned=rec.batches_planned if rec is not None else None,
            overview=overview,
            notes=list(self.reader.notes),
            **self._batches_and_limits(rec),
        )

    def _batches_and_limits(self, rec: Any) -> dict[str, Any]:
        """Batch length and per-channel saturation limits, from the file's config if any."""
        if self._facts is None:
            self._facts = sampling_facts(self.reader, rec)
        return self._facts

    # --- the overview ---------------------------------------------------------------
    def attach_overview(self) -> bool:
        """Use the sidecar if it exists and covers (nearly) every row; True if attached."""
        if self.pyramid is not None:
            return True
        sidecar = overview_path(self.path)
        if not sidecar.exists():
            return False
        refresh = getattr(self.reader, "refresh", None)
        if self.live and callable(refresh):
            refresh()  # a sidecar built since we opened may cover more rows than we saw
        pyramid = Pyramid(_Borrowed(self.reader), sidecar)
        missing = self.rows - pyramid.rows
        if pyramid.rows == 0 or self.needs_overview(missing):
            pyramid.close()
            return False
        if missing:  # a few rows were added since it was built: extend it here
            pyramid.update()
        self.pyramid = pyramid
        return True

    def overview_ranges(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Exact per-channel (min, max) of every row, from the overview's top level."""
        if self.pyramid is None or self.pyramid.rows < self.rows or not self.rows:
            return None
        env = self.pyramid.envelope(0, self.rows, 2)
        return env.mins.min(axis=0), env.maxs.max(axis=0)

    # --- reading --------------------------------------------------------------------
    def envelope(self, start: int, stop: int, max_points: int) -> Window:
        """Min/max of rows [start, stop) in about `max_points` points per channel."""
        n = self.rows
        start, stop = max(0, int(start)), min(int(stop), n)
        if stop <= start:
            empty = np.empty((0, self.channels))
            return Window(start, stop, Envelope(np.empty(0, np.int64), empty, empty, 1), n)
        if self.pyramid is not None and self.pyramid.rows >= stop:
            return Window(start, stop, self.pyramid.envelope(start, stop, max_points), n)
        step = bin_step(stop - start, max_points)
        a, b = start // step * step, min(-(-stop // step) * step, n)
        if (b - a) * self.channels > self.raw_limit:
            return Window(start, stop, None, n)
        data = np.asarray(self.reader.read(a, b), dtype=np.float64)
        return Window(start, stop, minmax(data, 0, a, step), n)

    def values_at(self, row: int) -> np.ndarray | None:
        """Every channel's raw value at `row` (None outside the data)."""
        if not 0 <= row < self.rows:
            return None
        return np.asarray(self.reader.read(row, row + 1)[0], dtype=np.float64)

    def refresh(self, grow_overview: bool = True) -> FileInfo:
        """Pick up rows a live writer added; keep the overview up to date."""
        refresh = getattr(self.reader, "refresh", None)
        if callable(refresh):
            refresh()
        if self.pyramid is not None:
            self.pyramid.update()
        elif grow_overview and self.needs_overview():
            self.pyramid = Pyramid(_Borrowed(self.reader), overview_path(self.path))
            self.pyramid.update()
        return self.info()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self.pyramid is not None:
                self.pyramid.close()
        finally:
            self.reader.close()


def sampling_facts(reader: Any, rec: Any = None) -> dict[str, Any]:
    """{'batch_rows', 'limits'} of a recording or bspysmg folder (empty for other files).

    `limits` holds, per channel, the output currents at which the ADC saturates
    (`backend.postprocess.electrodes.saturation_limits`), None for inputs.
    """
    from backend.config import parse_config
    from backend.postprocess.electrodes import saturation_limits

    try:
        if rec is not None:
            config = rec.config
            batch_rows = int(rec.batch_points)
        elif isinstance(getattr(reader, "config", None), dict):
            config = parse_config(reader.config, str(reader.path))
            batch_rows = int(config.batch_points)
        else:
            return {}
    except (SamplelabError, KeyError, TypeError, ValueError):
        return {}
    per_output = saturation_limits(config.driver.amplification)
    limits: list[tuple[float, float] | None] = []
    k = 0
    for role in reader.channel_layout.roles:
        if role == OUTPUT:  # one amplification for all outputs, or one each
            limits.append(per_output[min(k, len(per_output) - 1)] if per_output else None)
            k += 1
        else:
            limits.append(None)
    return {"batch_rows": batch_rows, "limits": limits}


#: Batch boundaries are drawn only when a view holds at most this many.
MAX_MARKS = 150


def boundary_rows(start: int, stop: int, batch_rows: int | None, rows: int) -> np.ndarray:
    """First rows of the batches that begin inside (start, stop), if few enough to draw."""
    if not batch_rows or stop - start > MAX_MARKS * batch_rows:
        return np.empty(0, dtype=np.int64)
    first = (start // batch_rows + 1) * batch_rows
    return np.arange(first, min(stop, rows), batch_rows, dtype=np.int64)


def flagged_points(
    env: Envelope, channel: int, limits: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, values) of a channel's envelope points at the saturation limits, each as a
    short stroke one bin wide (NaN between strokes), to draw over the trace."""
    from backend.postprocess.electrodes import at_limit

    x, y = env.line(channel)
    hit = np.flatnonzero(at_limit(y, limits))
    if not len(hit):
        return np.empty(0), np.empty(0)
    half = max(env.step, 1) / 2
    xs = np.stack([x[hit] - half, x[hit] + half, np.full(len(hit), np.nan)], axis=1).ravel()
    ys = np.stack([y[hit], y[hit], np.full(len(hit), np.nan)], axis=1).ravel()
    return xs, ys


# --- jobs for worker threads ---------------------------------------------------------
def build_overview(path: str | os.PathLike, kind: str, report: Any, token: Any) -> int:
    """Build (or extend) the overview sidecar of `path`; reports JobProgress."""
    reader = _FixedRows(open_reader(path, kind=kind))
    with Pyramid(reader, overview_path(path)) as pyramid:
        return pyramid.update(progress=report, cancel=token)


def channel_ranges(
    path: str | os.PathLike, kind: str, report: Any, token: Any, chunk_bytes: int = 32 << 20
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (min, max) of every row, read in chunks; reports JobProgress."""
    with open_reader(path, kind=kind) as reader:
        return reader.channel_ranges(max_memory=chunk_bytes, progress=report, cancel=token)
