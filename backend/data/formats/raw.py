"""Raw binary recordings described by a JSON/YAML sidecar.

A flat file of numbers says nothing about itself, so a small sidecar file
beside it does (spec in docs/data-layer.md):

    {"format": "samplelab-raw", "format_version": 1,
     "dtype": "<f8", "n_channels": 8, "order": "samples",
     "offset": 0, "n_rows": 1000, "sampling_frequency": 1000.0,
     "channel_names": [...], "units": [...]}

Only `dtype` and `n_channels` are required; `order` defaults to `samples`
(row-major: all channels of observation 0, then of observation 1, ...);
`channels` means all observations of channel 0, then of channel 1, ....
yass's sidecar key `data_order`, and the aliases `channels` (n_channels) and
`fs` (sampling_frequency), are understood too. The sidecar of
`data.bin` is `data.bin.json` (what we write) or `data.json` / `data.yaml`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.reader import Reader, default_names
from backend.errors import FileFormatError
from backend.files import read_regular_bytes, write_text_atomic

RAW_FORMAT = "samplelab-raw"
RAW_VERSION = 1
SIDECAR_SUFFIXES = (".json", ".yaml", ".yml")
ORDERS = ("samples", "channels")


class BinaryReader(Reader):
    """A flat binary file (raw + sidecar, or .npy) read through windowed memmaps.

    Each read maps only the window it needs and unmaps it afterwards, so the
    process never holds more of a large file than the current request.
    """

    kind = "raw"

    def __init__(
        self,
        path: str | os.PathLike,
        dtype: Any,
        n_channels: int,
        order: str = "samples",
        offset: int = 0,
        n_rows: int | None = None,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        fs: float | None = None,
        kind: str = "raw",
    ) -> None:
        dtype = np.dtype(dtype)
        if order not in ("samples", "channels"):
            raise FileFormatError(f"order must be 'samples' or 'channels', not {order!r}")
        size = Path(path).stat().st_size - int(offset)
        row_bytes = dtype.itemsize * int(n_channels)
        if size < 0 or size % row_bytes:
            raise FileFormatError(
                f"{path}: {max(size, 0)} data bytes is not a whole number of rows of "
                f"{n_channels} x {dtype} ({row_bytes} bytes per row)",
                "Check dtype, channel count and offset in the sidecar.",
            )
        found = size // row_bytes
        if n_rows is not None and int(n_rows) != found:
            raise FileFormatError(
                f"{path}: the sidecar says {n_rows} rows but the file holds {found}",
                "The file is truncated or the sidecar belongs to another file.",
            )
        super().__init__(found, dtype, names or default_names(int(n_channels)), units, fs, path)
        self.kind = kind
        self.order = order
        self.offset = int(offset)
        self._n_storage = int(n_channels)

    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        # Each memmap below is dropped when this returns (refcounting unmaps it at
        # once), so only the current window is ever mapped.
        n, item = stop - start, self.dtype.itemsize
        if self.order == "samples":
            row_bytes = item * self._n_storage
            window = np.memmap(
                self.path, self.dtype, "r", self.offset + start * row_bytes, (n, self._n_storage)
            )
            if len(cols) == self._n_storage:
                return np.array(window)
            return window[:, cols]
        out = np.empty((n, len(cols)), dtype=self.dtype)
        for j, c in enumerate(cols):
            where = self.offset + (int(c) * self._n_rows + start) * item
            out[:, j] = np.memmap(self.path, self.dtype, "r", where, (n,))
        return out


@dataclass
class RawLayout:
    """What the sidecar says about a raw file."""

    dtype: str
    n_channels: int
    order: str = "samples"
    offset: int = 0
    n_rows: int | None = None
    sampling_frequency: float | None = None
    channel_names: list[str] | None = None
    units: list[str] | None = None
    source: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The sidecar mapping; keys with no value are left out (stable bytes)."""
        data: dict[str, Any] = {
            "format": RAW_FORMAT,
            "format_version": RAW_VERSION,
            "dtype": np.dtype(self.dtype).str,
            "n_channels": int(self.n_channels),
            "order": self.order,
            "offset": int(self.offset),
        }
        optional = {
            "n_rows": self.n_rows,
            "sampling_frequency": self.sampling_frequency,
            "channel_names": self.channel_names,
            "units": self.units,
            "source": self.source or None,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data


def layout_from_dict(data: Any, where: str = "sidecar") -> RawLayout:
    """Validate a sidecar mapping; one FileFormatError names every bad key."""
    if not isinstance(data, dict):
        raise FileFormatError(f"{where} does not hold a mapping of raw-file settings")
    problems = []
    dtype = data.get("dtype")
    try:
        dt = np.dtype(dtype) if dtype is not None else None
        if dt is not None and dt.kind not in "biufc":
            problems.append(f"dtype {dtype!r} is not numeric")
    except TypeError:
        problems.append(f"dtype {dtype!r} is not a numpy dtype")
        dt = None
    if dtype is None:
        problems.append("dtype is missing (e.g. 'float64', '<i2')")
    n_ch = data.get("n_channels", data.get("channels"))
    if not isinstance(n_ch, int) or isinstance(n_ch, bool) or n_ch < 1:
        problems.append(f"n_channels must be a whole number >= 1 (got {n_ch!r})")
    order = data.get("order", data.get("data_order", "samples"))
    if order == "sample":
        order = "samples"
    if order not in ORDERS:
        problems.append(f"order must be 'samples' or 'channels' (got {order!r})")
    offset = data.get("offset", 0)
    if not isinstance(offset, int) or offset < 0:
        problems.append(f"offset must be a whole number of bytes >= 0 (got {offset!r})")
    fs = data.get("sampling_frequency", data.get("fs"))
    if fs is not None and (not isinstance(fs, (int, float)) or fs <= 0):
        problems.append(f"sampling_frequency must be a positive number (got {fs!r})")
    names, units = data.get("channel_names"), data.get("units")
    if isinstance(units, str) and isinstance(n_ch, int):
        units = [units] * n_ch
    for key, value in (("channel_names", names), ("units", units)):
        if value is not None and (
            not isinstance(value, list) or (isinstance(n_ch, int) and len(value) != n_ch)
        ):
            problems.append(f"{key} must be a list of {n_ch} strings")
    if problems:
        raise FileFormatError(
            f"{where} is not a valid raw-file sidecar: " + "; ".join(problems),
            "See docs/data-layer.md for the sidecar keys.",
        )
    n_rows = data.get("n_rows")
    return RawLayout(
        dtype=dt.str,
        n_channels=n_ch,
        order=order,
        offset=offset,
        n_rows=int(n_rows) if n_rows is not None else None,
        sampling_frequency=float(fs) if fs is not None else None,
        channel_names=[str(n) for n in names] if names else None,
        units=[str(u) for u in units] if units else None,
        source=data.get("source") or {},
    )


def sidecar_candidates(path: str | os.PathLike) -> list[Path]:
    """Where a raw file's sidecar may be, in the order they are tried."""
    path = Path(path)
    appended = [path.with_name(path.name + s) for s in SIDECAR_SUFFIXES]
    replaced = [path.with_suffix(s) for s in SIDECAR_SUFFIXES] if path.suffix else []
    return [p for p in appended + replaced if p != path]


def find_sidecar(path: str | os.PathLike) -> Path | None:
    return next((p for p in sidecar_candidates(path) if p.is_file()), None)


def sidecar_path(path: str | os.PathLike) -> Path:
    """The sidecar we write for `path`: `<name>.json`."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def read_sidecar(path: str | os.PathLike) -> RawLayout:
    """Parse a sidecar file (JSON, or YAML through the safe loader)."""
    # Imported here: backend.config's package loads pydantic, which a raw reader (and
    # every chunked job on one) does not need unless a sidecar is read.
    from backend.config.yamlsafe import MAX_YAML_BYTES, load_yaml

    path = Path(path)
    text = read_regular_bytes(path, MAX_YAML_BYTES, "sidecar")
    try:
        data = json.loads(text) if path.suffix == ".json" else load_yaml(text)
    except Exception as exc:  # any parser error means the same to the user
        raise FileFormatError(f"the sidecar {path} is not readable: {exc}") from None
    return layout_from_dict(data, str(path))


def write_sidecar(path: str | os.PathLike, layout: RawLayout) -> Path:
    """Write the sidecar of raw file `path` (JSON, sorted for stable bytes)."""
    target = sidecar_path(path)
    return write_text_atomic(target, json.dumps(layout.to_dict(), indent=2) + "\n")


def open_raw(
    path: str | os.PathLike,
    sidecar: str | os.PathLike | None = None,
    **settings: Any,
) -> BinaryReader:
    """A lazy reader for a raw file; settings (dtype=..., n_channels=...) override the sidecar."""
    path = Path(path)
    found = Path(sidecar) if sidecar else find_sidecar(path)
    data: dict[str, Any] = {}
    if found is not None:
        data = read_sidecar(found).to_dict()
    elif not settings:
        raise FileFormatError(
            f"{path} is a raw binary file with no sidecar describing it",
            f"Put a sidecar beside it ({sidecar_path(path).name}) with dtype, n_channels and "
            "order, or pass dtype=..., n_channels=... (see docs/data-layer.md).",
        )
    data.update({k: v for k, v in settings.items() if v is not None})
    layout = layout_from_dict(data, str(found or "raw-file settings"))
    return BinaryReader(
        path,
        layout.dtype,
        layout.n_channels,
        order=layout.order,
        offset=layout.offset,
        n_rows=layout.n_rows,
        names=layout.channel_names,
        units=layout.units,
        fs=layout.sampling_frequency,
    )


def write_raw(
    path: str | os.PathLike,
    array: np.ndarray,
    order: str = "samples",
    sampling_frequency: float | None = None,
    channel_names: list[str] | None = None,
    units: list[str] | None = None,
) -> Path:
    """Write a 2-D (rows, channels) array as a raw file plus its sidecar."""
    array = np.asarray(array)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    path = Path(path)
    data = array if order == "samples" else array.T
    np.ascontiguousarray(data).tofile(path)
    write_sidecar(
        path,
        RawLayout(
            dtype=array.dtype.str,
            n_channels=array.shape[1],
            order=order,
            n_rows=array.shape[0],
            sampling_frequency=sampling_frequency,
            channel_names=channel_names,
            units=units,
        ),
    )
    return path
