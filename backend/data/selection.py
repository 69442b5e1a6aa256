"""Selections of a reader: numpy-style keys to channel positions and bounded read spans.

A leaf of the data layer (numpy and the error type only), used by the `Reader`
base: `channel_positions` turns an int, name, slice, mask or list into channel
positions; `check_rows` and `spans` turn wanted rows into a few contiguous reads,
so `reader[::1000]` over a huge file reads bounded spans, not the whole file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from backend.errors import FileFormatError


def channel_positions(channels: Any, names: Sequence[str]) -> np.ndarray:
    """Positions in `names` for an int, name, slice, mask or list of those (None: all)."""
    n = len(names)
    if channels is None:
        return np.arange(n)
    if isinstance(channels, slice):
        return np.arange(n)[channels]
    if isinstance(channels, (int, np.integer, str)):
        channels = [channels]
    items = (
        list(np.asarray(channels).ravel()) if isinstance(channels, np.ndarray) else list(channels)
    )
    if items and all(isinstance(c, (bool, np.bool_)) for c in items):
        if len(items) != n:
            raise IndexError(f"a channel mask needs {n} entries, got {len(items)}")
        return np.flatnonzero(items)
    out = []
    for c in items:
        if isinstance(c, str):
            if c not in names:
                raise FileFormatError(
                    f"no channel named {c!r}", f"Channels here: {', '.join(names)}."
                )
            out.append(names.index(c))
        elif isinstance(c, (int, np.integer)):
            i = int(c) + n if int(c) < 0 else int(c)
            if not 0 <= i < n:
                raise IndexError(f"channel {int(c)} out of range for {n} channels")
            out.append(i)
        else:
            raise TypeError(f"a channel is an int or a name, not {type(c).__name__}")
    return np.asarray(out, dtype=np.intp)


def check_rows(rows: np.ndarray, n: int) -> np.ndarray:
    """Rows with negative ones counted from the end; an IndexError if any is outside."""
    rows = np.where(rows < 0, rows + n, rows)
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        raise IndexError(f"row index out of range for {n} rows")
    return rows


def spans(ordered: np.ndarray, max_span: int, max_gap: int) -> Iterator[tuple[int, int]]:
    """Index ranges [i, j) of sorted rows to read together: small gaps, bounded span."""
    breaks = np.flatnonzero(np.diff(ordered) > max_gap) + 1
    i, n = 0, len(ordered)
    while i < n:
        j = int(np.searchsorted(ordered, ordered[i] + max_span, side="left"))
        nxt = int(np.searchsorted(breaks, i, side="right"))
        if nxt < len(breaks):
            j = min(j, int(breaks[nxt]))
        j = max(j, i + 1)
        yield i, j
        i = j
