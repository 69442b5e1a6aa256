"""MATLAB .mat files: v4/v5 through scipy.io, v7.3 (HDF5 inside) through h5py.

A variable is picked by `key`; with no key the file must hold exactly one
numeric 1-D/2-D variable. Shapes are MATLAB's: an (n x m) matrix reads as n
rows and m channels in both versions (v7.3 stores it transposed; we undo that
lazily, without loading it).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from backend.data.formats.containers import pick_member
from backend.data.formats.hdf5files import HDF5Reader, is_hdf5, list_datasets
from backend.data.reader import ArrayReader, Reader
from backend.errors import FileFormatError
from backend.recording.h5shared import acquire

_MATLAB_CLASSES = {"double", "single", "int8", "int16", "int32", "int64", "uint8", "uint16",
                   "uint32", "uint64", "logical"}  # fmt: skip


def mat_version(path: str | os.PathLike) -> str:
    """'7.3' (HDF5), '5' or '4' (no header: scipy decides); reads 128 bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(128)
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(b"MATLAB 7.3") or (not head.startswith(b"MATLAB") and is_hdf5(path)):
        return "7.3"
    if head.startswith(b"MATLAB"):
        return "5"
    return "4"


def list_variables(path: str | os.PathLike) -> list[dict]:
    """Variables of a .mat file: key, shape, class and whether it reads as a table."""
    if mat_version(path) == "7.3":
        share = acquire(path)  # as every HDF5 reader opens it: a cut file is refused
        try:
            items = list_datasets(share.file)
        except Exception as exc:  # h5py raises OSError, RuntimeError, ... on damaged files
            raise FileFormatError(
                f"{path} is not a readable MATLAB 7.3 file ({_why(exc)})"
            ) from None
        finally:
            share.release()
        for d in items:  # MATLAB's (n x m) is stored as (m x n)
            d["shape"] = d["shape"][::-1]
        return items
    from scipy.io import whosmat  # scipy: on use

    try:
        found = whosmat(os.fspath(path))
    except Exception as exc:  # scipy raises many kinds on damaged files
        raise FileFormatError(f"{path} is not a readable MATLAB file ({_why(exc)})") from None
    return [
        {
            "key": name,
            "shape": list(shape),
            "dtype": cls,
            "usable": cls in _MATLAB_CLASSES and len(shape) <= 2,
        }
        for name, shape, cls in found
    ]


def open_mat(path: str | os.PathLike, key: str | int | None = None) -> Reader:
    """A reader over one variable of a .mat file."""
    path = Path(path)
    items = list_variables(path)
    name = pick_member(path, items, key, "variable", "Variables")
    if mat_version(path) == "7.3":
        return HDF5Reader(path, name, order="channels", kind="mat-v7.3")
    from scipy.io import loadmat  # scipy: on use

    try:
        data = loadmat(os.fspath(path), variable_names=[name])
    except Exception as exc:  # damaged or unsupported content
        raise FileFormatError(f"{path} is not a readable MATLAB file ({_why(exc)})") from None
    if name not in data:
        raise FileFormatError(f"{path} has no variable {name!r}")
    array = np.asarray(data[name])
    if array.dtype == bool:
        array = array.astype(np.uint8)
    return ArrayReader(array, path=path, kind="mat-v5", names=None)


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
