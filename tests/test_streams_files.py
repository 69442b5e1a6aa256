"""File streams: each format, the HDF5 writer round trip, and following a growing file."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from backend.config import load_config
from backend.data.formats import iodat_blocks
from backend.data.formats.raw import BinaryReader
from backend.errors import FileFormatError, RecordingError, SamplelabError
from backend.recording.reader import Recording
from backend.streams import (
    FileStream,
    H5StreamWriter,
    HDF5Stream,
    IodatStream,
    NpyStream,
    NpzStream,
    RawStream,
    RecordingStream,
    SequenceStream,
    StreamError,
    open_stream,
)

DATA = np.random.default_rng(7).normal(size=(1000, 4))


def test_a_recording_streams_its_inputs_then_outputs(recording):
    with Recording(recording) as rec:
        inputs, outputs = rec.read()
        names, fs = rec.channel_names, rec.fs
    with open_stream(recording) as stream:
        assert isinstance(stream, RecordingStream)
        assert stream.names == names and stream.fs == fs
        assert stream.units == ["V"] * 7 + ["nA"]
        got = np.concatenate(list(stream.chunks(77)))
    np.testing.assert_array_equal(got, np.hstack([inputs, outputs]))
    with RecordingStream(recording, part="outputs") as outs:
        assert outs.names == ["Output 0"]
        np.testing.assert_array_equal(outs.get(10**6), outputs)
    with RecordingStream(recording, channels=["Output 0", 2]) as picked:
        np.testing.assert_array_equal(picked.get(5), np.hstack([outputs, inputs])[:5, [0, 3]])


def test_npy_is_memory_mapped_in_either_order(tmp_path):
    np.save(tmp_path / "a.npy", DATA.astype(np.float32))
    np.save(tmp_path / "b.npy", np.ascontiguousarray(DATA.T))
    with NpyStream(tmp_path / "a.npy", fs=50, names=list("wxyz")) as stream:
        assert isinstance(stream.reader, BinaryReader)  # reads through windowed memory maps
        assert stream.names == list("wxyz") and stream.fs == 50
        np.testing.assert_array_equal(stream.get(2000), DATA.astype(np.float32))
    with open_stream(tmp_path / "b.npy", order="channels") as stream:
        stream.seek(500)
        np.testing.assert_array_equal(stream.get(3), DATA[500:503])


def test_npy_refuses_pickled_or_non_table_content(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    with pytest.raises(FileFormatError):
        NpyStream(tmp_path / "obj.npy")
    with pytest.raises(FileFormatError, match="3-D"):
        NpyStream(tmp_path / "cube.npy")


def test_bspysmg_npz_reads_inputs_and_outputs_lazily(bspysmg_folder):
    path = bspysmg_folder / "postprocessed_data.npz"
    with np.load(path, allow_pickle=False) as z:
        inputs, outputs = z["inputs"], z["outputs"]
    with open_stream(path) as stream:
        assert isinstance(stream, NpzStream)
        assert all(isinstance(p, np.memmap) for p in stream.reader.pieces)
        assert stream.names[-1] == "Output 0" and stream.units[-1] == "nA"
        assert stream.fs == load_config(bspysmg_folder).fs  # from sampler_configs.json
        got = np.concatenate(list(stream.chunks(101)))
    np.testing.assert_array_equal(got, np.hstack([inputs, outputs]))


def test_npz_members_by_key_compressed_or_not(tmp_path):
    np.savez_compressed(tmp_path / "c.npz", signal=DATA, other=DATA[:, :1])
    with NpzStream(tmp_path / "c.npz", keys=["signal", "other"], fs=8) as stream:
        np.testing.assert_array_equal(stream.get(10**4), np.hstack([DATA, DATA[:, :1]]))
    with pytest.raises(FileFormatError, match="which to read"):
        NpzStream(tmp_path / "c.npz")
    with pytest.raises(FileFormatError, match="no member"):
        NpzStream(tmp_path / "c.npz", keys=["missing"])
    np.savez(tmp_path / "one.npz", only=DATA[:, 0])
    with open_stream(tmp_path / "one.npz") as stream:
        np.testing.assert_array_equal(stream.get(10**4)[:, 0], DATA[:, 0])


def test_iodat_folders_stream_the_peers_text_table(bspysmg_folder):
    expected = np.loadtxt(bspysmg_folder / "IO.dat")
    with open_stream(bspysmg_folder) as stream:
        assert isinstance(stream, IodatStream)
        assert stream.names == [f"Input {i}" for i in range(7)] + ["Output 0"]
        assert stream.units == ["V"] * 7 + ["nA"]
        assert stream.fs == load_config(bspysmg_folder).fs
        np.testing.assert_array_equal(np.concatenate(list(stream.chunks(33))), expected)


def test_iodat_windows_are_found_through_the_line_index(tmp_path, monkeypatch):
    monkeypatch.setattr(iodat_blocks, "INDEX_EVERY", 7)
    np.savetxt(tmp_path / "IO.dat", DATA, header="Input 0, Input 1, Input 2, Output 0")
    with IodatStream(tmp_path / "IO.dat", fs=100) as stream:
        assert len(stream) == 1000 and stream.fs == 100
        for start, n in ((0, 1), (6, 2), (7, 7), (13, 100), (995, 20)):
            stream.seek(start)
            np.testing.assert_array_equal(stream.get(n), DATA[start : start + n])


def test_iodat_with_bad_rows_is_a_clear_error(tmp_path):
    (tmp_path / "IO.dat").write_text("# Input 0, Output 0\n1 2\n3 x\n")
    with IodatStream(tmp_path) as stream, pytest.raises(FileFormatError, match="not numbers"):
        stream.get(2)


@pytest.mark.parametrize("sidecar", ["json", "yaml"])
@pytest.mark.parametrize("order", ["samples", "channels"])
def test_raw_binaries_are_described_by_their_sidecar(tmp_path, sidecar, order):
    stored = DATA.astype("<i2") if order == "samples" else DATA.T.astype("<i2")
    stored.tofile(tmp_path / "sig.raw")
    spec = {"dtype": "<i2", "n_channels": 4, "order": order, "sampling_frequency": 20000}
    spec["channel_names"] = ["a", "b", "c", "d"]
    if sidecar == "json":
        (tmp_path / "sig.raw.json").write_text(json.dumps(spec))
    else:
        (tmp_path / "sig.yaml").write_text(
            "\n".join(f"{k}: {json.dumps(v)}" for k, v in spec.items())
        )
    with open_stream(tmp_path / "sig.raw") as stream:
        assert isinstance(stream, RawStream)
        assert stream.fs == 20000 and stream.names == ["a", "b", "c", "d"]
        np.testing.assert_array_equal(
            np.concatenate(list(stream.chunks(333))), DATA.astype("<i2").astype(float)
        )


def test_raw_without_or_with_a_broken_sidecar_is_refused(tmp_path):
    DATA.tofile(tmp_path / "x.bin")
    with pytest.raises(FileFormatError, match="no sidecar"):
        RawStream(tmp_path / "x.bin")
    with pytest.raises(FileFormatError, match="sidecar"):
        open_stream(tmp_path / "x.bin")
    (tmp_path / "x.bin.json").write_text('{"dtype": "<f8"}')
    with pytest.raises(FileFormatError, match="n_channels"):
        RawStream(tmp_path / "x.bin")
    (tmp_path / "x.bin.json").write_text("{not json")
    with pytest.raises(FileFormatError, match="not readable"):
        RawStream(tmp_path / "x.bin")


def test_writer_and_reader_round_trip_exactly(tmp_path):
    path = tmp_path / "out.h5"
    source = SequenceStream(DATA, fs=Fraction(1, 3), names=list("abcd"), units=["V"] * 4)
    with H5StreamWriter.like(source, path) as writer:
        for chunk in source.chunks(299):
            writer.put(chunk)
        assert len(writer) == 1000
        with pytest.raises(StreamError, match="write-only"):
            writer.get(1)
    with open_stream(path) as stream:
        assert isinstance(stream, HDF5Stream)
        assert stream.rate == Fraction(1, 3)  # the exact rate survives, not 0.333...
        assert (stream.names, stream.units) == (list("abcd"), ["V"] * 4)
        np.testing.assert_array_equal(stream.get(5000), DATA)
    with pytest.raises(RecordingError, match="exists"):
        H5StreamWriter(path, 4)


def test_a_writer_that_fails_marks_its_file_failed(tmp_path):
    path = tmp_path / "bad.h5"
    with pytest.raises(RuntimeError), H5StreamWriter(path, 1) as writer:
        writer.put(np.ones(3))
        raise RuntimeError("model crashed")
    reader = HDF5Stream(path).reader
    assert reader.n_rows == 3 and not reader.live
    assert reader._f["status"][()] == b"failed"
    reader.close()


def test_following_a_growing_file_ends_only_when_its_writer_closes(tmp_path):
    path = tmp_path / "live.h5"
    writer = H5StreamWriter(path, 4, fs=100)
    writer.put(DATA[:300])
    with HDF5Stream(path, follow=True) as stream:
        assert stream.length is None and stream.available == 300
        np.testing.assert_array_equal(stream.get(1000), DATA[:300])
        assert not stream.ended
        writer.put(DATA[300:])
        np.testing.assert_array_equal(stream.get(1000), DATA[300:])
        writer.close()
        assert stream.ended and len(stream) == 1000


def test_any_2d_dataset_of_an_hdf5_file(tmp_path):
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["group/signal"] = DATA[:, 0]
        f["group/signal"].attrs["sampling_frequency"] = 250.0
    with pytest.raises(FileFormatError, match="dataset"):
        open_stream(tmp_path / "other.h5")
    with open_stream(tmp_path / "other.h5", dataset="group/signal") as stream:
        assert stream.channels == 1 and stream.fs == 250
        np.testing.assert_array_equal(stream.get(2000)[:, 0], DATA[:, 0])


def test_open_stream_says_what_it_cannot_open(tmp_path):
    with pytest.raises(FileFormatError, match="no such"):
        open_stream(tmp_path / "missing.npy")
    with pytest.raises(FileFormatError, match="not a bspysmg sampling folder"):
        open_stream(tmp_path)
    with pytest.raises(StreamError, match="no channel named"):
        np.save(tmp_path / "a.npy", DATA)
        NpyStream(tmp_path / "a.npy", channels=["nope"])


def test_file_streams_take_the_data_layers_readers():
    """FileStream needs only n_rows, channel_names, units, fs, read and close."""

    class Table:
        n_rows, channel_names, units, fs = 1000, list("abcd"), [""] * 4, 2.0
        closed = False

        def read(self, start, stop):
            return DATA[start:stop]

        def close(self):
            self.closed = True

    table = Table()
    with FileStream(table) as stream:
        assert stream.fs == 2.0
        np.testing.assert_array_equal(np.concatenate(list(stream.chunks(128))), DATA)
    assert table.closed


@pytest.mark.parametrize("name", ["x.npy", "x.npz", "IO.dat", "x.h5", "x.txt"])
def test_random_bytes_give_one_clear_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(len(name)).bytes(3000))
    with pytest.raises(SamplelabError), open_stream(path) as stream:
        stream.get(10)


def test_the_data_layer_opens_stream_files_as_streams_even_while_written(tmp_path):
    from backend.data.kinds import describe_file, detect_kind, load_data, open_reader

    path = tmp_path / "filtered.h5"
    writer = H5StreamWriter(path, 4, fs=250, names=list("abcd"), units=["nA"] * 4)
    writer.put(DATA[:300])
    assert detect_kind(path) == "stream"
    with open_reader(path) as reader:
        assert reader.n_rows == 300 and reader.live  # only rows /rows counts
        assert (reader.channel_names, reader.units, reader.fs) == (list("abcd"), ["nA"] * 4, 250)
        writer.put(DATA[300:])
        assert reader.refresh() == 1000
        np.testing.assert_array_equal(reader.read(), DATA)
    writer.close()
    facts = describe_file(path)
    assert facts["kind"] == "samplelab-stream" and facts["rows"] == 1000
    np.testing.assert_array_equal(load_data(path, key="data"), DATA)  # any dataset by key
