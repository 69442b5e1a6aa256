"""bspysmg's `.npz` datasets: write them in chunks, read them without trusting pickle.

The peer saves `postprocessed_data.npz` (and `charging_signal.npz`,
`reference_batch.npz`) with `np.savez(inputs=..., outputs=..., sampling_configs=dict)`:
the config dict is stored as a *pickled* 0-d object array, and unpickling a
file from someone else can run arbitrary code. Hence:

- `inputs`/`outputs` are read with `allow_pickle=False`, always.
- The pickled `sampling_configs` is read only with `trust_pickle=True`;
  otherwise `UntrustedPickleError` says why and how to opt in.
- Files we write carry the same three keys (the peer's loaders read exactly
  `inputs`, `outputs`, `sampling_configs` and ignore other keys) plus
  `sampling_configs_json`: the same dict as JSON, numpy arrays tagged with
  their dtype, so our own tools never need pickle.

An npz is a zip of `.npy` files; `NpzWriter` streams a big array into its
member (header with the final shape, then rows), so writing needs no more
memory than one chunk.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npformat

from backend.errors import FileFormatError

ARRAY_KEYS = ("inputs", "outputs")
PEER_CONFIG_KEY = "sampling_configs"
JSON_CONFIG_KEY = "sampling_configs_json"
_TAG = "__ndarray__"


class UntrustedPickleError(FileFormatError):
    """The file's config is a Python pickle and the caller did not opt in to trust it."""


# --- the config as JSON -------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Plain JSON values; numpy arrays become dicts tagged with dtype and shape."""
    if isinstance(value, np.ndarray):
        return {_TAG: value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _restore(obj: dict) -> Any:
    if _TAG in obj and "dtype" in obj:
        return np.array(obj[_TAG], dtype=np.dtype(obj["dtype"])).reshape(obj.get("shape", -1))
    return obj


def config_to_json(config: dict) -> str:
    """JSON of a config dict; numpy arrays become `{"__ndarray__", "dtype", "shape"}`."""
    return json.dumps(jsonable(config))


def config_from_json(text: str) -> dict:
    """Inverse of `config_to_json`: tagged arrays come back with their dtype and shape."""
    data = json.loads(text, object_hook=_restore)
    if not isinstance(data, dict):
        raise ValueError("the JSON config is not a mapping")
    return data


# --- writing ------------------------------------------------------------------------


def _write_header(fh: Any, header: dict) -> None:
    try:
        npformat.write_array_header_1_0(fh, header)
    except ValueError:  # header too long for format 1.0 (very many dimensions/fields)
        npformat.write_array_header_2_0(fh, header)


class RowsMember:
    """One `.npy` member being streamed: header first (final shape), then row blocks.

    Closing checks that exactly the announced rows were written; a mismatch
    raises and the caller discards the file.
    """

    def __init__(self, zf: zipfile.ZipFile, key: str, shape: tuple[int, ...], dtype: Any) -> None:
        self.key = key
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(s) for s in shape)
        self.written = 0
        self._fh = zf.open(key + ".npy", "w", force_zip64=True)
        _write_header(
            self._fh,
            {
                "descr": npformat.dtype_to_descr(self.dtype),
                "fortran_order": False,
                "shape": self.shape,
            },
        )

    def write(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype)
        if block.shape[1:] != self.shape[1:]:
            raise ValueError(f"{self.key}: block of shape {block.shape} for array {self.shape}")
        if self.written + len(block) > self.shape[0]:
            raise ValueError(f"{self.key}: more than the {self.shape[0]} rows announced")
        if block.size:
            self._fh.write(memoryview(block).cast("B"))
        self.written += len(block)

    def close(self) -> None:
        if self._fh.closed:
            return
        self._fh.close()
        if self.written != self.shape[0]:
            raise ValueError(
                f"{self.key}: {self.written} rows written but {self.shape[0]} announced"
            )

    def __enter__(self) -> RowsMember:
        return self

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self._fh.close()


class NpzWriter:
    """Writes an `.npz` one member at a time, as `np.savez` lays it out (stored, zip64)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_STORED, allowZip64=True)

    def write_array(self, key: str, array: Any, allow_pickle: bool = False) -> None:
        """One whole array, through numpy's own writer (objects only if allowed)."""
        with self._zip.open(key + ".npy", "w", force_zip64=True) as fh:
            npformat.write_array(fh, np.asanyarray(array), allow_pickle=allow_pickle)

    def open_rows(self, key: str, shape: tuple[int, ...], dtype: Any = np.float64) -> RowsMember:
        """A member to stream row blocks into; its header already says the final `shape`."""
        return RowsMember(self._zip, key, shape, dtype)

    def write_rows(
        self,
        key: str,
        shape: tuple[int, ...],
        chunks: Iterable[np.ndarray],
        dtype: Any = np.float64,
    ) -> int:
        """Stream row blocks into one C-order array of the final `shape`; returns rows."""
        with self.open_rows(key, shape, dtype) as member:
            for block in chunks:
                member.write(block)
        return member.written

    def write_config(self, config: dict) -> None:
        """The peer's pickled `sampling_configs` plus our `sampling_configs_json`."""
        self.write_array(PEER_CONFIG_KEY, np.array(config, dtype=object), allow_pickle=True)
        self.write_array(JSON_CONFIG_KEY, np.array(config_to_json(config)))

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> NpzWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def write_npz(
    path: str | os.PathLike, inputs: np.ndarray, outputs: np.ndarray, config: dict | None
) -> Path:
    """A peer-compatible npz from arrays in memory; written to a temp name, then renamed."""
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    try:
        with NpzWriter(tmp) as npz:
            npz.write_array("inputs", np.asarray(inputs, dtype=np.float64))
            npz.write_array("outputs", np.asarray(outputs, dtype=np.float64))
            if config is not None:
                npz.write_config(config)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# --- reading ------------------------------------------------------------------------


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise FileFormatError(f"{path} not found") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None


