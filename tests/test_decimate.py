"""Min/max decimation: every path equals the plain per-bin min and max."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.display import decimate
from backend.display.decimate import Envelope, bin_step, minmax, minmax_channels, minmax_segments


def reference(data: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Bins of `step` rows from row 0, the last one partial: (mins, maxs) as (bins, channels)."""
    edges = np.arange(0, len(data), step)
    return np.minimum.reduceat(data, edges, axis=0), np.maximum.reduceat(data, edges, axis=0)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.integers(1, 600),
    channels=st.integers(1, 5),
    step=st.integers(1, 700),
    first=st.integers(0, 10**9),
    seed=st.integers(0, 2**16),
)
def test_every_layout_equals_the_reference(rows, channels, step, first, seed):
    data = np.random.default_rng(seed).normal(size=(rows, channels))
    mins, maxs = reference(data, step)
    for env in (
        minmax(data, 0, first, step),  # row-major, C-contiguous
        minmax(np.asfortranarray(data), 0, first, step),  # row-major view of channel-major
        minmax_channels(np.ascontiguousarray(data.T), 0, first, step),
    ):
        assert env.step == step
        np.testing.assert_array_equal(env.mins, mins)
        np.testing.assert_array_equal(env.maxs, maxs)
        np.testing.assert_array_equal(env.starts, first + np.arange(len(mins)) * step)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 3000),
    step=st.integers(2, 900),
    block=st.integers(1, 300),
    seed=st.integers(0, 2**16),
)
def test_row_major_blocks_carry_bins_across_block_edges(rows, step, block, seed):
    data = np.random.default_rng(seed).normal(size=(rows, 3))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(decimate, "BLOCK_ROWS", block)
        env = minmax(data, 0, 0, step)
    mins, maxs = reference(data, step)
    np.testing.assert_array_equal(env.mins, mins)
    np.testing.assert_array_equal(env.maxs, maxs)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 2000),
    step=st.integers(1, 300),
    workers=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_threads_split_on_bin_edges_and_agree(rows, step, workers, seed):
    data = np.random.default_rng(seed).normal(size=(rows, 4))
    env = minmax(data, 0, 11, step, workers=workers)
    mins, maxs = reference(data, step)
    np.testing.assert_array_equal(env.mins, mins)
    np.testing.assert_array_equal(env.maxs, maxs)
    np.testing.assert_array_equal(env.starts, 11 + np.arange(len(mins)) * step)


def test_column_slices_and_other_dtypes_are_decimated_too():
    data = np.arange(4000, dtype=np.int32).reshape(1000, 4)[:, 1:3]  # strided, not contiguous
    env = minmax(data, 100)
    mins, maxs = reference(data, env.step)
    assert env.mins.dtype == np.int32
    np.testing.assert_array_equal(env.mins, mins)
    np.testing.assert_array_equal(env.maxs, maxs)


@settings(max_examples=60, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 500), max_size=4),
    step=st.integers(1, 300),
    seed=st.integers(0, 2**16),
)
def test_segments_equal_their_concatenation(cuts, step, seed):
    data = np.random.default_rng(seed).normal(size=(2, 500))
    edges = [0, *sorted(cuts), 500]
    pieces = [data[:, a:b] for a, b in itertools.pairwise(edges)]
    env = minmax_segments(pieces, 0, 7, step)
    whole = minmax_channels(data, 0, 7, step)
    np.testing.assert_array_equal(env.mins, whole.mins)
    np.testing.assert_array_equal(env.maxs, whole.maxs)
    np.testing.assert_array_equal(env.starts, whole.starts)


@pytest.mark.parametrize("rows", [1, 10, 3999, 4000, 4001, 10**6, 10**8 + 7])
@pytest.mark.parametrize("max_points", [2, 100, 4000])
def test_bin_step_is_the_smallest_step_that_fits(rows, max_points):
    step = bin_step(rows, max_points)
    assert isinstance(step, int)
    if rows <= max_points:
        assert step == 1
        return
    per_bin = max_points // 2
    assert -(-rows // step) <= per_bin
    assert step == 1 or -(-rows // (step - 1)) > per_bin


def test_the_line_visits_min_then_max_of_each_bin():
    data = np.array([[1.0], [5.0], [-2.0], [3.0], [0.0]])
    env = minmax(data, 0, first_row=10, step=2)
    x, y = env.line(0)
    np.testing.assert_array_equal(y, [1, 5, -2, 3, 0, 0])
    np.testing.assert_array_equal(x, [10, 10.5, 12, 12.5, 14, 14.5])
    raw = minmax(data, 100, first_row=3)
    assert raw.step == 1
    np.testing.assert_array_equal(raw.line(0)[0], [3, 4, 5, 6, 7])


def test_empty_input_gives_an_empty_envelope():
    env = minmax(np.empty((0, 3)), 100)
    assert env.bins == 0 and env.mins.shape == (0, 3)
    assert isinstance(env, Envelope)
