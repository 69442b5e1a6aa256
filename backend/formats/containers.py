"""Files that hold several arrays: npz, torch, pickle, joblib.

One array is picked by `key`; with no key the container must hold exactly
one numeric array (or, for npz, the bspysmg pair `inputs` + `outputs`, read
side by side like a recording). Ambiguity is an error that lists every
candidate and its shape, never a silent "first one found".

Pickle-based content (pickle, joblib, an npz member of object dtype) can run
code when loaded, so it is read only with `trust_pickle=True`.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from backend.errors import FileFormatError
from backend.readers import ArrayReader

PICKLE_HINT = (
    "Unpickling can run code hidden in the file. Only for a file you trust, pass "
    "trust_pickle=True (samplelab: --trust-pickle)."
)


def _shape(value: Any) -> tuple:
    return tuple(getattr(value, "shape", ()) or ())


def _as_numpy(value: Any) -> Any:
    if type(value).__module__.startswith("torch"):
        return value.detach().cpu().numpy()
    return value


def candidates(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Array-like leaves of nested mappings/sequences, by '/'-joined key."""
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(candidates(v, f"{prefix}{k}/"))
        return out
    if (
        isinstance(obj, (list, tuple))
        and obj
        and not all(isinstance(v, (int, float, list, tuple)) for v in obj)
    ):
        out = {}
        for i, v in enumerate(obj):
            out.update(candidates(v, f"{prefix}{i}/"))
        return out
    if (hasattr(obj, "shape") and hasattr(obj, "dtype")) or isinstance(obj, (list, tuple)):
        return {prefix.rstrip("/"): obj}
    return {}


def _listing(items: dict[str, Any]) -> str:
    return ", ".join(f"{k or '(top level)'} {_shape(v)}" for k, v in items.items()) or "none"


def pick_array(
    obj: Any, key: str | int | None, where: str, columns: Any = None
) -> tuple[np.ndarray, list[str] | None]:
    """(array, column names or None) chosen from a loaded object."""
    if key is not None:
        obj = _lookup(obj, key, where)
    if hasattr(obj, "to_numpy") and hasattr(obj, "columns"):  # a DataFrame
        names = [str(c) for c in obj.columns]
        if columns is not None:
            obj = obj[list(columns)]
            names = [str(c) for c in obj.columns]
        return np.asarray(obj.to_numpy()), names
    items = {k: v for k, v in candidates(obj).items()}
    if not items:
        raise FileFormatError(f"{where} holds no array ({type(obj).__name__})")
    if len(items) > 1:
        raise FileFormatError(
            f"{where} holds {len(items)} arrays; say which one to read (key=...)",
            f"Candidates: {_listing(items)}.",
        )
    (value,) = items.values()
    try:
        array = np.asarray(_as_numpy(value))
    except (ValueError, TypeError) as exc:
        raise FileFormatError(f"{where} is not a rectangular array of numbers ({exc})") from None
    return array, None


def _lookup(obj: Any, key: str | int, where: str) -> Any:
    if isinstance(obj, Mapping) and key in obj:
        return obj[key]
    if isinstance(obj, (list, tuple)) and isinstance(key, int) and -len(obj) <= key < len(obj):
        return obj[key]
    flat = candidates(obj)
    if str(key) in flat:
        return flat[str(key)]
    raise FileFormatError(f"{where} has no entry {key!r}", f"Candidates: {_listing(flat)}.")


def load_pickle(path: str | os.PathLike, trust_pickle: bool, joblib: bool = False) -> Any:
    """Unpickle (or joblib.load) a file the user trusts; refuse otherwise."""
    if not trust_pickle:
        raise FileFormatError(f"{path} is a pickle file and was not loaded", PICKLE_HINT)
    try:
        if joblib:
            try:
                import joblib as jl
            except ImportError:
                raise FileFormatError(
                    "reading joblib files needs the joblib package", "pip install joblib"
                ) from None
            return jl.load(path)
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except FileFormatError:
        raise
    except Exception as exc:  # anything a damaged pickle raises
        raise FileFormatError(f"{path} is not a readable pickle ({type(exc).__name__})") from None


# --- npz ----------------------------------------------------------------------
def npz_members(path: str | os.PathLike) -> list[dict]:
    """key, shape, dtype of every member, from the .npy headers (nothing unpickled)."""
    out = []
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    shape, _, dtype = _npy_header(fh, version)
                out.append(
                    {
                        "key": info.filename[:-4],
                        "shape": list(shape),
                        "dtype": str(dtype),
                        "usable": dtype.kind in "biuf" and len(shape) in (1, 2),
                    }
                )
    except Exception as exc:  # zipfile and numpy's header parser raise many kinds
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None
    return out


def _npy_header(fh: Any, version: tuple[int, int]) -> tuple:
    fmt = np.lib.format
    if version == (1, 0):
        return fmt.read_array_header_1_0(fh, max_header_size=100_000)
    if version == (2, 0):
        return fmt.read_array_header_2_0(fh, max_header_size=100_000)
    return fmt._read_array_header(fh, version, max_header_size=100_000)


def open_npz(
    path: str | os.PathLike,
    key: str | int | None = None,
    trust_pickle: bool = False,
) -> ArrayReader:
    """A reader over one npz member, or over inputs|outputs of a bspysmg npz."""
    path = Path(path)
    members = npz_members(path)
    by_key = {m["key"]: m for m in members}
    if key is None and {"inputs", "outputs"} <= set(by_key):
        from backend.formats.peerfiles import open_peer_npz

        return open_peer_npz(path, trust_pickle=trust_pickle)
    if key is None:
        usable = [m for m in members if m["usable"]]
        if len(usable) != 1:
            from backend.formats.hdf5files import describe_candidates

            raise FileFormatError(
                f"{path} holds {len(usable)} numeric arrays; say which one to read (key=...)",
                f"Members: {describe_candidates(members)}.",
            )
        key = usable[0]["key"]
    name = str(key)
    if name not in by_key:
        from backend.formats.hdf5files import describe_candidates

        raise FileFormatError(
            f"{path} has no member {name!r}", f"Members: {describe_candidates(members)}."
        )
    pickled = by_key[name]["dtype"] == "object"
    if pickled and not trust_pickle:
        raise FileFormatError(f"{path}: member {name!r} is pickled and was not loaded", PICKLE_HINT)
    try:
        with np.load(path, allow_pickle=pickled) as data:
            value = data[name]
    except Exception as exc:  # damaged member
        raise FileFormatError(f"{path}: member {name!r} is unreadable ({exc})") from None
    if pickled:
        value, _ = pick_array(value.item() if value.ndim == 0 else value, None, f"{path}:{name}")
    return ArrayReader(value, path=path, kind="npz")
