"""Reading `.npz` files (bspysmg's datasets and any other) without trusting pickle.

The peer's npz holds its config as a pickled object, and unpickling a file
from someone else can run arbitrary code. Hence:

- numeric members are read with `allow_pickle=False`, always; stored
  (uncompressed) members are memory-mapped straight out of the zip;
- pickled content (the peer's `sampling_configs`, object members) is read
  only with `trust_pickle=True` (`backend.data.formats.trust.require_trust`);
- files we write also carry `sampling_configs_json`, read without pickle.

`NpzReader` is the one npz reader of the data layer and the streams: members
side by side as columns (a bspysmg npz reads as inputs then outputs).
Writing lives in `backend.data.formats.npz_write`.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npformat

from backend.channels import ChannelLayout
from backend.data.formats.npz_write import JSON_CONFIG_KEY, PEER_CONFIG_KEY, config_from_json
from backend.data.formats.trust import UntrustedPickleError, require_trust
from backend.data.reader import Reader, as_table
from backend.errors import FileFormatError
from backend.files import check_regular, open_regular

ARRAY_KEYS = ("inputs", "outputs")
__all__ = ["UntrustedPickleError"]  # re-exported: callers catch it from here


#: Damage inside a zip member surfaces as any of these (bad CRC, cut deflate stream, a
#: flipped compression method: NotImplementedError, a flipped encryption bit: RuntimeError).
_MEMBER_ERRORS = (
    ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error, NotImplementedError,
    RuntimeError,
)  # fmt: skip
#: Text of a JSON config member; ours are a few KB.
MAX_JSON_CONFIG_CHARS = 1 << 20


def _open_zip(path: Path) -> zipfile.ZipFile:
    fh = open_regular(path, "npz file")
    try:
        return zipfile.ZipFile(fh)
    except _MEMBER_ERRORS as exc:
        fh.close()
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None


def _checked_header(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str
) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran, dtype, data offset) of a member whose size matches its header.

    A header claiming more rows than the member holds would make a memory map
    fail ("mmap length is greater than file size") or a load allocate for data
    that is not there; it is refused here, before either.
    """
    try:
        with zf.open(info) as fh:
            shape, fortran, dtype = read_npy_header(fh, where)
            data_at = fh.tell()
    except FileFormatError:
        raise
    except _MEMBER_ERRORS as exc:
        raise FileFormatError(f"{where} is damaged ({exc})") from None
    if not dtype.hasobject:
        expected = data_at + int(np.prod(shape, dtype=object)) * dtype.itemsize
        if expected != info.file_size:
            raise FileFormatError(
                f"{where} is damaged: its header says {dtype} {shape} "
                f"({expected - data_at:,} bytes) but it holds {info.file_size - data_at:,} bytes",
                "The file was cut off or altered; copy or export it again.",
            )
    return shape, fortran, dtype, data_at


def npz_keys(path: str | os.PathLike) -> list[str]:
    """The array names in an npz, in file order."""
    with _open_zip(Path(path)) as zf:
        return [n[:-4] for n in zf.namelist() if n.endswith(".npy")]


def read_npy_header(fh: Any, where: str = "the array") -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of an `.npy` stream, leaving `fh` at the data."""
    try:
        version = npformat.read_magic(fh)
        if version == (1, 0):
            return npformat.read_array_header_1_0(fh, max_header_size=100_000)
        if version == (2, 0):
            return npformat.read_array_header_2_0(fh, max_header_size=100_000)
    except Exception as exc:  # numpy's header parser raises ValueError, TokenError, ...
        raise FileFormatError(f"{where} is not a readable .npy array ({exc})") from None
    raise FileFormatError(f"{where} uses .npy format {version}, which is not supported")


def _member(zf: zipfile.ZipFile, path: Path, key: str) -> Any:
    try:
        return zf.open(key + ".npy")
    except _MEMBER_ERRORS as exc:
        raise FileFormatError(f"{path}: member {key!r} is damaged ({exc})") from None
    except KeyError:
        have = ", ".join(n[:-4] for n in zf.namelist()) or "nothing"
        raise FileFormatError(
            f"{path} has no {key!r} array (it holds {have})",
            "bspysmg datasets hold 'inputs', 'outputs' and 'sampling_configs'.",
        ) from None


def npz_array_info(path: str | os.PathLike, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of one member, from its header alone."""
    path = Path(path)
    with _open_zip(path) as zf, _member(zf, path, key) as fh:
        shape, _, dtype = read_npy_header(fh, f"{path}: member {key!r}")
    return shape, dtype


