"""Lazy readers index like numpy, whatever the storage, and read only what is asked."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.data.formats.raw import BinaryReader, write_raw
from backend.data.formats.textrows import TextRowsReader
from backend.data.kinds import open_reader
from backend.data.reader import ArrayReader

ROWS, COLS = 97, 5
DATA = (np.arange(ROWS * COLS, dtype=np.float64).reshape(ROWS, COLS) % 13) * 1.25 - 4


@pytest.fixture(scope="module")
def readers(tmp_path_factory):
    """The same table in every storage the readers know."""
    d = tmp_path_factory.mktemp("readers")
    write_raw(d / "s.bin", DATA, order="samples")
    write_raw(d / "c.bin", DATA, order="channels")
    np.save(d / "a.npy", DATA)
    np.save(d / "f.npy", np.asfortranarray(DATA))
    with h5py.File(d / "h.h5", "w") as f:
        f.create_dataset("x", data=DATA, chunks=(8, COLS))
        f.create_dataset("t", data=DATA.T.copy())
    np.savetxt(d / "IO.dat", DATA, header="a, b, c, d, e")
    out = {
        "raw-samples": open_reader(d / "s.bin"),
        "raw-channels": open_reader(d / "c.bin"),
        "npy": open_reader(d / "a.npy"),
        "npy-fortran": open_reader(d / "f.npy"),
        "hdf5": open_reader(d / "h.h5", key="x"),
        "hdf5-channels-first": open_reader(d / "h.h5", key="t", order="channels"),
        "text": TextRowsReader(d / "IO.dat", every=7),
        "memory": ArrayReader(DATA),
    }
    yield out
    for r in out.values():
        r.close()


KINDS = [
    "raw-samples",
    "raw-channels",
    "npy",
    "npy-fortran",
    "hdf5",
    "hdf5-channels-first",
    "text",
    "memory",
]

row_keys = st.one_of(
    st.integers(-ROWS, ROWS - 1),
    st.builds(
        slice,
        st.none() | st.integers(-ROWS - 5, ROWS + 5),
        st.none() | st.integers(-ROWS - 5, ROWS + 5),
        st.none() | st.integers(-7, 7).filter(bool),
    ),
    st.lists(st.integers(-ROWS, ROWS - 1), max_size=20),
)
col_keys = st.one_of(
    st.integers(-COLS, COLS - 1),
    st.builds(slice, st.none() | st.integers(-6, 6), st.none() | st.integers(-6, 6)),
    st.lists(st.integers(0, COLS - 1), min_size=1, max_size=7),
)


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=row_keys, cols=col_keys)
def test_indexing_matches_numpy(readers, kind, rows, cols):
    reader = readers[kind]
    expected = DATA[rows][:, cols] if not isinstance(rows, int) else DATA[rows][cols]
    if isinstance(rows, list):
        expected = DATA[np.asarray(rows, dtype=int)][:, cols]
    got = reader[rows, cols]
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_array_equal(got, expected)


def test_shape_names_and_select(readers):
    text = readers["text"]
    assert text.shape == (ROWS, COLS) and text.channel_names == ["a", "b", "c", "d", "e"]
    view = text.select(["e", "b"])
    assert view.channel_names == ["e", "b"] and view.shape == (ROWS, 2)
    np.testing.assert_array_equal(view[3:9], DATA[3:9][:, [4, 1]])
    np.testing.assert_array_equal(text[5, "c"], DATA[5, 2])


def test_row_masks(readers):
    mask = DATA[:, 0] > 0
    np.testing.assert_array_equal(readers["hdf5"][mask, 1], DATA[mask, 1])
    with pytest.raises(IndexError, match="row mask"):
        readers["hdf5"][mask[:5]]


def test_strided_reads_stay_bounded(monkeypatch, readers):
    """reader[::k] over a big span is read in bounded spans, never all at once."""
    import backend.data.reader as readers_mod

    reader = readers["raw-samples"]
    spans = []
    original = BinaryReader._read

    def spy(self, start, stop, cols):
        spans.append(stop - start)
        return original(self, start, stop, cols)

    monkeypatch.setattr(readers_mod, "SPAN_BYTES", 10 * COLS * 8)
    monkeypatch.setattr(BinaryReader, "_read", spy)
    np.testing.assert_array_equal(reader[::3], DATA[::3])
    assert max(spans) <= 10 and sum(spans) < ROWS + 10


def test_fancy_rows_far_apart_are_separate_reads(monkeypatch, readers):
    import backend.data.reader as readers_mod

    reader = readers["npy"]
    monkeypatch.setattr(readers_mod, "GAP_ROWS", 4)
    calls = []
    original = BinaryReader._read
    monkeypatch.setattr(
        BinaryReader,
        "_read",
        lambda self, a, b, c: calls.append((a, b)) or original(self, a, b, c),
    )
    np.testing.assert_array_equal(reader[[90, 1, 2, 50]], DATA[[90, 1, 2, 50]])
    assert calls == [(1, 3), (50, 51), (90, 91)]


def test_iter_chunks_cover_everything_once(readers):
    reader = readers["hdf5"]
    blocks = list(reader.iter_chunks(10, start=5, stop=60, channels=[1, 3]))
    assert [first for first, _ in blocks] == list(range(5, 60, 10))
    np.testing.assert_array_equal(np.vstack([b for _, b in blocks]), DATA[5:60][:, [1, 3]])


def test_channel_ranges_skip_nans():
    data = np.array([[1.0, np.nan], [np.nan, np.nan], [-2.0, np.nan]])
    lo, hi = ArrayReader(data).channel_ranges()
    assert lo[0] == -2 and hi[0] == 1 and np.isnan(lo[1]) and np.isnan(hi[1])


def test_channel_ranges_keep_infinities_and_report_progress():
    data = np.array([[1.0, np.inf], [2.0, 3.0], [-np.inf, 4.0]])
    done = []
    lo, hi = ArrayReader(data).channel_ranges(max_memory=16, progress=done.append)
    assert lo.tolist() == [-np.inf, 3.0] and hi.tolist() == [2.0, np.inf]
    assert [(p.done, p.total) for p in done] == [(1, 3), (2, 3), (3, 3)]  # one row per chunk


def test_unknown_channel_name_lists_the_channels(readers):
    from backend.errors import FileFormatError

    with pytest.raises(FileFormatError, match="a, b, c, d, e"):
        readers["text"][0, "volts"]


def test_text_reader_index_on_a_big_file(tmp_path, monkeypatch):
    """The row index is right across scan-block borders and without a trailing newline."""
    import backend.data.formats.iodat_blocks as iodat_blocks

    data = np.random.default_rng(1).normal(size=(5000, 3))
    np.savetxt(tmp_path / "IO.dat", data)
    raw = (tmp_path / "IO.dat").read_bytes().rstrip(b"\n")
    (tmp_path / "IO.dat").write_bytes(raw)
    monkeypatch.setattr(iodat_blocks, "SCAN_BYTES", 1000)  # many blocks, rows cut at borders
    reader = TextRowsReader(tmp_path / "IO.dat", every=64)
    assert reader.n_rows == 5000
    np.testing.assert_array_equal(reader[4990:], data[4990:])
    np.testing.assert_array_equal(reader[[0, 63, 64, 65, 4999]], data[[0, 63, 64, 65, 4999]])


def test_readers_survive_pickling(readers):
    import pickle

    reader = readers["hdf5"].select([4, 0])
    copy = pickle.loads(pickle.dumps(reader))
    np.testing.assert_array_equal(copy[:10], DATA[:10][:, [4, 0]])


def test_recording_reader_refresh_follows_a_live_writer(tmp_path, config):
    from backend.recording.writer import RecordingWriter

    rows = config.batch_points
    writer = RecordingWriter.create(tmp_path / "live.h5", config, {"kind": "test"}, seed=1)
    try:
        writer.append(0, np.zeros((rows, 7)), np.ones((rows, 1)), np.zeros(7), 0, 0, 0)
        reader = open_reader(tmp_path / "live.h5")
        assert reader.n_rows == rows
        writer.append(1, np.zeros((rows, 7)), 2 * np.ones((rows, 1)), np.zeros(7), 0, 0, 0)
        assert reader.refresh() == 2 * rows
        assert reader[rows:, "Output 0"].tolist() == [2.0] * rows
        reader.close()
    finally:
        writer.close()


def test_a_recording_and_its_reader_share_one_nan_rule(recording):
    """`Recording.channel_ranges` (info's summary) and the data layer's reader (the
    browser's lanes) fold through one function: NaN skipped, NaN where nothing was seen."""
    import h5py

    from backend.data.kinds import open_reader
    from backend.recording.reader import Recording

    with h5py.File(recording, "r+") as f:
        outputs = f["outputs"]
        column = outputs[:, 0]
        column[::2] = np.nan  # a dropped sample every other row
        outputs[:, 0] = column
        f["inputs"][:, 0] = np.nan  # a channel with no value at all
        expect_lo, expect_hi = np.nanmin(column), np.nanmax(column)
    rec = Recording(recording)
    try:
        lo, hi = rec.channel_ranges()
    finally:
        rec.close()
    reader = open_reader(recording)
    try:
        reader_lo, reader_hi = reader.channel_ranges()
    finally:
        reader.close()
    np.testing.assert_array_equal(lo, reader_lo)
    np.testing.assert_array_equal(hi, reader_hi)
    n_in = len(rec.input_names)
    assert (lo[n_in], hi[n_in]) == (expect_lo, expect_hi)
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    assert np.isfinite(lo[1:]).all() and np.isfinite(hi[1:]).all()
