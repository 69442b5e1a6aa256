"""The live ring buffer: exact windows, in-place decimation, no torn reads under a writer."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.acquisition.livebuffer import LiveBuffer
from backend.display.decimate import minmax_channels


def indexed(start: int, n: int, channels: int) -> np.ndarray:
    """Rows whose values name their absolute index: row r, channel c holds r + c / 8."""
    rows = np.arange(start, start + n, dtype=np.float64)[:, None]
    return rows + np.arange(channels) / 8


def test_reads_are_addressed_by_absolute_row_across_the_wrap():
    buf = LiveBuffer(3, 10, names=["a", "b", "c"], units=["V", "V", "nA"], fs=100)
    buf.append(indexed(0, 7, 3))
    buf.append(indexed(7, 8, 3))  # wraps; rows 0..4 are gone
    assert (buf.total, buf.first_available) == (15, 5)
    first, rows = buf.read(0, 100)
    assert first == 5
    np.testing.assert_array_equal(rows, indexed(5, 10, 3))
    first, chans = buf.read_channels(8, 12)
    np.testing.assert_array_equal(chans, indexed(8, 4, 3).T)
    first, newest = buf.latest(4)
    assert first == 11
    np.testing.assert_array_equal(newest, indexed(11, 4, 3))


def test_a_block_larger_than_the_ring_keeps_its_newest_rows():
    buf = LiveBuffer(2, 5)
    buf.append(indexed(0, 3, 2))
    buf.append(indexed(3, 12, 2))
    assert buf.total == 15
    first, rows = buf.read(0)
    assert first == 10
    np.testing.assert_array_equal(rows, indexed(10, 5, 2))


def test_bad_rows_and_reset():
    buf = LiveBuffer(2, 5)
    with pytest.raises(ValueError):
        buf.append(np.zeros((3, 3)))
    buf.append(np.zeros((0, 2)))
    assert buf.total == 0
    buf.append(np.ones((4, 2)))
    buf.reset()
    assert buf.total == 0 and buf.read(0)[1].shape == (2, 0)[::-1]


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 300),
    blocks=st.lists(st.integers(0, 200), min_size=1, max_size=6),
    start=st.integers(0, 1200),
    length=st.integers(0, 600),
    max_points=st.integers(2, 300),
)
def test_envelope_equals_decimating_the_copied_window(capacity, blocks, start, length, max_points):
    buf = LiveBuffer(3, capacity)
    total = 0
    for n in blocks:
        buf.append(indexed(total, n, 3))
        total += n
    env = buf.envelope(start, start + length, max_points)
    first, window = buf.read_channels(start, start + length)
    expected = minmax_channels(window, max_points, first)
    np.testing.assert_array_equal(env.starts, expected.starts)
    np.testing.assert_array_equal(env.mins, expected.mins)
    np.testing.assert_array_equal(env.maxs, expected.maxs)
    assert env.step == expected.step


def test_undecimated_envelopes_are_copies_not_views_of_the_ring():
    buf = LiveBuffer(1, 8)
    buf.append(indexed(0, 4, 1))
    env = buf.envelope(0, 4, 100)
    buf.append(indexed(4, 8, 1))  # overwrites every slot
    np.testing.assert_array_equal(env.mins[:, 0], [0, 1, 2, 3])


def test_readers_never_see_rows_the_writer_is_overwriting():
    """A fast writer laps a small ring while readers hammer its oldest rows."""
    channels, capacity = 4, 257
    buf = LiveBuffer(channels, capacity)
    stop = threading.Event()
    bad: list[str] = []

    def writer() -> None:
        total = 0
        rng = np.random.default_rng(1)
        while not stop.is_set():
            n = int(rng.integers(1, 200))
            buf.append(indexed(total, n, channels))
            total += n

    def check_rows(first: int, rows: np.ndarray) -> None:
        if len(rows) and not np.array_equal(rows, indexed(first, len(rows), channels)):
            bad.append(f"torn read at {first}")

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 0.5
    reads = 0
    try:
        while time.monotonic() < deadline:
            total = buf.total
            oldest = max(0, total - capacity)
            check_rows(*buf.read(oldest, oldest + 200))
            check_rows(*buf.latest(100))
            env = buf.envelope(oldest, total, 40)
            for k, s in enumerate(env.starts):
                lo = indexed(int(s), 1, channels)[0]
                if not np.array_equal(env.mins[k], lo):
                    bad.append(f"torn envelope bin at {s}")
            reads += 1
    finally:
        stop.set()
        thread.join()
    assert reads > 10
    assert not bad, bad[:5]


def test_blocks_side_by_side_equal_joined_rows():
    """A batch's inputs and outputs go in as blocks, wrapping included, like joined rows."""
    rng = np.random.default_rng(3)
    joined, blocks = LiveBuffer(8, 1000), LiveBuffer(8, 1000)
    for n in (300, 450, 700, 2500, 1):
        x, y = rng.normal(size=(n, 7)), rng.normal(size=(n, 1))
        joined.append(np.hstack([x, y]))
        blocks.append(x, y)
    assert blocks.total == joined.total
    first_a, a = joined.read(0)
    first_b, b = blocks.read(0)
    assert first_a == first_b and np.array_equal(a, b) and a.flags.c_contiguous
    with pytest.raises(ValueError, match="8 channels"):
        blocks.append(x, y, y)
    with pytest.raises(ValueError):
        blocks.append(x, y[:-1])
