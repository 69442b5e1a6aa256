"""Writing bspysmg's `.npz` datasets: streamed members, the peer's keys, a JSON config copy.

The peer saves `postprocessed_data.npz` (and `charging_signal.npz`,
`reference_batch.npz`) with `np.savez(inputs=..., outputs=..., sampling_configs=dict)`,
the config dict being a *pickled* 0-d object array. Files we write carry the
same three keys (the peer's loaders read exactly `inputs`, `outputs`,
`sampling_configs` and ignore other keys) plus `sampling_configs_json`: the
same dict as JSON, numpy arrays tagged with their dtype, so our own tools
never need pickle (reading: `backend.data.formats.npz`).

An npz is a zip of `.npy` files; `NpzWriter` streams a big array into its
member (header with the final shape, then rows), so writing needs no more
memory than one chunk, and the bytes of a member equal `np.save`'s.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npformat

from backend.files import replace_file

PEER_CONFIG_KEY = "sampling_configs"
JSON_CONFIG_KEY = "sampling_configs_json"
_TAG = "__ndarray__"


# --- the config as JSON -------------------------------------------------------------


def jsonable(value: Any, tag_arrays: bool = True) -> Any:
    """Plain JSON values; numpy arrays become dicts tagged with dtype and shape.

    With `tag_arrays=False` arrays become plain lists (for readers without our code).
    """
    if isinstance(value, np.ndarray):
        if not tag_arrays:
            return value.tolist()
        return {_TAG: value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): jsonable(v, tag_arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, tag_arrays) for v in value]
    return value


def _restore(obj: dict) -> Any:
    if _TAG in obj and "dtype" in obj:
        dtype = np.dtype(obj["dtype"])  # TypeError for a bad one; callers catch it
        if dtype.kind not in "biufc":
            raise ValueError(f"a tagged array of dtype {dtype} (numbers only)")
        return np.array(obj[_TAG], dtype=dtype).reshape(obj.get("shape", -1))
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

    def discard(self) -> None:
        """Stop writing without the row check (the file is being thrown away)."""
        self._fh.close()

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
        replace_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
