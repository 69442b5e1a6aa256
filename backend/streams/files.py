"""File streams: thin wrappers that turn a data-layer reader into a seekable stream.

All the format knowledge lives in the data layer's readers
(`backend.readers.Reader`, opened by `backend.formats.*`): the same objects
that `load_data`, batch processing, datasets and postprocessing read through.
A file stream only keeps the position, asks its reader for exactly the rows
`get` needs, and follows a file that is still growing when asked to.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from backend.errors import FileFormatError
from backend.readers import Reader
from backend.streams.base import Stream, StreamError


class TableReader(Protocol):
    """What a file stream needs of a reader (every `backend.readers.Reader` has it)."""

    n_rows: int
    channel_names: list[str]
    units: list[str]
    fs: float | None

    def read(self, start: int, stop: int) -> np.ndarray: ...

    def close(self) -> None: ...


class FileStream(Stream):
    """Any table reader as a stream: `get` reads only the rows it returns.

    The rate is `fs`/`dt` when given, else the reader's, else 1 Hz (time then
    counts samples). `channels` picks columns by name or index; `names` and
    `units` replace the reader's. With `follow=True`, a reader that can
    `refresh()` (a recording being written) is refreshed whenever `get` runs
    out of rows, and the stream only ends once the file stops growing.
    """

    seekable = True

    def __init__(
        self,
        reader: TableReader,
        fs: float | Fraction | None = None,
        dt: float | Fraction | None = None,
        channels: Sequence[int | str] | None = None,
        follow: bool = False,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
    ) -> None:
        if channels is not None:
            reader = _selected(reader, channels)
        self.reader = reader
        width = len(reader.channel_names)
        names = list(names) if names is not None else list(reader.channel_names)
        units = list(units) if units is not None else list(reader.units)
        if len(names) != width or len(units) != width:
            reader.close()
            raise StreamError(f"give one name and one unit per channel ({width})")
        if fs is None and dt is None:
            fs = reader.fs or 1.0
        super().__init__(width, fs, dt, names, units)
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
        if block.dtype == np.float64 and block.flags.c_contiguous and block.flags.owndata:
            return block  # already a fresh array of our own
        return np.array(block, dtype=np.float64, order="C")  # never a view into a file

    def _seek(self, sample: int) -> None:
        """Nothing to move: every `get` reads at the position."""

    def _close(self) -> None:
        self.reader.close()


def _selected(reader: Any, channels: Sequence[int | str]) -> Reader:
    """A view of some channels; an unknown channel is a StreamError naming the channels."""
    try:
        return reader.select(list(channels))
    except (FileFormatError, IndexError, TypeError) as exc:
        reader.close()
        message = str(exc.message if isinstance(exc, FileFormatError) else exc)
        raise StreamError(message, f"Channels: {', '.join(reader.channel_names)}.") from None


class RecordingStream(FileStream):
    """A samplelab recording (inputs then outputs, or one `part`); `follow` a live one."""

    def __init__(self, path: str | os.PathLike, part: str = "all", **options: Any) -> None:
        from backend.formats.loaders import open_reader

        if part not in ("all", "inputs", "outputs"):
            raise ValueError(f"part must be 'all', 'inputs' or 'outputs', not {part!r}")
        reader = open_reader(path, kind="recording")
        if part != "all":
            n_in = len(reader.recording.input_names)
            reader = reader.select(slice(0, n_in) if part == "inputs" else slice(n_in, None))
        super().__init__(reader, **options)


class NpyStream(FileStream):
    """A `.npy` file, memory-mapped (`order='channels'` if stored channels x samples)."""

    def __init__(self, path: str | os.PathLike, order: str = "samples", **options: Any) -> None:
        from backend.formats.loaders import open_reader

        super().__init__(open_reader(path, kind="npy", order=order), **options)


class NpzStream(FileStream):
    """Members of an `.npz` as columns (default: bspysmg's inputs then outputs).

    Never unpickles; the rate of a bspysmg npz comes from its config, or from
    the `sampler_configs.json` of the folder it sits in.
    """

    def __init__(
        self, path: str | os.PathLike, keys: Sequence[str] | None = None, **options: Any
    ) -> None:
        from backend.formats.npz import open_npz

        super().__init__(open_npz(path, keys=keys), **options)


class IodatStream(FileStream):
    """A bspysmg sampling folder's `IO.dat` (rate and units from its sampler_configs.json)."""

    def __init__(self, path: str | os.PathLike, **options: Any) -> None:
        from backend.formats.bspysmg import open_bspysmg_folder

        super().__init__(open_bspysmg_folder(path), **options)


class RawStream(FileStream):
    """A raw binary file with a JSON/YAML sidecar (see `backend.formats.raw`)."""

    def __init__(
        self, path: str | os.PathLike, sidecar: str | os.PathLike | None = None, **options: Any
    ) -> None:
        from backend.formats.raw import open_raw

        super().__init__(open_raw(path, sidecar), **options)


def open_stream(path: str | os.PathLike, **options: Any) -> FileStream:
    """A file stream for `path`, chosen by what the file is.

    Folders with an IO.dat, `.npy`, `.npz`, IO.dat / `.dat` text tables,
    HDF5 (samplelab recordings, stream files, or `dataset=` any 2-D dataset)
    and raw binaries that have a sidecar. Options go to the stream class.
    """
    from backend.formats.raw import find_sidecar

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
        from backend.formats.hdf5files import hdf5_format
        from backend.recording import FORMAT_NAME
        from backend.streams.h5stream import HDF5Stream

        if "dataset" not in options and hdf5_format(path) == FORMAT_NAME:
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
