"""Streams into and out of HDF5: the `samplelab-stream` layout (spec in docs/streams.md).

    /data    float64 (rows, channels), chunked, resizable along rows
    /rows    int64 scalar: rows complete; written after their data, then flushed
    /status  S16 scalar: writing | complete | failed
    root attrs: format="samplelab-stream", format_version=1, sampling_frequency
                (Hz, float), sampling_rate ("num/den", exact), t0, channel_names
                and units (JSON lists), created, app_version

A recording (`backend.recording.writer`) needs a sampling config, an input/output
split and a batch table; a stream's output (a model's prediction, a filtered
or resampled signal) has none of those, so it gets this simpler layout. The
file is written in SWMR mode: a reader (HDF5Stream with follow=True) can read
it while it grows, trusting `/rows` only (`backend.data.formats.streamfile` reads it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from backend import __version__
from backend.data.formats.hdf5files import STREAM_FORMAT
from backend.errors import RecordingError
from backend.recording.h5open import (
    WRITER_ATTR,
    writer_stamp,
)
from backend.streams.base import Stream, StreamError

STREAM_FORMAT_VERSION = 1
_CHUNK_BYTES = 1 << 20


class H5StreamWriter(Stream):
    """A write-only stream: every `put` appends rows to an HDF5 file and flushes them."""

    writable = True

    def __init__(
        self,
        path: str | os.PathLike,
        channels: int,
        fs: float | Fraction | None = None,
        dt: float | Fraction | None = None,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        t0: float = 0.0,
        overwrite: bool = False,
    ) -> None:
        super().__init__(channels, fs, dt, names, units, t0)
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise RecordingError(f"{self.path} already exists", "Choose another file name.")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = h5py.File(self.path, "w", libver="latest")
        except OSError as exc:
            raise RecordingError(f"cannot create {self.path}: {exc}") from None
        chunk = max(256, _CHUNK_BYTES // (8 * self.channels))
        self._data = self._f.create_dataset(
            "data", (0, self.channels), "<f8", maxshape=(None, self.channels),
            chunks=(chunk, self.channels), fletcher32=True,  # flipped bytes fail the read
        )  # fmt: skip
        self._rows = self._f.create_dataset("rows", data=np.int64(0))
        self._status = self._f.create_dataset("status", data=np.bytes_("writing"), dtype="S16")
        self._f.attrs.update(
            {
                "format": STREAM_FORMAT,
                "format_version": STREAM_FORMAT_VERSION,
                "sampling_frequency": self.fs,
                "sampling_rate": str(self.rate),
                "t0": self.t0,
                "channel_names": json.dumps(self.names),
                "units": json.dumps(self.units),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "app_version": __version__,
                WRITER_ATTR: writer_stamp(),  # who writes it: a reader can tell it died
            }
        )
        self._f.flush()
        self._f.swmr_mode = True
        self.written = 0

    @classmethod
    def like(cls, stream: Stream, path: str | os.PathLike, **options: Any) -> H5StreamWriter:
        """A writer with `stream`'s channels, names, units and rate."""
        return cls(
            path, stream.channels, fs=stream.rate, names=stream.names, units=stream.units,
            t0=stream.t0, **options,
        )  # fmt: skip

    @property
    def length(self) -> int:
        return self.written

    def _get(self, n: int) -> np.ndarray:
        raise StreamError(
            "H5StreamWriter is write-only", "Open the file with HDF5Stream to read it back."
        )

    def _put(self, x: np.ndarray) -> None:
        if not len(x):
            return
        stop = self.written + len(x)
        self._data.resize(stop, axis=0)
        self._data[self.written : stop] = x
        self._f.flush()  # data first ...
        self._rows[()] = stop
        self._f.flush()  # ... then the count that makes it visible
        self.written = stop

    def _close(self, status: str = "complete") -> None:
        try:
            self._status[()] = np.bytes_(status)
            self._f.flush()
        finally:
            self._f.close()

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.closed:
            self.closed = True
            self._close("complete" if exc_type is None else "failed")
