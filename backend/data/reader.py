"""Lazy readers: any recording indexed as `[observations, channels]`.

Whatever the storage (HDF5 slices, a memory-mapped binary in either order, a
text table, an array in memory), a reader answers `reader[1000:2000, [0, 3]]`
by reading only the rows and channels asked for, so a file larger than memory
can be browsed, processed in chunks or fed to PyTorch. `open_reader` (the kind
registry, `backend.data.kinds`) picks the reader for a path; this module
imports nothing of the data layer but `backend.data.selection` (itself a leaf:
how keys become positions and bounded read spans), so every format can build on it.

Subclasses implement one method, `_read(start, stop, cols)`: contiguous rows
`[start, stop)` of the sorted, unique storage channels `cols`. Everything else
(numpy-style keys, channel names, strided and fancy row selections read in
bounded spans, chunk iteration) lives here once.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backend.channels import OTHER, ChannelLayout, channel_ranges
from backend.data.selection import channel_positions, check_rows, spans
from backend.errors import FileFormatError
from backend.jobs import CancelToken, ProgressFn, parse_memory

#: Largest span (bytes) one read of a strided or fancy row selection may cover.
SPAN_BYTES = 32 << 20
#: Rows between two wanted rows beyond which two separate reads beat one.
GAP_ROWS = 4096


class Reader:
    """Base of all readers: shape, dtype, rate, channel names and units, indexing."""

    kind = "array"
    #: Reading some channels costs only their bytes (separate datasets, memory), so a
    #: pass over a few channels is worth a read of its own (postprocessing's mask pass).
    columns_read_alone = False

    def __init__(
        self,
        n_rows: int,
        dtype: np.dtype,
        names: Sequence[str],
        units: Sequence[str] | None = None,
        fs: float | None = None,
        path: str | os.PathLike | None = None,
    ) -> None:
        self._n_rows = int(n_rows)
        self._dtype = np.dtype(dtype)
        self._names = [str(n) for n in names]
        self._units = [str(u) for u in units] if units is not None else [""] * len(self._names)
        if len(self._units) != len(self._names):
            raise ValueError("one unit per channel is needed")
        self._roles = [OTHER] * len(self._names)  # stated by readers that know (use_layout)
        self._map = np.arange(len(self._names))  # view channel -> storage channel
        self.fs = None if fs is None else float(fs)
        self.path = None if path is None else Path(path)
        self.notes: list[str] = []  # facts the user should know (e.g. "config not read")
        self.open_args: dict[str, Any] | None = None  # how open_reader opened it
        self.reopen: Callable[..., Reader] | None = None  # open_reader itself (pickled by name)

    # --- what it holds -------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return self._n_rows

    @property
    def n_channels(self) -> int:
        return len(self._map)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_rows, self.n_channels)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def channel_names(self) -> list[str]:
        return [self._names[i] for i in self._map]

    @property
    def units(self) -> list[str]:
        return [self._units[i] for i in self._map]

    def __len__(self) -> int:
        return self.n_rows

    def __repr__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"<{type(self).__name__}{where} {self.shape} {self.dtype}>"

    @property
    def channel_layout(self) -> ChannelLayout:
        """Names, units and roles (input, output, other) of the channels in view."""
        return ChannelLayout(
            tuple(self.channel_names), tuple(self.units), tuple(self._roles[i] for i in self._map)
        )

    def use_layout(self, layout: ChannelLayout) -> None:
        """Name the stored channels and state their units and roles (e.g. from a config)."""
        if len(layout) != len(self._names):
            raise ValueError(f"give one name, unit and role per channel ({len(self._names)})")
        self._names, self._units = list(layout.names), list(layout.units)
        self._roles = list(layout.roles)

    def channel_index(self, channels: Any) -> np.ndarray:
        """View channel positions for an int, name, slice, mask or list of those."""
        return channel_positions(channels, self.channel_names)

    def select(self, channels: Any) -> Reader:
        """A view of some channels (by index or name).

        The view shares the open file: closing either closes both.
        """
        idx = self.channel_index(channels)
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._map = self._map[idx]
        return view

    def _unselected(self) -> bool:
        """Whether this is the reader itself, not a view of some of its channels."""
        return len(self._map) == len(self._names) and bool(
            np.all(self._map == np.arange(len(self._map)))
        )

    # --- reading -------------------------------------------------------------
    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        """Rows [start, stop) of sorted unique storage channels `cols`, shape (rows, len)."""
        raise NotImplementedError

    def _read_view(self, start: int, stop: int, chans: np.ndarray) -> np.ndarray:
        storage = self._map[chans]
        cols, inverse = np.unique(storage, return_inverse=True)
        if stop <= start:
            return np.empty((0, len(chans)), dtype=self.dtype)
        block = self._read(start, stop, cols)
        if len(cols) == len(chans) and np.array_equal(cols, storage):
            return block
        return block[:, inverse.ravel()]

    def read(self, start: int = 0, stop: int | None = None, channels: Any = None) -> np.ndarray:
        """Rows [start, stop) (clipped to the data) of some channels, as (rows, channels)."""
        stop = self.n_rows if stop is None else min(int(stop), self.n_rows)
        start = max(0, min(int(start), stop))
        return self._read_view(start, stop, self.channel_index(channels))

    def read_column_groups(
        self, start: int, stop: int, widths: Sequence[int]
    ) -> tuple[np.ndarray, ...]:
        """Rows [start, stop) as consecutive channel groups (e.g. inputs, outputs), each C-ordered.

        Readers that store or parse the groups apart (recordings, text)
        override this to build each group directly, without a split copy.
        """
        block = self.read(start, stop)
        bounds = np.cumsum([0, *widths])
        if bounds[-1] != block.shape[1]:
            raise ValueError(f"groups of {list(widths)} channels for {block.shape[1]} channels")
        return tuple(np.ascontiguousarray(block[:, a:b]) for a, b in itertools.pairwise(bounds))

    def read_column_groups_into(
        self, start: int, stop: int, out: Sequence[np.ndarray]
    ) -> tuple[np.ndarray, ...]:
        """Like `read_column_groups`, into the leading rows of the arrays `out` (reused
        buffers: no fresh pages per block); returns those filled views."""
        parts = self.read_column_groups(start, stop, [o.shape[1] for o in out])
        views = tuple(o[: len(p)] for o, p in zip(out, parts, strict=True))
        for view, part in zip(views, parts, strict=True):
            view[...] = part
        return views

    def take(self, rows: Any, channels: Any = None) -> np.ndarray:
        """Arbitrary rows (in the order given) of some channels, read in bounded spans.

        Wanted rows close together are read as one span; spans never exceed
        SPAN_BYTES, so even `reader[::1000]` over a huge file stays bounded.
        """
        chans = self.channel_index(channels)
        rows = check_rows(np.asarray(rows, dtype=np.int64).ravel(), self.n_rows)
        out = np.empty((len(rows), len(chans)), dtype=self.dtype)
        if not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        row_bytes = max(1, len(chans) * self.dtype.itemsize)
        max_span = max(1, SPAN_BYTES // row_bytes)
        for i, j in spans(ordered, max_span, GAP_ROWS):
            lo, hi = int(ordered[i]), int(ordered[j - 1]) + 1
            block = self._read_view(lo, hi, chans)
            out[order[i:j]] = block[ordered[i:j] - lo]
        return out

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, tuple) and len(key) != 2:
            raise IndexError("index a reader as reader[rows, channels]")
        rows, cols = key if isinstance(key, tuple) else (key, slice(None))
        chans = self.channel_index(cols)
        drop_col = isinstance(cols, (int, np.integer, str))
        if isinstance(rows, (int, np.integer)):
            r = int(rows) + self.n_rows if int(rows) < 0 else int(rows)
            if not 0 <= r < self.n_rows:
                raise IndexError(f"row {int(rows)} out of range for {self.n_rows} rows")
            data = self._read_view(r, r + 1, chans)[0]
            return data[0] if drop_col else data
        if isinstance(rows, slice):
            start, stop, step = rows.indices(self.n_rows)
            if step == 1:
                data = self._read_view(start, max(start, stop), chans)
            else:
                data = self.take(np.arange(start, stop, step), chans)
        else:
            rows = np.asarray(rows)
            if rows.dtype == bool:
                if rows.shape != (self.n_rows,):
                    raise IndexError(f"a row mask needs {self.n_rows} entries, got {rows.shape}")
                rows = np.flatnonzero(rows)
            data = self.take(rows, chans)
        return data[:, 0] if drop_col else data

    def iter_chunks(
        self,
        rows: int | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
        channels: Any = None,
        max_memory: int | str | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (first_row, block) over [start, stop) in blocks of `rows` (or a byte budget)."""
        chans = self.channel_index(channels)
        stop = self.n_rows if stop is None else min(int(stop), self.n_rows)
        if rows is None:
            budget = parse_memory(max_memory if max_memory is not None else "64MiB")
            rows = max(1, budget // max(1, len(chans) * self.dtype.itemsize))
        for first in range(max(0, int(start)), stop, int(rows)):
            yield first, self._read_view(first, min(first + int(rows), stop), chans)

    def channel_ranges(
        self,
        max_memory: int | str = "64MiB",
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel (min, max) read in chunks, by `backend.channels.channel_ranges`'s
        NaN rule (NaN skipped; NaN where no value was seen). A job.
        """
        blocks = self.iter_chunks(max_memory=max_memory)
        return channel_ranges(blocks, self.n_channels, self.n_rows, progress, cancel)

    def describe(self, ranges: bool = True) -> dict:
        """Plain-JSON facts: kind, shape, dtype, rate and per-channel ranges."""
        lo, hi = self.channel_ranges() if ranges else (None, None)
        channels = []
        for i, (name, unit) in enumerate(zip(self.channel_names, self.units)):
            entry: dict[str, Any] = {"name": name, "units": unit}
            if lo is not None:
                entry["min"] = _finite(lo[i])
                entry["max"] = _finite(hi[i])
            channels.append(entry)
        return {
            "path": str(self.path) if self.path else None,
            "kind": self.kind,
            "shape": list(self.shape),
            "dtype": str(self.dtype),
            "rows": self.n_rows,
            "sampling_frequency_hz": self.fs,
            "duration_s": (self.n_rows / self.fs) if self.fs else None,
            "channels": channels,
            "notes": list(self.notes),
        }

    # --- lifetime ------------------------------------------------------------
    @property
    def live(self) -> bool:
        """Whether a writer may still add rows (file streams follow such readers)."""
        return False

    def refresh(self) -> int:
        """Pick up rows a writer added since; returns the row count."""
        return self.n_rows

    def close(self) -> None:
        """Release the file; a closed reader cannot read."""

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __getstate__(self) -> dict:
        """Readers cross process boundaries as 'how to reopen', not as open handles."""
        if self.open_args is None or self.reopen is None:
            return self.__dict__
        return {"open_args": self.open_args, "_map": self._map, "reopen": self.reopen}

    def __setstate__(self, state: dict) -> None:
        if "_n_rows" in state:
            self.__dict__.update(state)
            return
        fresh = state["reopen"](**state["open_args"])
        self.__dict__.update(fresh.__dict__)
        self.__class__ = type(fresh)
        self._map = state["_map"]


class ArrayReader(Reader):
    """A reader over an array already in memory (csv, .mat v5, torch, pickle, npz)."""

    columns_read_alone = True

    def __init__(
        self,
        array: np.ndarray,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        fs: float | None = None,
        path: str | os.PathLike | None = None,
        kind: str = "array",
    ) -> None:
        array = as_table(array, str(path or "array"))
        super().__init__(
            len(array), array.dtype, names or default_names(array.shape[1]), units, fs, path
        )
        self.kind = kind
        self.array = array

    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        if len(cols) == self.array.shape[1]:
            return np.array(self.array[start:stop])
        return self.array[start:stop, cols]


def as_table(array: Any, where: str) -> np.ndarray:
    """An array as (rows, channels): 1-D becomes one column; others are refused."""
    array = np.asanyarray(array)  # a memory map stays one
    if array.dtype.kind not in "biufc":
        raise FileFormatError(f"{where} holds {array.dtype} data, not numbers")
    if array.ndim == 1:
        return array.reshape(-1, 1)
    if array.ndim != 2:
        raise FileFormatError(
            f"{where} holds a {array.ndim}-D array of shape {array.shape}, not a 2-D table",
            "Choose a 1-D or 2-D variable (key=...), or reshape it first.",
        )
    return array


def default_names(n: int) -> list[str]:
    return [f"ch{i}" for i in range(n)]


def _finite(x: float) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None
