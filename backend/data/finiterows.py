"""The one rule for NaN and infinite values in sampled rows: refused, with the first row named.

A row holding NaN or an infinite value cannot train a model, and dropping it
quietly would make a dataset differ from its source without a word. So
postprocessing (every `SamplingSource`: recordings and bspysmg folders) and
dataset export (every source, npz included) refuse such rows the same way:
one `FileFormatError` naming the file, the first bad row (1-based, as a
spreadsheet counts) and column, and how many rows of that block are bad.
IO.dat reading names the text line instead (`backend.data.formats.iodat_blocks`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

from backend.errors import FileFormatError

NON_FINITE_HINT = (
    "Rows with NaN or infinite values cannot train a model; remove them from the file "
    "(or re-sample those batches) and try again."
)


def check_finite_rows(
    path: str | os.PathLike,
    first_row: int,
    groups: Sequence[np.ndarray],
    group_names: Sequence[str] = ("Input", "Output"),
    line_of_row: Callable[[int], int] | None = None,
) -> None:
    """Raise for the first non-finite value of `groups` (row blocks starting at `first_row`).

    Text tables name the line (`line_of_row`: 0-based row -> 1-based line) as their
    own reader does; other files the 1-based row.
    """
    bad = [~np.isfinite(g) if g.dtype.kind in "fc" else None for g in groups]
    rows_bad = [b.any(axis=1) if b is not None and b.ndim == 2 else None for b in bad]
    if not any(r is not None and r.any() for r in rows_bad):
        return
    any_bad = np.logical_or.reduce([r for r in rows_bad if r is not None])
    rows = np.flatnonzero(any_bad)
    row = int(rows[0])
    k = next(i for i, r in enumerate(rows_bad) if r is not None and r[row])
    col = int(np.flatnonzero(bad[k][row])[0])
    name = group_names[k] if k < len(group_names) else f"column group {k}"
    if line_of_row is None:
        where, span = f"row {first_row + row + 1}", (first_row + 1, first_row + len(any_bad))
        unit = "rows"
    else:
        where = f"line {line_of_row(first_row + row)}"
        span = (line_of_row(first_row), line_of_row(first_row + len(any_bad) - 1))
        unit = "lines"
    raise FileFormatError(
        f"{path}, {where}: {name} {col} is {groups[k][row, col]} "
        f"({len(rows)} row(s) with NaN or infinite values in {unit} {span[0]}-{span[1]})",
        NON_FINITE_HINT,
    )