def npz_members(path: str | os.PathLike) -> list[dict]:
    """key, shape, dtype of every member, from the .npy headers (nothing unpickled)."""
    path = Path(path)
    out = []
    with _open_zip(path) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            where = f"{path}: member {info.filename[:-4]!r}"
            shape, _, dtype, _ = _checked_header(zf, info, where)
            usable = dtype.kind in "biuf" and len(shape) in (1, 2)
            out.append(
                {
                    "key": info.filename[:-4],
                    "shape": list(shape),
                    "dtype": str(dtype),
                    "usable": usable,
                }
            )
    return out


def iter_npz_rows(
    path: str | os.PathLike, key: str, rows: int = 1 << 17
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first_row, block) of a numeric member without loading it whole."""
    path = Path(path)
    with _open_zip(path) as zf, _member(zf, path, key) as fh:
        shape, fortran, dtype = read_npy_header(fh, f"{path}: member {key!r}")
        if dtype.hasobject:
            raise FileFormatError(f"{path}: {key!r} holds Python objects, not numbers")
        if fortran and len(shape) > 1:
            data = np.load(path, allow_pickle=False)[key]
            for start in range(0, shape[0], rows):
                yield start, np.ascontiguousarray(data[start : start + rows])
            return
        row_shape = shape[1:]
        row_bytes = dtype.itemsize * int(np.prod(row_shape, dtype=np.int64))
        total = shape[0] if shape else 1
        for start in range(0, total, rows):
            n = min(rows, total - start)
            raw = fh.read(n * row_bytes)
            if len(raw) != n * row_bytes:
                raise FileFormatError(f"{path}: {key!r} is truncated at row {start}")
            yield start, np.frombuffer(raw, dtype=dtype).reshape((n, *row_shape))


def npz_member_array(path: str | os.PathLike, key: str) -> np.ndarray:
    """One numeric member, memory-mapped inside the zip when stored, else loaded; no pickle."""
    path = Path(path)
    with _open_zip(path) as zf:
        info = zf.NameToInfo.get(f"{key}.npy")
        if info is not None:
            shape, fortran, dtype, data_at = _checked_header(zf, info, f"{path}: member {key!r}")
        stored = info is not None and info.compress_type == zipfile.ZIP_STORED
        if stored and dtype.kind in "biuf" and not fortran and int(np.prod(shape)) > 0:
            with open(path, "rb") as raw:  # skip the member's local zip header
                raw.seek(info.header_offset + 26)
                names = int.from_bytes(raw.read(2), "little")
                extra = int.from_bytes(raw.read(2), "little")
            start = info.header_offset + 30 + names + extra + data_at
            return np.memmap(path, dtype, "r", start, shape)
    with _load(path) as data:
        try:
            return data[key]
        except KeyError:
            raise FileFormatError(f"{path} has no {key!r} array") from None
        except _MEMBER_ERRORS as exc:  # an object member (refused without pickle), damage
            raise FileFormatError(f"{path}: member {key!r} is not plain numbers ({exc})") from None


def _numeric(path: Path, data: Any, key: str) -> np.ndarray:
    try:
        array = data[key]
    except KeyError:
        raise FileFormatError(
            f"{path} has no {key!r} array (it holds {', '.join(data.files) or 'nothing'})",
            "bspysmg datasets hold 'inputs', 'outputs' and 'sampling_configs'.",
        ) from None
    except _MEMBER_ERRORS as exc:  # an object array (refused without pickle), or damage
        what = "holds Python objects, not numbers" if "allow_pickle" in str(exc) else "is damaged"
        raise FileFormatError(f"{path}: {key!r} {what} ({exc})") from None
    if array.dtype.kind not in "biuf" or array.ndim != 2:
        raise FileFormatError(
            f"{path}: {key!r} is a {array.dtype} array of shape {array.shape}, "
            "expected a 2-D table of numbers (rows x channels)"
        )
    return array


def _load(path: Path) -> Any:
    check_regular(path, "npz file")
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileFormatError(f"{path} not found") from None
    except _MEMBER_ERRORS as exc:
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None


def read_npz_arrays(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, outputs) of a bspysmg-style npz, in memory; never unpickles anything."""
    path = Path(path)
    with _load(path) as data:
        inputs, outputs = _numeric(path, data, "inputs"), _numeric(path, data, "outputs")
    if len(inputs) != len(outputs):
        raise FileFormatError(
            f"{path}: {len(inputs)} input rows but {len(outputs)} output rows",
        )
    return inputs, outputs


def load_pickled_member(path: str | os.PathLike, key: str, trust_pickle: bool, message: str) -> Any:
    """An object member, unpickled: the only place an npz is ever unpickled."""
    require_trust(trust_pickle, message)
    try:
        with np.load(path, allow_pickle=True) as data:
            value = data[key]
    except Exception as exc:  # unpickling may raise anything
        raise FileFormatError(f"{path}: its pickled {key!r} cannot be read ({exc})") from None
    return value.item() if value.shape == () else value


