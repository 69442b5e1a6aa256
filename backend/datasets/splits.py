"""Train/validation/test splits: sizes as bspysmg computes them, random or in time blocks.

Sizes follow the peer: `ceil(p0*N)`, `floor(p1*N)`, the rest (one split: all
rows; two: `ceil(p0*N)` and the rest). Percentages must add up to 1 within a
tolerance (the peer compares floats exactly, so `[0.7, 0.2, 0.1]` failed).

A random split scatters neighbouring samples over train and test; on a
recording sampled at kHz those are nearly the same sample, so test scores
flatter the model. A block split keeps time together: contiguous pieces
(`block_rows=None`), or blocks of `block_rows` rows dealt out at random.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from backend.errors import SamplelabError

SPLIT_NAMES = ("train", "validation", "test")
SUM_TOLERANCE = 1e-6


def check_percentages(percentages: Sequence[float]) -> list[float]:
    """1 to 3 fractions in [0, 1] that add up to 1 (within SUM_TOLERANCE)."""
    try:
        values = [float(p) for p in percentages]
    except (TypeError, ValueError):
        raise SamplelabError(
            f"split fractions must be numbers, got {percentages!r}",
            "Give e.g. [0.8, 0.1, 0.1].",
        ) from None
    if not 1 <= len(values) <= 3:
        raise SamplelabError(
            f"give 1 to 3 split fractions (train, validation, test), got {len(values)}"
        )
    if any(not 0 <= v <= 1 for v in values):
        raise SamplelabError(
            f"split fractions must lie in [0, 1], got {values}", "E.g. 0.8,0.1,0.1."
        )
    if abs(sum(values) - 1) > SUM_TOLERANCE:
        raise SamplelabError(
            f"split fractions must add up to 1, got {values} (sum {sum(values):.6g})",
            "E.g. 0.8,0.1,0.1.",
        )
    return values


def _times(p: float, n: int) -> float:
    return round(p * n, 9)  # 0.7 * 10 is 7.000000000000001; that is 7 rows, not 8


def split_sizes(n: int, percentages: Sequence[float]) -> list[int]:
    """Rows per split for `n` rows, as the peer computes them (see module docstring)."""
    p = check_percentages(percentages)
    if len(p) == 1:
        return [n]
    first = min(n, math.ceil(_times(p[0], n)))
    if len(p) == 2:
        return [first, n - first]
    second = min(n - first, math.floor(_times(p[1], n)))
    return [first, second, n - first - second]


def random_split_indices(
    n: int, percentages: Sequence[float], seed: int | None = 0
) -> list[np.ndarray]:
    """Row indices per split, drawn at random (seeded); each sorted in time order."""
    sizes = split_sizes(n, percentages)
    perm = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [np.sort(perm[a:b]) for a, b in itertools.pairwise(bounds)]


def block_split_indices(
    n: int,
    percentages: Sequence[float],
    block_rows: int | None = None,
    seed: int | None = 0,
) -> list[np.ndarray]:
    """Row indices per split in time blocks.

    `block_rows=None`: contiguous pieces in order (train first), exact sizes.
    Otherwise blocks of `block_rows` rows in a seeded random order are dealt
    to train until it has its share, then validation, then test; sizes are
    then exact to within one block.
    """
    sizes = split_sizes(n, percentages)
    if block_rows is None:
        bounds = np.cumsum([0, *sizes])
        return [np.arange(a, b) for a, b in itertools.pairwise(bounds)]
    if block_rows < 1:
        raise SamplelabError(f"block_rows must be >= 1, got {block_rows}")
    n_blocks = -(-n // block_rows)
    order = np.random.default_rng(seed).permutation(n_blocks)
    lengths = np.minimum(block_rows, n - order * block_rows)
    ends = np.cumsum(lengths)
    targets = np.cumsum(sizes)[:-1]
    # split k gets the blocks whose cumulative end passes its cumulative target first
    which = np.searchsorted(targets, ends - lengths / 2, side="right")
    out = []
    for k in range(len(sizes)):
        blocks = np.sort(order[which == k])
        rows = [np.arange(b * block_rows, min(n, (b + 1) * block_rows)) for b in blocks]
        out.append(np.concatenate(rows) if rows else np.arange(0))
    return out
