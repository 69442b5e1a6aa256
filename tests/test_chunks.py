"""Chunked processing: same results as whole-array processing, bounded chunks, safe outputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.data.chunks import ChunkProcessor
from backend.data.formats.raw import sidecar_path, write_raw
from backend.data.kinds import load_data, open_reader
from backend.data.pipeline import ChunkPipeline, Step
from backend.data.reader import ArrayReader
from backend.errors import Cancelled, SamplelabError
from backend.jobs import CancelToken, parse_memory

# Module-level functions: worker processes import them by name.


def scale_and_shift(chunk: np.ndarray, factor: float = 2.0) -> np.ndarray:
    return chunk * factor + 1


def moving_sum(chunk: np.ndarray, info) -> np.ndarray:
    """Needs one row of context on each side: exact only with buffer >= 1."""
    out = chunk.astype(np.float64).copy()
    out[1:-1] = chunk[:-2] + chunk[1:-1] + chunk[2:]
    return out[info.local]


def wrong_rows(chunk: np.ndarray) -> np.ndarray:
    return chunk[:1]


@pytest.fixture
def raw_file(tmp_path):
    data = (np.random.default_rng(3).normal(size=(5000, 4)) * 1000).astype("<i2")
    path = write_raw(tmp_path / "in.bin", data, order="channels", sampling_frequency=250.0)
    return path, data


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200MB", 200_000_000), ("1GiB", 2**30), ("1.5 kb", 1500), ("512KiB", 524_288), (4096, 4096)],
)
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("bad", ["lots", "-5MB", "1XB", 0, ""])
def test_parse_memory_refuses_nonsense(bad):
    with pytest.raises(SamplelabError, match="memory size"):
        parse_memory(bad)


def test_batches_fit_the_budget(raw_file):
    path, _ = raw_file
    proc = ChunkProcessor(path, max_memory="8KiB", channels=[0, 2])
    for chunk, _ in proc.chunks():
        assert chunk.nbytes * 4 <= 8 * 1024
    assert proc.n_chunks == -(-5000 // proc.chunk_rows)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(0, 300),
    budget=st.integers(64, 4000),
    buffer=st.integers(0, 3),
    start=st.integers(0, 50),
    span=st.integers(0, 400),
)
def test_chunked_equals_whole(rows, budget, buffer, start, span):
    """Chunks (buffer removed) reassemble the selection exactly; sums agree."""
    data = np.arange(rows * 3, dtype=np.float64).reshape(rows, 3) ** 1.5
    reader = ArrayReader(data)
    try:
        proc = ChunkProcessor(
            reader,
            max_memory=budget,
            buffer=buffer,
            channels=[2, 0],
            start=start,
            stop=start + span,
        )
    except SamplelabError:
        assume_small = budget < (2 * buffer + 1) * 2 * 8 * 4
        assert assume_small
        return
    parts = [b[info.local] for b, info in proc.chunks()]
    expected = data[start : start + span][:, [2, 0]]
    got = np.vstack(parts) if parts else np.empty((0, 2))
    np.testing.assert_array_equal(got, expected)
    total = proc.reduce(
        lambda b, previous, info: previous + b[info.local].sum(0), 0.0, pass_info=True
    )
    np.testing.assert_allclose(total, expected.sum(0) if len(expected) else 0.0)


def test_buffer_is_real_context_and_zero_padding_keeps_dtype(raw_file):
    path, data = raw_file
    proc = ChunkProcessor(path, max_memory="4KiB", buffer=2, channels=[1])
    chunks = list(proc.chunks())
    first, _info = chunks[0]
    assert first.dtype == np.int16
    assert first[:2].tolist() == [[0], [0]]  # nothing before row 0
    second, info2 = chunks[1]
    a = info2.rows.start
    np.testing.assert_array_equal(second[:, 0], data[a - 2 : info2.rows.stop + 2, 1])


def test_map_and_memory_results(raw_file):
    path, data = raw_file
    proc = ChunkProcessor(path, max_memory="16KiB")
    maxima = proc.map(lambda b: b.max(axis=0))
    assert len(maxima) == proc.n_chunks
    np.testing.assert_array_equal(np.max(maxima, axis=0), data.max(axis=0))


def test_disk_mode_equals_whole_array_and_keeps_metadata(raw_file, tmp_path):
    path, data = raw_file
    proc = ChunkProcessor(path, max_memory="8KiB", buffer=1, channels=[3, 1], start=7, stop=4990)
    out = proc.write(moving_sum, tmp_path / "out.bin", pass_info=True, cast_dtype="<f4")
    expected = data[:, [3, 1]].astype(np.float64)
    whole = expected.copy()
    whole[1:-1] = expected[:-2] + expected[1:-1] + expected[2:]
    with open_reader(out) as reader:
        assert reader.dtype == np.float32 and reader.fs == 250.0
        assert reader.channel_names == ["ch3", "ch1"]
        np.testing.assert_array_equal(reader.read(), whole[7:4990].astype(np.float32))


def test_disk_mode_two_processes_is_byte_identical(raw_file, tmp_path):
    path, _ = raw_file
    proc = ChunkProcessor(path, max_memory="4KiB", buffer=3)
    one = proc.write(scale_and_shift, tmp_path / "p1.bin", factor=0.5, cast_dtype="<f8")
    two = proc.write(
        scale_and_shift, tmp_path / "p2.bin", factor=0.5, cast_dtype="<f8", processes=2
    )
    assert proc.n_chunks > 10
    assert one.read_bytes() == two.read_bytes()
    assert sidecar_path(one).read_text() == sidecar_path(two).read_text()


def test_if_exists_abort_skip_overwrite(raw_file, tmp_path):
    path, data = raw_file
    proc = ChunkProcessor(path, max_memory="64KiB")
    out = proc.write(None, tmp_path / "copy.bin")
    np.testing.assert_array_equal(load_data(out), data)
    with pytest.raises(SamplelabError, match="already exists"):
        proc.write(scale_and_shift, out)
    proc.write(scale_and_shift, out, if_exists="skip")
    np.testing.assert_array_equal(load_data(out), data)  # untouched
    proc.write(scale_and_shift, out, if_exists="overwrite")
    np.testing.assert_array_equal(load_data(out), data * 2 + 1)


def test_source_is_never_overwritten(raw_file):
    path, data = raw_file
    proc = ChunkProcessor(path, max_memory="64KiB")
    with pytest.raises(SamplelabError, match="source"):
        proc.write(scale_and_shift, path, if_exists="overwrite")
    np.testing.assert_array_equal(load_data(path), data)


def test_functions_that_change_row_counts_are_refused_in_disk_mode(raw_file, tmp_path):
    path, _ = raw_file
    proc = ChunkProcessor(path, max_memory="64KiB")
    with pytest.raises(SamplelabError, match="one row per input row"):
        proc.write(wrong_rows, tmp_path / "bad.bin")
    assert not (tmp_path / "bad.bin").exists()
    assert not (tmp_path / "bad.bin.partial").exists()


def test_unpicklable_function_with_processes_is_a_clear_error(raw_file, tmp_path):
    path, _ = raw_file
    proc = ChunkProcessor(path, max_memory="4KiB")
    with pytest.raises(SamplelabError, match="module level"):
        proc.write(lambda b: b, tmp_path / "x.bin", processes=2)
    assert not list(tmp_path.glob("x.bin*"))


def test_cancel_and_progress(raw_file, tmp_path):
    path, _ = raw_file
    stop = CancelToken()
    seen = []

    def progress(p) -> None:
        seen.append((p.stage, p.done, p.total))
        if p.done == 3:
            stop.cancel()

    proc = ChunkProcessor(path, max_memory="4KiB", progress=progress, cancel=stop)
    with pytest.raises(Cancelled):
        proc.write(scale_and_shift, tmp_path / "c.bin")
    assert [s[1] for s in seen] == [1, 2, 3]
    assert seen[0][2] == proc.n_chunks
    assert not list(tmp_path.glob("c.bin*"))


def test_a_token_cancelled_before_the_start_reads_nothing(raw_file, monkeypatch):
    path, _ = raw_file
    token = CancelToken()
    token.cancel()
    proc = ChunkProcessor(path, cancel=token)
    monkeypatch.setattr(proc.plan, "load", lambda i: pytest.fail("a chunk was read"))
    with pytest.raises(Cancelled):
        list(proc.chunks())


def test_pipeline_chains_steps_and_removes_unkept_outputs(raw_file, tmp_path):
    path, data = raw_file
    steps = []
    pipe = ChunkPipeline(
        path,
        tmp_path / "steps",
        max_memory="16KiB",
        channels=[0, 1],
        on_step=lambda i, s: steps.append(i),
    )
    pipe.add(
        Step(scale_and_shift, "scaled.bin", keep=False, cast_dtype="<f8", kwargs={"factor": 3}),
        Step(np.negative, "negated.bin"),
    )
    first, last = pipe.run()
    assert steps == [0, 1]
    assert not first.exists() and not sidecar_path(first).exists()
    np.testing.assert_array_equal(load_data(last), -(data[:, :2] * 3.0 + 1))
    np.testing.assert_array_equal(load_data(path), data)  # the source is untouched


def test_pipeline_refuses_to_write_over_its_source(raw_file):
    path, data = raw_file
    pipe = ChunkPipeline(path, path.parent).add(Step(np.negative, path.name, if_exists="overwrite"))
    with pytest.raises(SamplelabError, match="overwrite the source"):
        pipe.run()
    np.testing.assert_array_equal(load_data(path), data)


def test_recording_source(recording, tmp_path):
    from backend.recording.reader import Recording

    with Recording(recording) as rec:
        _x, y = rec.read()
    proc = ChunkProcessor(recording, max_memory="2KiB", channels=["Output 0"])
    out = proc.write(None, tmp_path / "out.bin")
    reader = open_reader(out)
    assert reader.units == ["nA"] and reader.fs == rec.fs
    np.testing.assert_array_equal(reader.read(), y)
