"""The stream contract: chunked reads equal one read, exact clocks, sources in memory."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.errors import SamplelabError
from backend.streams import (
    H5StreamWriter,
    RandomStream,
    SequenceStream,
    StreamError,
    open_stream,
)

ROWS, CHANNELS = 3001, 3
DATA = np.random.default_rng(42).normal(size=(ROWS, CHANNELS))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """The same table in every file format the streams read."""
    folder = tmp_path_factory.mktemp("stream_files")
    np.save(folder / "rows.npy", DATA)
    np.save(folder / "cols.npy", np.ascontiguousarray(DATA.T))
    np.savez(folder / "table.npz", inputs=DATA[:, :2], outputs=DATA[:, 2:])
    DATA.tofile(folder / "table.bin")
    (folder / "table.bin.json").write_text(json.dumps({"dtype": "<f8", "n_channels": CHANNELS}))
    np.savetxt(folder / "IO.dat", DATA, header="Input 0, Input 1, Output 0")
    with H5StreamWriter(folder / "stream.h5", CHANNELS, fs=10) as writer:
        writer.put(DATA)
    return {
        "npy": (folder / "rows.npy", {}),
        "npy-channels": (folder / "cols.npy", {"order": "channels"}),
        "npz": (folder / "table.npz", {}),
        "raw": (folder / "table.bin", {}),
        "iodat": (folder / "IO.dat", {}),
        "hdf5": (folder / "stream.h5", {}),
    }


def read_in_chunks(stream, sizes: list[int]) -> np.ndarray:
    parts = []
    for n in sizes:
        parts.append(stream.get(n))
    parts.append(stream.get(ROWS))  # whatever is left
    return np.concatenate(parts)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["npy", "npy-channels", "npz", "raw", "iodat", "hdf5", "sequence"]),
    sizes=st.lists(st.integers(0, 900), max_size=8),
)
def test_chunked_get_equals_reading_the_whole_array(files, kind, sizes):
    if kind == "sequence":
        stream = SequenceStream(DATA)
    else:
        path, options = files[kind]
        stream = open_stream(path, **options)
    with stream:
        got = read_in_chunks(stream, sizes)
        np.testing.assert_array_equal(got, DATA)
        assert stream.position == ROWS and stream.ended
        assert stream.get(5).shape == (0, CHANNELS)


@settings(max_examples=25, deadline=None)
@given(
    distribution=st.sampled_from(["uniform", "normal"]),
    sizes=st.lists(st.integers(0, 500), max_size=8),
    seed=st.integers(0, 2**31),
)
def test_random_streams_do_not_depend_on_how_they_are_read(distribution, sizes, seed):
    whole = RandomStream(4, seed=seed, distribution=distribution, length=ROWS).get(ROWS)
    stream = RandomStream(4, seed=seed, distribution=distribution, length=ROWS)
    np.testing.assert_array_equal(read_in_chunks(stream, sizes), whole)
    stream.seek(1234)
    np.testing.assert_array_equal(stream.get(10), whole[1234:1244])
    stream.reset()
    np.testing.assert_array_equal(stream.get(7), whole[:7])


@pytest.mark.parametrize("n", [1, 7, 1000, ROWS, ROWS + 5])
def test_chunks_come_in_time_order_and_the_last_short_one_is_kept(n):
    chunks = list(SequenceStream(DATA).chunks(n))
    assert all(len(c) == n for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= n
    np.testing.assert_array_equal(np.concatenate(chunks), DATA)


def test_chunks_stop_at_max_samples_or_max_t():
    stream = RandomStream(2, seed=1, fs=1000)
    chunks = list(stream.chunks(300, max_samples=1000))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    stream.reset()
    assert sum(len(c) for c in stream.chunks(64, max_t=0.25)) == 250
    assert stream.t == pytest.approx(0.25)


def test_the_clock_is_exact_and_never_drifts():
    stream = RandomStream(1, seed=0, fs=3)  # 0.1 s is 0.3 samples: rounding would drift
    got = sum(len(stream.get_seconds(0.1)) for _ in range(30))
    assert got == 9 == stream.position
    assert stream.t == pytest.approx(3.0)
    stream = SequenceStream(DATA, dt=0.001)
    assert stream.rate == 1000 and stream.dt == 0.001
    assert stream.samples_in(0.0015) == 2  # half rounds up, exactly
    stream.get(3)
    assert len(stream.get_seconds(0.01)) == 10  # a get(n) in between resynchronises
    assert stream.t == pytest.approx(0.013)


def test_sample_counts_are_integers():
    stream = SequenceStream(DATA)
    with pytest.raises(TypeError):
        stream.get(2.0)
    with pytest.raises(ValueError):
        stream.get(-1)
    with pytest.raises(TypeError):
        stream.seek(1.5)
    with pytest.raises(ValueError):
        list(stream.chunks(0))


def test_rates_come_from_fs_or_dt_exactly():
    assert RandomStream(fs=5000).rate == 5000
    assert RandomStream(dt=0.2).rate == 5
    assert RandomStream(fs=Fraction(1, 3)).dt == pytest.approx(3.0)
    with pytest.raises(ValueError):
        RandomStream(fs=10, dt=0.1)
    with pytest.raises(ValueError):
        RandomStream(fs=-1)


def test_read_only_closed_and_endless_streams_say_so():
    stream = RandomStream(2, seed=0)
    with pytest.raises(StreamError) as err:
        stream.put(np.zeros((1, 2)))
    assert isinstance(err.value, SamplelabError)
    assert stream.length is None and stream.available is None and not stream.ended
    with pytest.raises(TypeError):
        len(stream)
    with stream:
        stream.get(3)
    with pytest.raises(StreamError):
        stream.get(1)
    stream.close()  # twice is fine


def test_random_values_have_the_asked_mean_and_level():
    uniform = RandomStream(1, seed=3, mean=5.0, level=2.0).get(200_000)
    assert uniform.min() >= 4.0 and uniform.max() < 6.0
    assert uniform.mean() == pytest.approx(5.0, abs=0.01)
    normal = RandomStream(1, seed=3, mean=-1.0, level=0.5, distribution="normal").get(200_000)
    assert normal.mean() == pytest.approx(-1.0, abs=0.01)
    assert normal.std() == pytest.approx(0.5, rel=0.01)
    assert np.isfinite(normal).all()
    other = RandomStream(1, seed=4, mean=5.0, level=2.0).get(10)
    assert not np.array_equal(other, uniform[:10])


def test_sequence_put_appends_and_rolls_with_a_maximum_length():
    stream = SequenceStream(channels=2, fs=100, max_length=5, names=["x", "y"], units=["V", "V"])
    assert len(stream) == 0 and stream.ended
    stream.put(np.array([[0.0, 0.0], [1.0, 1.0]]))
    stream.put([2.0, 2.0])  # one sample
    np.testing.assert_array_equal(stream.get(2)[:, 0], [0, 1])
    stream.put(np.arange(3, 10, dtype=float)[:, None].repeat(2, axis=1))  # 2..9 -> keeps 5..9
    assert (len(stream), stream.first_held) == (10, 5)
    np.testing.assert_array_equal(stream.data[:, 0], [5, 6, 7, 8, 9])
    with pytest.raises(StreamError, match="dropped"):
        stream.get(1)  # sample 2 rolled out before it was read
    stream.seek(7)
    np.testing.assert_array_equal(stream.get(10)[:, 0], [7, 8, 9])
    with pytest.raises(StreamError):
        stream.seek(1)
    with pytest.raises(StreamError):
        stream.put(np.zeros((2, 3)))


def test_sequence_appends_are_amortised_and_exact():
    stream = SequenceStream(channels=1)
    for i in range(5000):
        stream.put(np.array([[float(i)]]))
    np.testing.assert_array_equal(stream.get(6000)[:, 0], np.arange(5000))
    assert stream.data.flags.writeable is False
