"""File streams: thin wrappers that turn a table reader into a seekable stream.

All the format knowledge lives in the readers (`backend.streams.readers`, or
the data layer's readers, which have the same shape); a file stream only keeps
the position, asks the reader for exactly the rows `get` needs, and follows a
file that is still growing when asked to.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from backend.errors import FileFormatError
from backend.streams.base import Stream, StreamError
from backend.streams.readers import (
    IodatReader,
    RecordingReader,
    TableReader,
    find_sidecar,
    npy_reader,
    npz_reader,
    raw_reader,
)


class FileStream(Stream):
    """Any table reader as a stream: `get` reads only the rows it returns.

    The rate is `fs`/`dt` when given, else the reader's, else 1 Hz (time then
    counts samples). `channels` picks columns by name or index. With
    `follow=True`, a reader that can `refresh()` (a recording being written)
    is refreshed whenever `get` runs out of rows, and the stream only ends once
    the file stops growing.
    """

    seekable = True

    def __init__(
        self,
        reader: TableReader,
        fs: float | Fraction | None = None,
        dt: float | Fraction | None = None,
        channels: Sequence[int | str] | None = None,
        follow: bool = False,
    ) -> None:
        self.reader = reader
        names, units = list(reader.channel_names), list(reader.units)
        self._cols = None if channels is None else _columns(channels, names)
        if self._cols is not None:
            names = [names[i] for i in self._cols]
            units = [units[i] for i in self._cols]
        if fs is None and dt is None:
            fs = reader.fs or 1.0
        super().__init__(len(names), fs, dt, names, units)
        self.follow = bool(follow) and hasattr(reader, "refresh")

    @property
    def length(self) -> int | None:
        if self.follow and getattr(self.reader, "live", False):
            return None
        return int(self.reader.n_rows)

    @property
    def endless(self) -> bool:
        return False  # a followed file ends when its writer stops

    @property
    def available(self) -> int:
        return max(0, int(self.reader.n_rows) - self.position)

    @property
    def ended(self) -> bool:
        if self.follow and self.position >= self.reader.n_rows:
            self.reader.refresh()
            return not getattr(self.reader, "live", False) and self.position >= self.reader.n_rows
        return self.position >= self.reader.n_rows

    def _get(self, n: int) -> np.ndarray:
        stop = self.position + n
        if self.follow and stop > self.reader.n_rows:
            self.reader.refresh()
        stop = min(stop, int(self.reader.n_rows))
        if stop <= self.position:
            return np.empty((0, self.channels))
        block = self.reader.read(self.position, stop)
        if self._cols is not None:
            block = block[:, self._cols]
        if block.dtype == np.float64 and block.flags.c_contiguous and block.flags.owndata:
            return block  # already a fresh array of our own
        return np.array(block, dtype=np.float64, order="C")  # never a view into a file

    def _seek(self, sample: int) -> None:
        """Nothing to move: every `get` reads at the position."""

    def _close(self) -> None:
        self.reader.close()


def _columns(channels: Sequence[int | str], names: list[str]) -> np.ndarray:
    out = []
    for c in channels:
        if isinstance(c, str):
            if c not in names:
                raise StreamError(f"no channel named {c!r}", f"Channels: {', '.join(names)}.")
            out.append(names.index(c))
        elif not -len(names) <= int(c) < len(names):
            raise StreamError(f"channel {c} out of range for {len(names)} channels")
        else:
            out.append(int(c) % len(names))
    return np.asarray(out, dtype=np.intp)


class RecordingStream(FileStream):
    """A samplelab recording (inputs then outputs, or one `part`); `follow` a live one."""

    def __init__(self, path: str | os.PathLike, part: str = "all", **options: Any) -> None:
        super().__init__(RecordingReader(path, part), **options)


class NpyStream(FileStream):
    """A `.npy` file, memory-mapped (`order='channels'` if stored channels x samples)."""

    def __init__(
        self,
        path: str | os.PathLike,
        order: str = "samples",
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(npy_reader(path, order, names=names, units=units), **options)


class NpzStream(FileStream):
    """Members of an `.npz` as columns (default: bspysmg's inputs then outputs)."""

    def __init__(
        self,
        path: str | os.PathLike,
        keys: Sequence[str] | None = None,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        meta = {k: v for k, v in (("names", names), ("units", units)) if v is not None}
        super().__init__(npz_reader(path, keys, **meta), **options)


class IodatStream(FileStream):
    """A bspysmg sampling folder's `IO.dat` (rate and units from its sampler_configs.json)."""

    def __init__(self, path: str | os.PathLike, **options: Any) -> None:
        super().__init__(IodatReader(path), **options)


class RawStream(FileStream):
    """A raw binary file with a JSON/YAML sidecar (see `raw_reader`)."""

    def __init__(
        self, path: str | os.PathLike, sidecar: str | os.PathLike | None = None, **options: Any
    ) -> None:
        super().__init__(raw_reader(path, sidecar), **options)


def open_stream(path: str | os.PathLike, **options: Any) -> FileStream:
    """A file stream for `path`, chosen by what the file is.

    Folders with an IO.dat, `.npy`, `.npz`, IO.dat / `.dat` text tables,
    HDF5 (samplelab recordings, stream files, or `dataset=` any 2-D dataset)
    and raw binaries that have a sidecar. Options go to the stream class.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"no such file or folder: {path}")
    suffix = path.suffix.lower()
    if path.is_dir():
        if (path / "IO.dat").is_file():
            return IodatStream(path, **options)
        raise FileFormatError(f"{path} is a folder without an IO.dat")
    if suffix == ".npy":
        return NpyStream(path, **options)
    if suffix == ".npz":
        return NpzStream(path, **options)
    if suffix in (".h5", ".hdf5", ".hdf"):
        from backend.recording import is_recording
        from backend.streams.h5stream import HDF5Stream

        if is_recording(path) and "dataset" not in options:
            return RecordingStream(path, **options)
        return HDF5Stream(path, **options)
    if find_sidecar(path) is not None:
        return RawStream(path, **options)
    if path.name == "IO.dat" or suffix in (".dat", ".txt"):
        return IodatStream(path, **options)
    raise FileFormatError(
        f"cannot tell what kind of data {path.name} holds",
        "Streams read .npy, .npz, IO.dat, HDF5, and raw binaries with a JSON/YAML sidecar.",
    )
