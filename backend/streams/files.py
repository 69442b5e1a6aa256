"""File streams: thin wrappers that turn a data-layer reader into a seekable stream.

All the format knowledge lives in the data layer's readers
(`backend.data.reader.Reader`, opened by `backend.data.formats.*`): the same objects
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

from backend.data.formats.bspysmg import open_bspysmg_folder
from backend.data.formats.containers import describe_candidates
from backend.data.formats.hdf5files import STREAM_FORMAT, HDF5Reader, hdf5_format, list_datasets
from backend.data.formats.npz import open_npz
from backend.data.formats.raw import open_raw
from backend.data.formats.streamfile import StreamFileReader
from backend.data.kinds import detect_kind, open_reader
from backend.data.reader import Reader
from backend.errors import FileFormatError
from backend.recording.h5shared import acquire
from backend.streams.base import Stream, StreamError


class TableReader(Protocol):
    """What a file stream needs of a reader (every `backend.data.reader.Reader` has it)."""

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
        super().__init__(open_reader(path, kind="npy", order=order), **options)


class NpzStream(FileStream):
    """Members of an `.npz` as columns (default: bspysmg's inputs then outputs).

    Never unpickles; the rate of a bspysmg npz comes from its config, or from
    the `sampler_configs.json` of the folder it sits in.
    """

    def __init__(
        self, path: str | os.PathLike, keys: Sequence[str] | None = None, **options: Any
    ) -> None:
        super().__init__(open_npz(path, keys=keys), **options)


class IodatStream(FileStream):
    """A bspysmg sampling folder's `IO.dat` (rate and units from its sampler_configs.json)."""

    def __init__(self, path: str | os.PathLike, **options: Any) -> None:
        super().__init__(open_bspysmg_folder(path), **options)


class RawStream(FileStream):
    """A raw binary file with a JSON/YAML sidecar (see `backend.data.formats.raw`)."""

    def __init__(
        self, path: str | os.PathLike, sidecar: str | os.PathLike | None = None, **options: Any
    ) -> None:
        super().__init__(open_raw(path, sidecar), **options)


class HDF5Stream(FileStream):
    """A `samplelab-stream` file (exact rate kept), or `dataset=` of any HDF5 file."""

    def __init__(self, path: str | os.PathLike, dataset: str | None = None, **options: Any) -> None:

        if dataset is None and hdf5_format(path) == STREAM_FORMAT:
            reader = StreamFileReader(path)
            if "fs" not in options and "dt" not in options:
                options["fs"] = reader.rate
        elif dataset is None:
            share = acquire(path)
            try:
                items = list_datasets(share.file)
            finally:
                share.release()
            raise FileFormatError(
                f"{path}: say which dataset to read (dataset='...')",
                f"Datasets in the file: {describe_candidates(items)}.",
            )
        else:
            reader = HDF5Reader(path, dataset.lstrip("/"))
        super().__init__(reader, **options)


#: Kinds (`backend.data.kinds`) with a stream class of their own; others get a FileStream.
_STREAM_CLASSES: dict[str, type[FileStream]] = {
    "recording": RecordingStream,
    "stream": HDF5Stream,
    "hdf5": HDF5Stream,
    "npy": NpyStream,
    "npz": NpzStream,
    "bspysmg-folder": IodatStream,
    "iodat": IodatStream,
    "raw": RawStream,
}


def open_stream(path: str | os.PathLike, **options: Any) -> FileStream:
    """A file stream for `path`, chosen by what the file is (`detect_kind`).

    Every kind the data layer reads: sampling folders and IO.dat, `.npy`, `.npz`,
    HDF5 (samplelab recordings, stream files, or `dataset=` any 2-D dataset), raw
    binaries with a sidecar, text tables... Options go to the stream class.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"no such file or folder: {path}")
    kind = detect_kind(path)
    if kind == "recording" and "dataset" in options:
        kind = "hdf5"
    stream_class = _STREAM_CLASSES.get(kind)
    if stream_class is None:
        return FileStream(open_reader(path, kind=kind), **options)
    return stream_class(path, **options)
