"""Loading torch files from others without running their code.

`torch.load(weights_only=True)` refuses arbitrary pickles. bspysmg training
files also hold numpy arrays (voltage ranges, amplitude) inside `info`; we allow
exactly the globals that rebuild numeric numpy arrays, nothing else.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np
import torch

from backend.errors import FileFormatError

_NUMERIC_DTYPES = [
    type(np.dtype(code))
    for code in ("f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "?", "c8", "c16")
]
_NUMPY_SAFE_GLOBALS: list[Any] = [
    np._core.multiarray._reconstruct,
    np._core.multiarray.scalar,
    np.ndarray,
    np.dtype,
    *_NUMERIC_DTYPES,
]


def load_torch_file(path: str | os.PathLike) -> Any:
    """Load a `.pt` file with weights_only=True plus numeric numpy arrays."""
    try:
        with torch.serialization.safe_globals(_NUMPY_SAFE_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileFormatError(f"file not found: {path}") from None
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsafe content"
        raise FileFormatError(
            f"{path} holds objects that are not plain weights and was not loaded ({first})",
            "Only tensors, numbers, strings, lists, dicts and numeric numpy arrays are "
            "accepted from torch files.",
        ) from None
    except Exception as exc:  # torch raises many types for damaged files
        # torch's own text runs to several sentences of advice: its first line is the fact.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        first = first.split(". ")[0].removeprefix("PytorchStreamReader ")
        raise FileFormatError(
            f"{path} is damaged or not a torch file ({type(exc).__name__}: {first})",
            "Use a complete copy of the file (a cut or altered one cannot be read), "
            "or train the model again.",
        ) from None
