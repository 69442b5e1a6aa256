"""Small random-access readers behind the file streams.

A file stream only needs a *table reader*: `n_rows`, `channel_names`, `units`,
`fs` (Hz or None), `read(start, stop) -> (rows, channels)` reading just those
rows, and `close()`; optionally `refresh() -> n_rows` and `live` for files that
are still growing. These are the names of the data layer's readers
(`backend.readers.Reader`), so any of those can stand in for the ones here;
these exist so the streams work on their own.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from backend.errors import FileFormatError, SamplelabError

#: Rows between two remembered line offsets of a text table.
TEXT_INDEX_EVERY = 4096
_SCAN_BYTES = 16 << 20


class TableReader(Protocol):
    n_rows: int
    channel_names: list[str]
    units: list[str]
    fs: float | None

    def read(self, start: int, stop: int) -> np.ndarray: ...

    def close(self) -> None: ...


def default_names(n: int) -> list[str]:
    return [f"ch{i}" for i in range(n)]


def _table(array: np.ndarray, order: str, where: str) -> np.ndarray:
    """A stored array as a (rows, channels) view; `order='channels'` = stored channel-major."""
    if array.dtype.kind not in "biuf":
        raise FileFormatError(f"{where} holds {array.dtype} values, not numbers")
    if array.ndim == 1:
        return array[:, None]
    if array.ndim != 2:
        raise FileFormatError(f"{where} holds a {array.ndim}-D array {array.shape}, not a table")
    if order not in ("samples", "channels"):
        raise FileFormatError(f"order must be 'samples' or 'channels', not {order!r}")
    return array.T if order == "channels" else array


class ArrayTableReader:
    """(rows, channels) arrays (often memmaps), side by side, as one table reader.

    Pieces are joined only for the rows read, so memory-mapped members stay lazy.
    """

    def __init__(
        self,
        table: np.ndarray | Sequence[np.ndarray],
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        fs: float | None = None,
    ) -> None:
        self.pieces = [table] if isinstance(table, np.ndarray) else list(table)
        if len({len(p) for p in self.pieces}) != 1:
            raise FileFormatError("the columns to read side by side have different lengths")
        width = sum(p.shape[1] for p in self.pieces)
        self.channel_names = list(names) if names else default_names(width)
        self.units = list(units) if units else [""] * width
        if len(self.channel_names) != width or len(self.units) != width:
            raise FileFormatError(f"give one name and one unit per channel ({width})")
        self.fs = fs

    @property
    def n_rows(self) -> int:
        return int(self.pieces[0].shape[0])

    def read(self, start: int, stop: int) -> np.ndarray:
        parts = [np.asarray(p[start:stop], dtype=np.float64) for p in self.pieces]
        return parts[0].copy() if len(parts) == 1 else np.hstack(parts)

    def close(self) -> None:
        self.pieces = [p[:0] for p in self.pieces]


def folder_config(folder: Path) -> Any:
    """The valid sampler_configs.json of a bspysmg folder, or None."""
    path = folder / "sampler_configs.json"
    if not path.is_file():
        return None
    from backend.config import load_config

    try:
        return load_config(path)
    except SamplelabError:
        return None  # a broken config still leaves the numbers readable


def npy_reader(path: str | os.PathLike, order: str = "samples", **meta: Any) -> ArrayTableReader:
    """A `.npy` file, memory-mapped: only the rows read are ever loaded."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"{path} is not a readable .npy file ({exc})") from None
    return ArrayTableReader(_table(array, order, str(path)), **meta)