def read_npz_config(path: str | os.PathLike, trust_pickle: bool = False) -> dict:
    """The sampling config: from our JSON key if present, else the peer's pickle (opt-in)."""
    path = Path(path)
    keys = npz_keys(path)
    if JSON_CONFIG_KEY in keys:
        return _checked_config(path, _json_config(path))
    if PEER_CONFIG_KEY not in keys:
        raise FileFormatError(
            f"{path} holds no sampling config (no {PEER_CONFIG_KEY!r})",
            "Only inputs/outputs can be read from it.",
        )
    config = load_pickled_member(
        path,
        PEER_CONFIG_KEY,
        trust_pickle,
        f"{path} stores its sampling config as a Python pickle, and loading a pickle can run "
        "any code hidden in the file, so it was not loaded (its inputs/outputs can be read "
        "without that)",
    )
    if not isinstance(config, dict):
        raise FileFormatError(f"{path}: {PEER_CONFIG_KEY} is a {type(config).__name__}, not a dict")
    return _checked_config(path, config)


def _json_config(path: Path) -> dict:
    """Our JSON copy of the config: a text member, never unpickled, of bounded size."""
    shape, dtype = npz_array_info(path, JSON_CONFIG_KEY)
    if dtype.kind not in "US" or shape != ():
        raise FileFormatError(
            f"{path}: {JSON_CONFIG_KEY} is a {dtype} array of shape {shape}, not JSON text; "
            "it was not loaded (an object array is a pickle, which is never read here)",
            "Export the dataset again with samplelab, or read its inputs/outputs only.",
        )
    if dtype.itemsize > 4 * MAX_JSON_CONFIG_CHARS:
        raise FileFormatError(
            f"{path}: {JSON_CONFIG_KEY} is {dtype.itemsize:,} bytes; not a config"
        )
    with _load(path) as data:
        try:
            text = str(data[JSON_CONFIG_KEY])
        except _MEMBER_ERRORS as exc:
            raise FileFormatError(f"{path}: {JSON_CONFIG_KEY} is not readable ({exc})") from None
    try:
        return config_from_json(text)
    except (ValueError, TypeError, RecursionError) as exc:
        raise FileFormatError(f"{path}: {JSON_CONFIG_KEY} is not valid JSON ({exc})") from None


def _checked_config(path: Path, config: dict) -> dict:
    """A stored config whose sections are what every reader of it indexes into.

    Wrong types (`"driver": 5`) would surface far away as a TypeError; here
    they are one message naming the key.
    """
    from backend.config.limits import shape_problems

    problems = [str(p) for p in shape_problems(config)]
    for key in ("driver", "input_data", "electrode_info"):
        if key in config and not isinstance(config[key], dict):
            problems.append(f"{key} is a {type(config[key]).__name__}, not a section (mapping)")
    driver = config.get("driver")
    if isinstance(driver, dict):
        setup = driver.get("instruments_setup")
        if setup is not None and not isinstance(setup, dict):
            problems.append("driver.instruments_setup is not a section (mapping)")
        amp = driver.get("amplification")
        try:
            values = np.asarray(amp if amp is not None else [], dtype=np.float64)
        except (TypeError, ValueError):
            values = None
        if values is None or values.ndim > 1:
            problems.append(f"driver.amplification is {amp!r:.60}, not a number or list of numbers")
    if problems:
        raise FileFormatError(
            f"{path}: its stored sampling config is malformed: {'; '.join(problems[:5])}",
            "The file was altered or written by another tool; its inputs/outputs may still "
            "be read, without the config.",
        )
    return config


@dataclass
class NpzDataset:
    """A bspysmg dataset in memory: arrays, config (or None), and where the config came from."""

    path: Path
    inputs: np.ndarray
    outputs: np.ndarray
    sampling_configs: dict | None
    config_source: str  # "json", "pickle" or "" (not read)

    @property
    def electrode_info(self) -> dict | None:
        return (self.sampling_configs or {}).get("electrode_info")

    @property
    def amplification(self) -> np.ndarray | None:
        try:
            return np.asarray(self.sampling_configs["driver"]["amplification"], dtype=float)
        except (KeyError, TypeError):
            return None


def load_npz(
    path: str | os.PathLike, trust_pickle: bool = False, need_config: bool = True
) -> NpzDataset:
    """Arrays and config of a bspysmg-style npz, under the trust rule above.

    With `need_config=False` a file whose config is an untrusted pickle still
    loads, with `sampling_configs=None`.
    """
    path = Path(path)
    npz_members(path)  # every member's size checked against its header first
    inputs, outputs = read_npz_arrays(path)
    source = "json" if JSON_CONFIG_KEY in npz_keys(path) else "pickle"
    try:
        config: dict | None = read_npz_config(path, trust_pickle)
    except FileFormatError:
        if need_config:
            raise
        config, source = None, ""
    return NpzDataset(path, inputs, outputs, config, source)