def npz_keys(path: str | os.PathLike) -> list[str]:
    """The array names in an npz, in file order."""
    with _open_zip(Path(path)) as zf:
        return [n[:-4] for n in zf.namelist() if n.endswith(".npy")]


def _read_header(fh: Any, path: Path, key: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = npformat.read_magic(fh)
        if version == (1, 0):
            return npformat.read_array_header_1_0(fh)
        if version == (2, 0):
            return npformat.read_array_header_2_0(fh)
    except ValueError as exc:
        raise FileFormatError(f"{path}: member {key!r} is not a .npy array ({exc})") from None
    raise FileFormatError(f"{path}: member {key!r} uses .npy format {version}, not supported")


def npz_array_info(path: str | os.PathLike, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of one member, from its header alone."""
    path = Path(path)
    with _open_zip(path) as zf, _member(zf, path, key) as fh:
        shape, _, dtype = _read_header(fh, path, key)
    return shape, dtype


def _member(zf: zipfile.ZipFile, path: Path, key: str) -> Any:
    try:
        return zf.open(key + ".npy")
    except KeyError:
        have = ", ".join(n[:-4] for n in zf.namelist()) or "nothing"
        raise FileFormatError(
            f"{path} has no {key!r} array (it holds {have})",
            "bspysmg datasets hold 'inputs', 'outputs' and 'sampling_configs'.",
        ) from None


def iter_npz_rows(
    path: str | os.PathLike, key: str, rows: int = 1 << 17
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first_row, block) of a numeric member without loading it whole."""
    path = Path(path)
    with _open_zip(path) as zf, _member(zf, path, key) as fh:
        shape, fortran, dtype = _read_header(fh, path, key)
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


def _numeric(path: Path, data: Any, key: str) -> np.ndarray:
    try:
        array = data[key]
    except KeyError:
        raise FileFormatError(
            f"{path} has no {key!r} array (it holds {', '.join(data.files) or 'nothing'})",
            "bspysmg datasets hold 'inputs', 'outputs' and 'sampling_configs'.",
        ) from None
    except ValueError:  # an object array: numpy refuses it without allow_pickle
        raise FileFormatError(f"{path}: {key!r} holds Python objects, not numbers") from None
    if array.dtype.kind not in "biuf" or array.ndim != 2:
        raise FileFormatError(
            f"{path}: {key!r} is a {array.dtype} array of shape {array.shape}, "
            "expected a 2-D table of numbers (rows x channels)"
        )
    return array


def _load(path: Path) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileFormatError(f"{path} not found") from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None


def read_npz_arrays(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, outputs) of a bspysmg-style npz; never unpickles anything."""
    path = Path(path)
    with _load(path) as data:
        inputs, outputs = _numeric(path, data, "inputs"), _numeric(path, data, "outputs")
    if len(inputs) != len(outputs):
        raise FileFormatError(
            f"{path}: {len(inputs)} input rows but {len(outputs)} output rows",
        )
    return inputs, outputs


def read_npz_config(path: str | os.PathLike, trust_pickle: bool = False) -> dict:
    """The sampling config: from our JSON key if present, else the peer's pickle (opt-in)."""
    path = Path(path)
    keys = npz_keys(path)
    if JSON_CONFIG_KEY in keys:
        with _load(path) as data:
            text = str(data[JSON_CONFIG_KEY])
        try:
            return config_from_json(text)
        except ValueError as exc:
            raise FileFormatError(f"{path}: {JSON_CONFIG_KEY} is not valid JSON ({exc})") from None
    if PEER_CONFIG_KEY not in keys:
        raise FileFormatError(
            f"{path} holds no sampling config (no {PEER_CONFIG_KEY!r})",
            "Only inputs/outputs can be read from it.",
        )
    if not trust_pickle:
        raise UntrustedPickleError(
            f"{path} stores its sampling config as a Python pickle, and loading a pickle can "
            "run any code hidden in the file, so it was not loaded",
            "If you trust where this file came from (e.g. your own bspysmg run), open it with "
            "--trust-pickle (API: trust_pickle=True). Its inputs/outputs can be read without that.",
        )
    try:
        with np.load(path, allow_pickle=True) as data:
            value = data[PEER_CONFIG_KEY]
            config = value.item() if value.shape == () else value
    except Exception as exc:  # unpickling may raise anything
        raise FileFormatError(
            f"{path}: its pickled {PEER_CONFIG_KEY} cannot be read ({exc})"
        ) from None
    if not isinstance(config, dict):
        raise FileFormatError(f"{path}: {PEER_CONFIG_KEY} is a {type(config).__name__}, not a dict")
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
    inputs, outputs = read_npz_arrays(path)
    source = "json" if JSON_CONFIG_KEY in npz_keys(path) else "pickle"
    try:
        config: dict | None = read_npz_config(path, trust_pickle)
    except FileFormatError:
        if need_config:
            raise
        config, source = None, ""
    return NpzDataset(path, inputs, outputs, config, source)
