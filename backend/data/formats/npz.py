"""Reading `.npz` files (bspysmg's datasets and any other) without trusting pickle.

`NpzReader` is the one npz reader of the data layer and the streams: members
side by side as columns (a bspysmg npz reads as inputs then outputs);
`load_npz` loads a bspysmg dataset whole. Underneath:

- `backend.data.formats.npzfile`: the members, read with `allow_pickle=False`
  (headers checked, stored members memory-mapped); unpickling only with trust;
- `backend.data.formats.npz_config`: the stored sampling config (our JSON
  member, or the peer's pickle with `trust_pickle=True`);
- writing lives in `backend.data.formats.npz_write`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.channels import ChannelLayout
from backend.data.formats.containers import pick_array, pick_member
from backend.data.formats.npz_config import read_npz_config
from backend.data.formats.npz_write import JSON_CONFIG_KEY
from backend.data.formats.npzfile import (
    MEMBER_ERRORS,
    load_npz_file,
    load_pickled_member,
    npz_keys,
    npz_member_array,
    npz_members,
)
from backend.data.formats.trust import UntrustedPickleError
from backend.data.reader import ArrayReader, Reader, as_table
from backend.errors import FileFormatError

ARRAY_KEYS = ("inputs", "outputs")
__all__ = ["UntrustedPickleError"]  # re-exported: callers catch it from here


def _numeric(path: Path, data: Any, key: str) -> np.ndarray:
    try:
        array = data[key]
    except KeyError:
        raise FileFormatError(
            f"{path} has no {key!r} array (it holds {', '.join(data.files) or 'nothing'})",
            "bspysmg datasets hold 'inputs', 'outputs' and 'sampling_configs'.",
        ) from None
    except MEMBER_ERRORS as exc:  # an object array (refused without pickle), or damage
        what = "holds Python objects, not numbers" if "allow_pickle" in str(exc) else "is damaged"
        raise FileFormatError(f"{path}: {key!r} {what} ({exc})") from None
    if array.dtype.kind not in "biuf" or array.ndim != 2:
        raise FileFormatError(
            f"{path}: {key!r} is a {array.dtype} array of shape {array.shape}, "
            "expected a 2-D table of numbers (rows x channels)"
        )
    return array


def read_npz_arrays(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, outputs) of a bspysmg-style npz, in memory; never unpickles anything."""
    path = Path(path)
    with load_npz_file(path) as data:
        inputs, outputs = _numeric(path, data, "inputs"), _numeric(path, data, "outputs")
    if len(inputs) != len(outputs):
        raise FileFormatError(
            f"{path}: {len(inputs)} input rows but {len(outputs)} output rows",
        )
    return inputs, outputs


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
    verified: bool = False,
) -> Reader:
    """A reader over one member (`key`), several side by side (`keys`), or a bspysmg npz.

    Without either, a file holding `inputs` and `outputs` reads as the peer's
    table; any other file must hold exactly one numeric array. `verified`:
    each member's CRC-32 is checked first (`npz_member_array`).
    """
    path = Path(path)
    members = npz_members(path)
    by_key = {m["key"]: m for m in members}
    if key is None and keys is None and set(ARRAY_KEYS) <= set(by_key):
        return open_peer_npz(path, trust_pickle, verified)
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
    pieces = [as_table(npz_member_array(path, k, verified), f"{path}:{k}") for k in keys]
    return NpzReader(path, pieces)


def open_peer_npz(
    path: str | os.PathLike, trust_pickle: bool = False, verified: bool = False
) -> NpzReader:
    """inputs | outputs of a bspysmg npz; its config from JSON, or from the pickle with trust."""
    # h5py (via the recordings): on use, off the window's start-up path
    from backend.data.formats.bspysmg import config_facts, folder_config_dict

    path = Path(path)
    pieces = [as_table(npz_member_array(path, k, verified), f"{path}:{k}") for k in ARRAY_KEYS]
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