def npz_reader(
    path: str | os.PathLike, keys: Sequence[str] | None = None, **meta: Any
) -> ArrayTableReader:
    """Members of an `.npz`, side by side as columns; never unpickles.

    Default keys: `inputs` then `outputs` (bspysmg's postprocessed files), else
    the only numeric member. Stored (uncompressed) members are memory-mapped
    straight out of the zip; compressed ones are loaded whole.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            members = list(z.files)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None
    guessed = keys is None and not {"inputs", "outputs"} <= set(members)
    if keys is None:
        keys = members if guessed else ["inputs", "outputs"]
    missing = [k for k in keys if k not in members]
    if missing:
        raise FileFormatError(f"{path} has no member {missing[0]!r}", f"Members: {members}.")
    if guessed and len(keys) != 1:
        raise FileFormatError(
            f"{path} holds {len(keys)} arrays; say which to read (keys=[...])",
            f"Members: {members}.",
        )
    columns = [_npz_member(path, k) for k in keys]
    if "names" not in meta and list(keys) == ["inputs", "outputs"]:
        n_in, n_out = columns[0].shape[1], columns[1].shape[1]
        meta["names"] = [f"Input {i}" for i in range(n_in)] + [f"Output {i}" for i in range(n_out)]
        meta.setdefault("units", ["V"] * n_in + ["nA"] * n_out)
    if meta.get("fs") is None:  # bspysmg keeps the rate in the folder's config
        config = folder_config(path.parent)
        meta["fs"] = config.fs if config is not None else None
    return ArrayTableReader(columns, **meta)


def _npz_member(path: Path, key: str) -> np.ndarray:
    with zipfile.ZipFile(path) as zf:
        info = zf.NameToInfo.get(f"{key}.npy")
        if info is not None and info.compress_type == zipfile.ZIP_STORED:
            with zf.open(info) as fh:
                header = _npy_header(fh)
            if header is not None:
                shape, fortran, dtype, data_at = header
                if dtype.kind in "biuf" and not fortran and int(np.prod(shape)) > 0:
                    with open(path, "rb") as raw:  # skip the member's local zip header
                        raw.seek(info.header_offset + 26)
                        names = int.from_bytes(raw.read(2), "little")
                        extra = int.from_bytes(raw.read(2), "little")
                    start = info.header_offset + 30 + names + extra + data_at
                    return _table(np.memmap(path, dtype, "r", start, shape), "samples", key)
    with np.load(path, allow_pickle=False) as z:
        try:
            return _table(z[key], "samples", f"{path}:{key}")
        except ValueError as exc:  # a pickled member
            raise FileFormatError(f"{path}: member {key!r} is not plain numbers ({exc})") from None


def _npy_header(fh: Any) -> tuple | None:
    """(shape, fortran_order, dtype, data offset) of an .npy stream; None if unusual."""
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(fh)
    else:
        return None
    return shape, fortran, dtype, fh.tell()


def raw_reader(
    path: str | os.PathLike, sidecar: str | os.PathLike | None = None
) -> ArrayTableReader:
    """A raw binary file described by a JSON/YAML sidecar (keys as docs/data-layer.md).

    Required: `dtype`, `n_channels` (alias `channels`); optional `order`
    (`samples` | `channels`), `offset` (bytes), `sampling_frequency` (alias
    `fs`), `channel_names`, `units`.
    """
    path = Path(path)
    side = Path(sidecar) if sidecar else find_sidecar(path)
    if side is None:
        raise FileFormatError(
            f"{path} has no sidecar describing it",
            f"Write {path.name}.json with at least dtype and n_channels.",
        )
    spec = _load_mapping(side)
    try:
        dtype = np.dtype(spec["dtype"])
        channels = int(spec.get("n_channels", spec.get("channels")))
        order = spec.get("order", "samples")
        offset = int(spec.get("offset", 0))
        if channels < 1 or dtype.kind not in "biuf" or order not in ("samples", "channels"):
            raise ValueError("n_channels >= 1, a numeric dtype and a known order are needed")
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(
            f"the sidecar {side} is incomplete or wrong ({exc})",
            "It needs dtype (e.g. '<f8') and n_channels; order is samples or channels.",
        ) from None
    data_bytes = path.stat().st_size - offset
    rows, partial = divmod(max(0, data_bytes), dtype.itemsize * channels)
    if partial and order == "channels":
        raise FileFormatError(f"{path}: size is not a whole number of {channels}-channel rows")
    shape = (channels, rows) if order == "channels" else (rows, channels)
    array = np.memmap(path, dtype, "r", offset, shape) if rows else np.empty(shape, dtype)
    fs = spec.get("sampling_frequency", spec.get("fs"))
    return ArrayTableReader(
        _table(array, order, str(path)),
        names=spec.get("channel_names"),
        units=spec.get("units"),
        fs=None if fs is None else float(fs),
    )


def find_sidecar(path: Path) -> Path | None:
    for suffix in (".json", ".yaml", ".yml"):
        for candidate in (path.with_name(path.name + suffix), path.with_suffix(suffix)):
            if candidate != path and candidate.is_file():
                return candidate
    return None


def _load_mapping(path: Path) -> dict:
    import json

    from backend.config.yamlsafe import load_yaml

    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else load_yaml(text)
    except Exception as exc:  # any parser error means the same to the user
        raise FileFormatError(f"the sidecar {path} is not readable ({exc})") from None
    if not isinstance(data, dict):
        raise FileFormatError(f"the sidecar {path} does not hold a mapping")
    return data


class IodatReader:
    """bspysmg's `IO.dat` (a folder holding it, or the file): rows parsed only when read.

    One pass remembers where every TEXT_INDEX_EVERY-th row starts, so any
    window is found by a seek and a short parse. The sampling rate, and which
    columns are inputs (V) and outputs (nA), come from the folder's
    `sampler_configs.json` when it is there and valid.
    """

    def __init__(self, path: str | os.PathLike, fs: float | None = None) -> None:
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        self.path = path / "IO.dat" if path.is_dir() else path
        if not self.path.is_file():
            raise FileFormatError(f"no IO.dat at {self.path}")
        with open(self.path, "rb") as fh:
            header = fh.readline()
            if not header.startswith(b"#"):
                fh.seek(0)
                header = b""
            first = fh.readline()
            self._offsets, self.n_rows, self._end = _line_index(fh, fh.tell() - len(first))
        names = [n.strip() for n in header[1:].decode("utf-8", "replace").split(",") if n.strip()]
        self.channel_names = names or default_names(len(first.split()))
        if not self.channel_names:
            raise FileFormatError(f"{self.path} holds no header and no data rows")
        n_in = sum(n.startswith("Input") for n in self.channel_names)
        config = folder_config(folder)
        self.fs = fs or (config.fs if config is not None else None)
        n_in = config.n_inputs if config is not None else n_in
        self.units = ["V"] * n_in + ["nA"] * (len(self.channel_names) - n_in)

    def read(self, start: int, stop: int) -> np.ndarray:
        stop, start = min(stop, self.n_rows), max(0, start)
        width = len(self.channel_names)
        if stop <= start:
            return np.empty((0, width))
        k0, k1 = start // TEXT_INDEX_EVERY, -(-stop // TEXT_INDEX_EVERY)
        lo = int(self._offsets[k0])
        hi = int(self._offsets[k1]) if k1 < len(self._offsets) else self._end
        with open(self.path, "rb") as fh:
            fh.seek(lo)
            lines = fh.read(hi - lo).splitlines()
        skip = start - k0 * TEXT_INDEX_EVERY
        try:
            data = np.loadtxt(lines[skip : skip + stop - start], ndmin=2, dtype=np.float64)
        except ValueError as exc:
            raise FileFormatError(
                f"{self.path}: rows {start}..{stop} are not numbers ({exc})"
            ) from None
        if data.shape != (stop - start, width):
            raise FileFormatError(f"{self.path}: rows {start}..{stop} do not have {width} values")
        return data

    def close(self) -> None:
        """Nothing stays open between reads."""


def _line_index(fh: Any, start: int) -> tuple[np.ndarray, int, int]:
    """(offsets of every TEXT_INDEX_EVERY-th line, number of lines, end offset), one pass."""
    marks: list[int] = []
    rows, pos, after_newline = 0, start, True
    fh.seek(start)
    while block := fh.read(_SCAN_BYTES):
        ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
        starts = ends + 1
        if after_newline:
            starts = np.concatenate([[0], starts])
        starts = starts[starts < len(block)]
        pick = (rows + np.arange(len(starts))) % TEXT_INDEX_EVERY == 0
        marks.extend((pos + starts[pick]).tolist())
        rows += len(starts)
        pos += len(block)
        after_newline = block.endswith(b"\n")
    return np.asarray(marks, dtype=np.int64), rows, pos


class RecordingReader:
    """A samplelab recording: input columns (V) then output columns (nA), complete batches.

    `part` = 'all', 'inputs' or 'outputs' reads only the datasets needed.
    `refresh()` picks up batches a live writer added; `live` says it may grow.
    """

    def __init__(self, path: str | os.PathLike, part: str = "all") -> None:
        from backend.recording import Recording

        if part not in ("all", "inputs", "outputs"):
            raise ValueError(f"part must be 'all', 'inputs' or 'outputs', not {part!r}")
        self.recording = rec = Recording(path)
        self.part = part
        self._sets = {"all": [rec.inputs, rec.outputs], "inputs": [rec.inputs]}.get(
            part, [rec.outputs]
        )
        pick = {"all": slice(None), "inputs": slice(0, len(rec.input_names))}.get(
            part, slice(len(rec.input_names), None)
        )
        self.channel_names, self.units = rec.channel_names[pick], rec.units[pick]
        self.fs = rec.fs

    @property
    def n_rows(self) -> int:
        return self.recording.n_rows

    @property
    def live(self) -> bool:
        return self.recording.status == "running"

    def refresh(self) -> int:
        return self.recording.refresh()

    def read(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, self.n_rows)
        start = max(0, min(start, stop))
        parts = [ds[start:stop] for ds in self._sets]
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    def close(self) -> None:
        self.recording.close()
