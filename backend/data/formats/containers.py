"""Files that hold several arrays: picking one, and torch / pickle / joblib objects.

One array is picked by `key`; with no key the container must hold exactly
one numeric array. Ambiguity is an error that lists every candidate and its
shape, never a silent "first one found": `pick_member` for files that list
their arrays (HDF5, MATLAB, npz), `pick_array` for loaded Python objects.

Pickle-based files (pickle, joblib) can run code when loaded, so they are
read only with `trust_pickle=True` (`backend.data.formats.trust`).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from typing import Any

import numpy as np

from backend.data.formats.trust import require_trust
from backend.errors import FileFormatError


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


def describe_candidates(items: list[dict]) -> str:
    """`key (shape) dtype, ...` of listed members, for error hints."""
    return ", ".join(f"{d['key']} {tuple(d['shape'])} {d['dtype']}" for d in items) or "none"


def pick_member(
    path: Any, items: list[dict], key: Any, noun: str, label: str, also: str = ""
) -> str:
    """The member `key` names, or the only usable one; errors list the candidates.

    `items` are dicts with key, shape, dtype and usable (a numeric 1-D/2-D
    array); `noun` names them ("dataset", "variable", "member") and `label`
    heads the listing in the hint.
    """
    if key is not None:
        if str(key) not in {d["key"] for d in items}:
            raise FileFormatError(
                f"{path} has no {noun} {str(key)!r}", f"{label}: {describe_candidates(items)}."
            )
        return str(key)
    usable = [d for d in items if d["usable"]]
    if len(usable) == 1:
        return usable[0]["key"]
    if not usable:
        raise FileFormatError(
            f"{path} holds no numeric 1-D or 2-D {noun}", f"{label}: {describe_candidates(items)}."
        )
    raise FileFormatError(
        f"{path} holds {len(usable)} {noun}s; say which one to read (key=...){also}",
        f"Candidates: {describe_candidates(usable)}.",
    )


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
    require_trust(trust_pickle, f"{path} is a pickle file and was not loaded")
    try:
        if joblib:
            try:
                import joblib as jl  # optional: only trusted joblib files
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
