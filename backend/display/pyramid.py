"""Overview pyramid: min/max levels so a window over 10^8 rows draws without reading them.

Level k holds, per channel, the min and the max of every bin of
`base * factor**k` rows (bins aligned to absolute row 0; the last bin of a
level may be partial). A query picks the coarsest level that still has enough
resolution, reads only the level bins under the window and merges groups of
them into the output bins; small windows are read raw. Bins are aligned to
multiples of the output step, and the window is widened to whole bins, so the
answer equals `decimate.minmax(raw[a:b], step=S, first_row=a)` exactly, and
bins do not shift as a view scrolls.

The levels live in a sidecar HDF5 file, never in the recording (whose writer
may have it open): `<recording>.overview.h5` beside it when that folder is
writable, else in `overviews/` of samplelab's cache folder (`backend.userdirs`:
`$SAMPLELAB_CACHE_DIR`, else the platform's, e.g. `~/.cache/samplelab` on Linux),
named after a hash of the recording's path.
The sidecar remembers how many rows it covers plus hashes of the first rows and
of the last covered row; a sidecar that does not match its recording is rebuilt.
Building reads the recording in chunks (bounded memory) and `update()` extends
it as a live recording grows, recomputing only the last partial bins.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backend import userdirs
from backend.data.kinds import open_reader
from backend.display.decimate import Envelope, bin_step, minmax
from backend.errors import RecordingError
from backend.jobs import CancelToken, JobControl, ProgressFn

if TYPE_CHECKING:
    import h5py

OVERVIEW_FORMAT = "samplelab-overview"
OVERVIEW_VERSION = 1
OVERVIEW_SUFFIX = ".overview.h5"
#: Rows hashed at the start of the source to recognise it.
HEAD_ROWS = 4096


def default_cache_dir() -> Path:
    """Where overviews of recordings in read-only folders go."""
    return userdirs.cache_dir() / "overviews"


def overview_path(source: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the overview of `source` lives (see the module docstring)."""
    source = Path(source).resolve()
    if cache_dir is None and os.access(source.parent, os.W_OK):
        return source.with_name(source.name + OVERVIEW_SUFFIX)
    key = hashlib.sha1(str(source).encode()).hexdigest()[:16]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"{source.name}-{key}{OVERVIEW_SUFFIX}"


