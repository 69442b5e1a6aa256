"""bspysmg's `IO.dat`: a text table of inputs (V) then outputs (nA) per row.

The peer writes it with `numpy.savetxt` defaults (`%.18e`, space separated)
after a `# Input 0, ..., Output 0` header; we write the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

IODAT_NAME = "IO.dat"
IODAT_FMT = "%.18e"


def iodat_header(n_inputs: int, n_outputs: int) -> str:
    """`Input 0, ..., Input n-1, Output 0, ...` as the peer's get_header builds it."""
    names = [f"Input {i}" for i in range(n_inputs)] + [f"Output {i}" for i in range(n_outputs)]
    return ", ".join(names)


def write_iodat(
    path: str | os.PathLike,
    blocks: Iterable[tuple[np.ndarray, np.ndarray]],
    n_inputs: int,
    n_outputs: int,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Write (inputs, outputs) blocks as one IO.dat; returns the rows written.

    Written to a temporary name and moved into place, so a failure never
    leaves a truncated IO.dat that looks complete.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    rows = 0
    try:
        with open(tmp, "wb") as fh:
            np.savetxt(fh, [], header=iodat_header(n_inputs, n_outputs))
            for inputs, outputs in blocks:
                if len(inputs):
                    np.savetxt(fh, np.column_stack([inputs, outputs]), fmt=IODAT_FMT)
                rows += len(inputs)
                if on_rows is not None:
                    on_rows(rows)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows
