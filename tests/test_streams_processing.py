"""Processing, resampling and running models over streams: chunked equals whole."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from backend.errors import Cancelled
from backend.jobs import CancelToken
from backend.streams import (
    H5StreamWriter,
    LFilter,
    ProcessingStream,
    RandomStream,
    ResampleStream,
    SequenceStream,
    SosFilter,
    StreamError,
    open_stream,
    run_stream,
)

DATA = np.random.default_rng(3).normal(size=(2000, 3))
chunk_sizes = st.lists(st.integers(1, 700), min_size=1, max_size=6)


def read_in_chunks(stream, sizes):
    parts, k = [], 0
    while not stream.ended:
        parts.append(stream.get(sizes[k % len(sizes)]))
        k += 1
    return np.concatenate(parts)


@settings(max_examples=30, deadline=None)
@given(sizes=chunk_sizes)
def test_a_stateful_filter_in_chunks_equals_filtering_the_whole_signal(sizes):
    b, a = signal.butter(4, 0.05)
    stream = ProcessingStream(SequenceStream(DATA), LFilter(b, a, 3))
    np.testing.assert_array_equal(read_in_chunks(stream, sizes), signal.lfilter(b, a, DATA, axis=0))
    sos = signal.butter(6, [0.05, 0.2], btype="band", output="sos")
    stream = ProcessingStream(SequenceStream(DATA), SosFilter(sos, 3))
    np.testing.assert_array_equal(read_in_chunks(stream, sizes), signal.sosfilt(sos, DATA, axis=0))


def test_the_stream_can_carry_the_state_itself():
    b, a = signal.cheby1(3, 1, 0.1)

    def step(x, zi):
        return signal.lfilter(b, a, x, axis=0, zi=zi)

    zi0 = np.zeros((3, 3))
    stream = ProcessingStream(SequenceStream(DATA), step, stateful=True, state=zi0)
    first = np.concatenate(list(stream.chunks(123)))
    np.testing.assert_array_equal(first, signal.lfilter(b, a, DATA, axis=0))
    assert zi0.sum() == 0  # the caller's initial state is not mutated
    stream.reset()
    np.testing.assert_array_equal(np.concatenate(list(stream.chunks(500))), first)


def test_reset_restarts_filters_that_hold_their_own_state():
    b, a = signal.butter(2, 0.1)
    stream = ProcessingStream(SequenceStream(DATA), LFilter(b, a, 3))
    once = stream.get(700)
    stream.reset()
    np.testing.assert_array_equal(stream.get(700), once)


def test_a_torch_model_with_pre_and_post():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    model = model.double()
    stream = ProcessingStream(SequenceStream(DATA, fs=100), model, pre=lambda x: 2 * x)
    assert stream.channels == 2 and stream.fs == 100  # found by probing one sample
    got = np.concatenate(list(stream.chunks(256)))
    with torch.no_grad():
        expected = model(torch.as_tensor(2 * DATA)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    float_model = torch.nn.Linear(3, 1)  # float32 weights: inputs are converted to match
    out = ProcessingStream(SequenceStream(DATA), float_model, post=lambda y: y * 10).get(5)
    assert out.dtype == np.float64 and out.shape == (5, 1)


def test_a_recurrent_torch_model_keeps_its_hidden_state_across_chunks():
    torch.manual_seed(1)
    gru = torch.nn.GRU(3, 4, batch_first=True).double()
    stream = ProcessingStream(
        SequenceStream(DATA),
        gru,
        pre=lambda x: x[None],  # one sequence of n steps
        post=lambda y: y[0],
        stateful=True,
        channels=4,
    )
    got = np.concatenate(list(stream.chunks(333)))
    with torch.no_grad():
        whole, _ = gru(torch.as_tensor(DATA)[None])
    np.testing.assert_allclose(got, whole[0].numpy(), rtol=1e-10, atol=1e-12)


def test_a_model_that_changes_the_row_count_is_refused():
    stream = ProcessingStream(SequenceStream(DATA), lambda x: x[::2], channels=3)
    with pytest.raises(StreamError, match="rows"):
        stream.get(10)


@settings(max_examples=40, deadline=None)
@given(up=st.integers(1, 7), down=st.integers(1, 7), sizes=chunk_sizes)
def test_streamed_resampling_equals_resample_poly_on_the_whole_signal(up, down, sizes):
    stream = ResampleStream(SequenceStream(DATA, fs=1000), up=up, down=down)
    expected = signal.resample_poly(DATA, up, down, axis=0)
    assert len(stream) == len(expected)
    np.testing.assert_allclose(read_in_chunks(stream, sizes), expected, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(factor=st.integers(1, 9), sizes=chunk_sizes)
def test_integer_factors_without_filtering_are_exact(factor, sizes):
    down = ResampleStream(SequenceStream(DATA, fs=900), up=1, down=factor, method="pick")
    np.testing.assert_array_equal(read_in_chunks(down, sizes), DATA[::factor])
    assert down.fs == 900 / factor
    up = ResampleStream(SequenceStream(DATA), up=factor, down=1, method="pick")
    np.testing.assert_array_equal(read_in_chunks(up, sizes), np.repeat(DATA, factor, axis=0))
    mean = ResampleStream(SequenceStream(DATA), up=1, down=factor, method="mean")
    n = -(-len(DATA) // factor)
    expected = np.array([DATA[i * factor : (i + 1) * factor].mean(axis=0) for i in range(n)])
    np.testing.assert_allclose(read_in_chunks(mean, sizes), expected, rtol=1e-14)


def test_new_rates_by_frequency_or_interval_are_exact_fractions():
    stream = ResampleStream(SequenceStream(DATA, fs=5000), fs=1000)
    assert (stream.up, stream.down, len(stream)) == (1, 5, 400)
    stream = ResampleStream(SequenceStream(DATA, fs=44100), dt=1 / 48000)
    assert (stream.up, stream.down) == (160, 147)
    assert len(stream) == -(-2000 * 160 // 147)
    stream = ResampleStream(SequenceStream(DATA, fs=1000), fs=250, method="pick")
    stream.get(3)
    assert stream.t == pytest.approx(0.012)  # 3 samples at 250 Hz
    with pytest.raises(StreamError, match="fraction"):
        ResampleStream(SequenceStream(DATA, fs=1000), fs=999.9999)
    with pytest.raises(StreamError, match="mean"):
        ResampleStream(SequenceStream(DATA), up=2, down=1, method="mean")


def test_resampling_an_endless_stream():
    source = RandomStream(2, seed=9, fs=1000)
    whole = RandomStream(2, seed=9, fs=1000).get(4000)
    stream = ResampleStream(source, fs=400)
    assert stream.length is None
    got = np.concatenate([stream.get(n) for n in (100, 1, 499, 200)])
    expected = signal.resample_poly(whole, 2, 5, axis=0)
    np.testing.assert_allclose(got, expected[:800], atol=1e-12)  # far from the end's padding


def test_run_stream_collects_the_output_in_memory():
    b, a = signal.butter(2, 0.2)
    calls = []
    out = run_stream(
        LFilter(b, a, 3),
        SequenceStream(DATA),
        chunk=300,
        progress=lambda p: calls.append((p.done, p.total)),
    )
    np.testing.assert_array_equal(out, signal.lfilter(b, a, DATA, axis=0))
    assert calls[-1] == (2000, 2000) and [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_run_stream_writes_an_endless_stream_into_a_file(tmp_path):
    source = RandomStream(3, seed=2, fs=200)
    sink = H5StreamWriter(tmp_path / "sum.h5", 1, fs=source.rate, names=["sum"])
    result = run_stream(
        lambda x: x.sum(axis=1, keepdims=True), source, chunk=64, max_t=2.5, out=sink
    )
    assert result is sink and len(sink) == 500
    sink.close()
    with open_stream(tmp_path / "sum.h5") as stream:
        assert stream.names == ["sum"] and stream.fs == 200
        got = stream.get(10**4)
    expected = RandomStream(3, seed=2, fs=200).get(500).sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(got, expected)


def test_run_stream_copies_with_a_progress_bar_and_limits():
    out = run_stream(None, SequenceStream(DATA), chunk=500, max_samples=1234, progress=True)
    np.testing.assert_array_equal(out, DATA[:1234])


def test_run_stream_refuses_to_collect_an_endless_stream():
    with pytest.raises(StreamError, match="endless"):
        run_stream(lambda x: x, RandomStream(1))
    with pytest.raises(StreamError, match="read-only"):
        run_stream(lambda x: x, SequenceStream(DATA), out=RandomStream(3))


def test_run_stream_stops_between_chunks_when_cancelled():
    cancel = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.done)
        if p.done >= 600:
            cancel.cancel()

    sink = SequenceStream(channels=3)
    with pytest.raises(Cancelled):
        run_stream(
            lambda x: x, SequenceStream(DATA), chunk=200, out=sink, progress=progress, cancel=cancel
        )
    assert seen == [200, 400, 600] and len(sink) == 600  # what was done is kept