class Pyramid:
    """The overview of one table reader (n_rows, read(start, stop)) in a sidecar file."""

    def __init__(
        self,
        reader: Any,
        path: str | os.PathLike,
        base: int = 64,
        factor: int = 8,
        top_bins: int = 4096,
        chunk_rows: int = 1 << 19,
    ) -> None:
        if base < 2 or factor < 2:
            raise ValueError("base and factor must be at least 2")
        self.reader, self.path = reader, Path(path)
        self.base, self.factor, self.top_bins = int(base), int(factor), int(top_bins)
        self.chunk_rows = max(self.base, int(chunk_rows) // self.base * self.base)
        self.channels = len(reader.channel_names)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            import h5py  # here, not at import: the window's first paint needs no HDF5

            self._f = h5py.File(self.path, "a")
        except OSError as exc:
            raise RecordingError(
                f"cannot open the overview file {self.path} ({exc})",
                "Another program may be building it; close it or choose another cache folder.",
            ) from None
        if not self._matches():
            self._clear()

    @classmethod
    def open(
        cls,
        source: str | os.PathLike,
        sidecar: str | os.PathLike | None = None,
        cache_dir: str | os.PathLike | None = None,
        update: bool = True,
        **options: Any,
    ) -> Pyramid:
        """The overview of a file (any kind `open_reader` reads), built or extended."""
        reader = open_reader(source)
        try:
            pyramid = cls(reader, sidecar or overview_path(source, cache_dir), **options)
        except BaseException:
            reader.close()
            raise
        if update:
            try:
                pyramid.update()
            except BaseException:
                pyramid.close()
                raise
        return pyramid

    # --- what it holds -------------------------------------------------------------------
    @property
    def rows(self) -> int:
        """Source rows the levels cover."""
        return int(self._f.attrs.get("rows", 0))

    @property
    def steps(self) -> list[int]:
        """Rows per bin of each level, finest first."""
        return [self.base * self.factor**k for k in range(self._levels())]

    def _levels(self) -> int:
        return sum(1 for k in self._f if k.startswith("level"))

    # --- building ------------------------------------------------------------------------
    def update(
        self,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
        """Extend the levels to the rows the source has now; returns the rows covered.

        Reports ("overview", rows done, rows). A cancelled update raises `Cancelled` and
        leaves a consistent, shorter overview that the next update continues.
        """
        refresh = getattr(self.reader, "refresh", None)
        n = int(refresh() if callable(refresh) else self.reader.n_rows)
        old = self.rows
        if n == old:
            return old
        if n < old:  # the source shrank: it is not what we indexed
            self._clear()
            old = 0
        keep = self._untouched(old)
        self._commit(keep)  # what stays valid while the tail is rewritten
        control = JobControl(progress, cancel)
        self._build_first(keep, n, control)
        k = 1
        while -(-n // self._step(k - 1)) > self.top_bins:
            self._build_level(k, keep, n, control)
            k += 1
        self._commit(n)
        return n

    def _commit(self, rows: int) -> None:
        """Declare the first `rows` rows covered, with the hashes that identify them."""
        self._f.attrs["rows"] = rows
        self._f.attrs["head_sha1"] = self._hash(0, min(rows, HEAD_ROWS))
        self._f.attrs["tail_sha1"] = self._hash(rows - 1, rows)
        self._f.flush()

    def _step(self, level: int) -> int:
        return self.base * self.factor**level

    def _untouched(self, rows: int) -> int:
        """Rows whose bins in every level stay as they are when the tail is rebuilt."""
        top = self._step(max(0, self._levels() - 1))
        return rows // top * top

    def _dataset(self, level: int, bins: int) -> tuple[h5py.Dataset, h5py.Dataset]:
        name = f"level{level}"
        if name not in self._f:
            group = self._f.create_group(name)
            group.attrs["step"] = self._step(level)
            for key in ("min", "max"):
                group.create_dataset(
                    key, (0, self.channels), "<f8", maxshape=(None, self.channels),
                    chunks=(4096, self.channels),
                )  # fmt: skip
        group = self._f[name]
        for key in ("min", "max"):
            group[key].resize(bins, axis=0)
        return group["min"], group["max"]

    def _build_first(self, keep: int, n: int, control: JobControl) -> None:
        """Level 0 straight from the source, chunk by chunk."""
        step = self.base
        lo, hi = self._dataset(0, -(-n // step))
        first = keep // step * step
        for start in range(first, n, self.chunk_rows):
            stop = min(start + self.chunk_rows, n)
            env = minmax(self.reader.read(start, stop), 0, start, step)
            lo[start // step : start // step + env.bins] = env.mins
            hi[start // step : start // step + env.bins] = env.maxs
            control.report("overview", stop, n)

    def _build_level(self, level: int, keep: int, n: int, control: JobControl) -> None:
        """Level k from level k-1: every `factor` bins merge into one."""
        f = self.factor
        src_lo, src_hi = self._f[f"level{level - 1}/min"], self._f[f"level{level - 1}/max"]
        fresh = f"level{level}" not in self._f
        lo, hi = self._dataset(level, -(-n // self._step(level)))
        first = 0 if fresh else keep // self._step(level)
        total = src_lo.shape[0]
        block = max(f, self.chunk_rows // f * f)
        for b in range(first * f, total, block):
            e = min(b + block, total)
            starts = np.arange(0, e - b, f)
            lo[b // f : b // f + len(starts)] = np.minimum.reduceat(src_lo[b:e], starts, axis=0)
            hi[b // f : b // f + len(starts)] = np.maximum.reduceat(src_hi[b:e], starts, axis=0)
            control.check()

    # --- querying -------------------------------------------------------------------------
    def envelope(self, start: int, stop: int, max_points: int) -> Envelope:
        """Min/max of [start, stop) in at most ~max_points points per channel.

        The window is widened to whole output bins (aligned to multiples of
        the step) and clipped to the covered rows; `starts[0]` says where it
        begins. Reads at most ~2 * max_points level bins, or raw rows when the
        window is short.
        """
        n = self.rows
        start, stop = max(0, int(start)), min(int(stop), n)
        if stop <= start:
            empty = np.empty((0, self.channels))
            return Envelope(np.empty(0, dtype=np.int64), empty, empty, 1)
        want = bin_step(stop - start, max_points)
        steps = [s for s in self.steps if 2 * s <= want]
        if not steps:
            a, b = (start // want * want, min(-(-stop // want) * want, n))
            return minmax(self.reader.read(a, b), 0, a, want)
        s = steps[-1]
        m = -(-want // s)
        step = m * s
        a, b = start // step * step, min(-(-stop // step) * step, n)
        level = f"level{len(steps) - 1}"
        i, j = a // s, -(-b // s)
        mins, maxs = self._f[level]["min"][i:j], self._f[level]["max"][i:j]
        groups = np.arange(0, j - i, m)
        mins = np.minimum.reduceat(mins, groups, axis=0)
        maxs = np.maximum.reduceat(maxs, groups, axis=0)
        return Envelope(a + groups.astype(np.int64) * s, mins, maxs, step)

    # --- identity -------------------------------------------------------------------------
    def _hash(self, start: int, stop: int) -> str:
        if stop <= start:
            return ""
        data = np.ascontiguousarray(self.reader.read(start, stop), dtype="<f8")
        return hashlib.sha1(data.tobytes()).hexdigest()

    def _settings(self) -> dict:
        return {
            "format": OVERVIEW_FORMAT,
            "format_version": OVERVIEW_VERSION,
            "base": self.base,
            "factor": self.factor,
            "channels": self.channels,
        }

    def _matches(self) -> bool:
        """The sidecar was built with our settings from this very data."""
        attrs = self._f.attrs
        for key, value in self._settings().items():
            stored = attrs.get(key)
            stored = stored.decode() if isinstance(stored, bytes) else stored
            if stored != value:
                return False
        rows = int(attrs.get("rows", 0))
        if rows > int(self.reader.n_rows):
            return False
        head = self._hash(0, min(rows, HEAD_ROWS))
        tail = self._hash(rows - 1, rows)
        return attrs.get("head_sha1", "") == head and attrs.get("tail_sha1", "") == tail

    def _clear(self) -> None:
        for name in list(self._f):
            del self._f[name]
        self._f.attrs.clear()
        self._f.attrs.update({**self._settings(), "rows": 0, "head_sha1": "", "tail_sha1": ""})
        self._f.flush()

    def close(self) -> None:
        """Close the sidecar and the source reader."""
        try:
            self._f.close()
        finally:
            self.reader.close()

    def __enter__(self) -> Pyramid:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
