"""HDF5 files: our recordings and any other HDF5 file, read as lazy slices.

A samplelab recording reads as one table, inputs then outputs side by side.
Any other HDF5 file (MATLAB v7.3 files included) is read one dataset at a
time, picked by `key`; with no key the file must hold exactly one numeric
1-D or 2-D dataset, otherwise the error lists every candidate and its shape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np

from backend.channels import INPUT, OUTPUT, ChannelLayout
from backend.data.formats.containers import describe_candidates, pick_member
from backend.data.reader import Reader, default_names
from backend.errors import FileFormatError, RecordingError
from backend.recording.h5open import read_live, reading
from backend.recording.h5shared import acquire
from backend.recording.reader import Recording

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_RATE_KEYS = ("sampling_frequency", "sampling_rate", "fs", "rate")
_STEP_BYTES = 4 << 20  # temporaries of a recording read


def is_hdf5(path: str | os.PathLike) -> bool:
    """HDF5 signature at offset 0 or at a user-block boundary (512, 1024, ...)."""
    try:
        return h5py.is_hdf5(os.fspath(path))
    except (OSError, ValueError):
        return False


#: The `format` attribute of a stream file (`backend.streams.h5stream`).
STREAM_FORMAT = "samplelab-stream"


def hdf5_format(path: str | os.PathLike) -> str:
    """The file's `format` attribute ('' if none); FileFormatError if HDF5 cannot open it.

    Opened as every reader opens it (`backend.recording.h5open`): live and killed
    recordings answer, cut and damaged files are refused at once.
    """
    share = acquire(path)
    try:
        value = share.file.attrs.get("format", "")
    except Exception as exc:  # h5py raises OSError, RuntimeError, ... on damaged files
        raise FileFormatError(f"{path} is not a readable HDF5 file ({_first_line(exc)})") from None
    finally:
        share.release()
    return str(_text(value)) if isinstance(value, (str, bytes)) else ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def list_datasets(f: h5py.File) -> list[dict]:
    """Every dataset: name, shape, dtype and whether it can be read as a table."""
    found: list[dict] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and not name.startswith("#refs#"):
            usable = obj.dtype.kind in "biuf" and obj.ndim in (1, 2)
            found.append(
                {"key": name, "shape": list(obj.shape), "dtype": str(obj.dtype), "usable": usable}
            )

    f.visititems(visit)
    return found


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO":
        return [_text(v) for v in value.tolist()]
    return value


def _attr_list(value: Any, n: int) -> list[str] | None:
    value = _text(value)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = [value] * n
    if isinstance(value, (list, tuple)) and len(value) == n:
        return [str(v) for v in value]
    return None


class HDF5Reader(Reader):
    """One dataset of an HDF5 file as (rows, channels); order='channels' for (channels, rows)."""

    kind = "hdf5"

    def __init__(
        self, path: str | os.PathLike, key: str, order: str = "samples", kind: str = "hdf5"
    ) -> None:
        self._share = acquire(path)  # one open file and dataset handle per process
        self._f = self._share.file
        try:
            with reading(path, "file's index"):
                ds = self._dataset(path, key)
        except BaseException:
            self._share.release()
            raise
        self._ds = ds
        self._channels_first = order == "channels" and ds.ndim == 2
        rows, n = self._dims(ds)
        attrs = {**dict(self._f.attrs), **dict(ds.attrs)}
        fs = next((float(attrs[k]) for k in _RATE_KEYS if k in attrs), None)
        names = _attr_list(attrs.get("channel_names"), n) or default_names(n)
        units = _attr_list(attrs.get("units"), n)
        super().__init__(rows, ds.dtype, names, units, fs, path)
        self.kind = kind
        self.key = key

    def _dataset(self, path: Any, key: str) -> h5py.Dataset:
        try:
            ds = self._share.dataset(key)
        except KeyError:
            items = list_datasets(self._f)
            raise FileFormatError(
                f"{path} has no dataset {key!r}",
                f"Datasets in the file: {describe_candidates(items)}.",
            ) from None
        if ds.dtype.kind not in "biuf" or ds.ndim not in (1, 2):
            raise FileFormatError(
                f"{path}:{key} is {ds.dtype} of shape {ds.shape}, not a numeric 1-D/2-D table"
            )
        return ds

    def refresh(self) -> int:
        """Pick up rows a writer appended (files written in SWMR mode)."""
        if self._f.swmr_mode:
            read_live(self.path, "file's index", True, self._ds.refresh)
            self._n_rows = self._dims(self._ds)[0]
        return self._n_rows

    def _dims(self, ds: h5py.Dataset) -> tuple[int, int]:
        if ds.ndim == 1:
            return ds.shape[0], 1
        return (ds.shape[1], ds.shape[0]) if self._channels_first else ds.shape

    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        what = f"data of rows {start:,} to {stop:,}"
        return read_live(
            self.path, what, self._f.swmr_mode, lambda: self._read_rows(start, stop, cols)
        )

    def _read_rows(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        ds, n_all = self._ds, self._dims(self._ds)[1]
        if ds.ndim == 1:
            return ds[start:stop].reshape(-1, 1)
        everything = len(cols) == n_all
        if self._channels_first:
            block = ds[:, start:stop] if everything else ds[cols.tolist(), start:stop]
            return np.ascontiguousarray(block.T)
        if everything:
            return ds[start:stop]
        if len(cols) * 2 > n_all:
            return ds[start:stop][:, cols]
        return ds[start:stop, cols.tolist()]

    def close(self) -> None:
        self._share.release()


class RecordingReader(Reader):
    """A samplelab recording: inputs (V) then outputs (nA) as columns, complete batches only."""

    kind = "recording"
    columns_read_alone = True  # inputs and outputs are separate datasets

    def __init__(self, path: str | os.PathLike) -> None:
        # The file and its datasets are shared with every other reader of it in this
        # process (`backend.recording.h5open`): HDF5 misbehaves when two handles of one SWMR
        # dataset are refreshed.
        try:
            self.recording = Recording(path)
        except RecordingError as exc:
            raise FileFormatError(exc.message, exc.hint) from None
        rec = self.recording
        self._n_in = len(rec.input_names)
        self._parts = [rec.inputs, rec.outputs]
        super().__init__(rec.n_rows, np.float64, rec.channel_names, rec.units, rec.fs, path)
        n_out = len(rec.channel_names) - self._n_in
        roles = (INPUT,) * self._n_in + (OUTPUT,) * n_out
        self.use_layout(ChannelLayout(tuple(rec.channel_names), tuple(rec.units), roles))

    @property
    def live(self) -> bool:
        """Whether a writer is still appending (file streams follow it while it is)."""
        return self.recording.writer_alive()

    def refresh(self) -> int:
        """Pick up batches a live writer appended since; returns the row count."""
        self._n_rows = self.recording.refresh()
        return self._n_rows

    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        what = f"data of rows {start:,} to {stop:,}"
        return read_live(
            self.path, what, self.recording.live, lambda: self._read_rows(start, stop, cols)
        )

    def _read_rows(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        # Contiguous reads of a few MB copied into the result: HDF5 is ~3x slower
        # writing into strided memory, and whole-dataset temporaries would double RSS.
        out = np.empty((stop - start, len(cols)), dtype=np.float64)
        n_in, at = self._n_in, 0
        parts = ((self._parts[0], cols[cols < n_in]), (self._parts[1], cols[cols >= n_in] - n_in))
        for ds, wanted in parts:
            if not len(wanted):
                continue
            width, full = len(wanted), len(wanted) == ds.shape[1]
            step = max(1, _STEP_BYTES // (8 * ds.shape[1]))
            for a in range(start, stop, step):
                b = min(stop, a + step)
                block = ds[a:b]
                out[a - start : b - start, at : at + width] = block if full else block[:, wanted]
            at += width
        return out

    def _own_span(self, start: int, stop: int, widths: Sequence[int]) -> tuple[int, int] | None:
        """[start, stop) clamped, when (inputs, outputs) are asked for as stored; else None."""
        if not self._unselected() or list(widths) != [self._n_in, self.n_channels - self._n_in]:
            return None
        stop = min(int(stop), self.n_rows)
        return max(0, min(int(start), stop)), stop

    def read_column_groups(
        self, start: int, stop: int, widths: Sequence[int]
    ) -> tuple[np.ndarray, ...]:
        """(inputs, outputs) straight from their datasets, as `Recording.read` gives them."""
        span = self._own_span(start, stop, widths)
        if span is None:
            return super().read_column_groups(start, stop, widths)
        return read_live(
            self.path,
            f"data of rows {span[0]:,} to {span[1]:,}",
            self.recording.live,
            lambda: tuple(ds[span[0] : span[1]] for ds in self._parts),
        )

    def read_column_groups_into(
        self, start: int, stop: int, out: Sequence[np.ndarray]
    ) -> tuple[np.ndarray, ...]:
        span = self._own_span(start, stop, [o.shape[1] for o in out])
        if span is None:
            return super().read_column_groups_into(start, stop, out)
        start, stop = span
        n = stop - start

        def fill() -> None:
            for ds, buf in zip(self._parts, out, strict=True):
                if n:
                    ds.read_direct(buf, np.s_[start:stop], np.s_[0:n])

        read_live(self.path, f"data of rows {start:,} to {stop:,}", self.recording.live, fill)
        return tuple(buf[:n] for buf in out)

    def describe(self, ranges: bool = True) -> dict:
        facts = super().describe(ranges)
        facts["batch_points"] = self.recording.batch_points
        facts["batches_done"] = self.recording.batches_done
        return facts

    def close(self) -> None:
        self.recording.close()


def pick_dataset(path: str | os.PathLike, key: str | int | None) -> str:
    """The dataset `key` names, or the only numeric table in the file."""
    if key is not None:
        return str(key).lstrip("/")
    share = acquire(path)
    try:
        items = list_datasets(share.file)
    except Exception as exc:  # h5py raises OSError, RuntimeError, ... on damaged files
        raise FileFormatError(f"{path} is not a readable HDF5 file ({_first_line(exc)})") from None
    finally:
        share.release()
    return pick_member(path, items, None, "dataset", "Datasets in the file")