# --- the reader -------------------------------------------------------------------------


class NpzReader(Reader):
    """Members of an npz side by side as columns; memory-mapped pieces stay lazy."""

    kind = "npz"
    columns_read_alone = True

    def __init__(
        self,
        path: Path,
        pieces: Sequence[np.ndarray],
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        fs: float | None = None,
        kind: str = "npz",
    ) -> None:
        if len({len(p) for p in pieces}) != 1:
            raise FileFormatError(f"{path}: the members to read side by side differ in length")
        self.pieces = list(pieces)
        self._widths = [p.shape[1] for p in self.pieces]
        width = sum(self._widths)
        names = list(names) if names else [f"ch{i}" for i in range(width)]
        units = list(units) if units else None
        if len(names) != width or (units is not None and len(units) != width):
            raise FileFormatError(f"{path}: give one name and one unit per channel ({width})")
        dtype = np.result_type(*(p.dtype for p in self.pieces))
        super().__init__(len(self.pieces[0]), dtype, names, units, fs, path)
        self.kind = kind
        self.config: dict | None = None  # the bspysmg config, when read
        self.config_error: FileFormatError | None = None  # why it was not

    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        if len(self.pieces) == 1:
            block = np.asarray(self.pieces[0][start:stop], dtype=self.dtype)
            return block.copy() if len(cols) == block.shape[1] else block[:, cols]
        block = np.hstack([np.asarray(p[start:stop], dtype=self.dtype) for p in self.pieces])
        return block if len(cols) == block.shape[1] else block[:, cols]

    def read_column_groups(
        self, start: int, stop: int, widths: Sequence[int]
    ) -> tuple[np.ndarray, ...]:
        if not self._unselected() or list(widths) != self._widths:
            return super().read_column_groups(start, stop, widths)
        stop = min(int(stop), self.n_rows)
        start = max(0, min(int(start), stop))
        return tuple(np.array(p[start:stop], dtype=self.dtype) for p in self.pieces)

    def close(self) -> None:
        self.pieces = [p[:0] for p in self.pieces]  # drops the memory maps


def open_npz(
    path: str | os.PathLike,
    key: str | int | None = None,
    trust_pickle: bool = False,
    keys: Sequence[str] | None = None,
) -> Reader:
    """A reader over one member (`key`), several side by side (`keys`), or a bspysmg npz.

    Without either, a file holding `inputs` and `outputs` reads as the peer's
    table; any other file must hold exactly one numeric array.
    """
    from backend.data.formats.containers import pick_array, pick_member
    from backend.data.reader import ArrayReader

    path = Path(path)
    members = npz_members(path)
    by_key = {m["key"]: m for m in members}
    if key is None and keys is None and set(ARRAY_KEYS) <= set(by_key):
        return open_peer_npz(path, trust_pickle)
    side_by_side = ", or which to read side by side (keys=[...])"
    if keys is None:
        keys = [pick_member(path, members, key, "member", "Members", also=side_by_side)]
    for name in keys:
        pick_member(path, members, name, "member", "Members")
    if len(keys) == 1 and by_key[keys[0]]["dtype"] == "object":
        value = load_pickled_member(
            path, keys[0], trust_pickle, f"{path}: member {keys[0]!r} is pickled and was not loaded"
        )
        array, _ = pick_array(value, None, f"{path}:{keys[0]}")
        return ArrayReader(array, path=path, kind="npz")
    pieces = [as_table(npz_member_array(path, k), f"{path}:{k}") for k in keys]
    return NpzReader(path, pieces)


def open_peer_npz(path: str | os.PathLike, trust_pickle: bool = False) -> NpzReader:
    """inputs | outputs of a bspysmg npz; its config from JSON, or from the pickle with trust."""
    from backend.data.formats.bspysmg import config_facts, folder_config_dict

    path = Path(path)
    pieces = [as_table(npz_member_array(path, k), f"{path}:{k}") for k in ARRAY_KEYS]
    channels = ChannelLayout.peer(pieces[0].shape[1], pieces[1].shape[1])
    config, error = None, None
    try:
        config = read_npz_config(path, trust_pickle)
    except FileFormatError as exc:  # untrusted pickle, or no config: the arrays still read
        error = exc
    fs = config_facts(config)["fs"] or config_facts(folder_config_dict(path.parent))["fs"]
    reader = NpzReader(path, pieces, channels.names, channels.units, fs, kind="bspysmg-npz")
    reader.use_layout(channels)
    reader.config, reader.config_error = config, error
    if isinstance(error, UntrustedPickleError):
        reader.notes.append("sampling_configs is pickled and was not read (pass trust_pickle)")
    return reader
