"""load_data / open_reader: every file kind round-trips, in odd paths and at odd sizes."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import h5py
import joblib
import numpy as np
import pytest
import scipy.io
import torch
import yaml

from backend.data.formats.raw import write_raw
from backend.data.kinds import describe_file, detect_kind, load_data, open_reader
from backend.errors import FileFormatError

ODD_DIRS = ["plain", "données µV 測定"]  # non-ASCII paths


def _table(rows: int, cols: int = 3, dtype=np.float64) -> np.ndarray:
    data = np.arange(rows * cols, dtype=np.float64).reshape(rows, cols) * 0.5 - 3
    return data.astype(dtype)


# --- writers for each kind: (suffix, write(path, array), load kwargs) ---------------
def _npy(p, a):
    np.save(p, a)


def _npy_fortran(p, a):
    np.save(p, np.asfortranarray(a))


def _npz(p, a):
    np.savez(p, signal=a)


def _npz_compressed(p, a):
    np.savez_compressed(p, signal=a)


def _h5(p, a):
    with h5py.File(p, "w") as f:
        f.create_dataset("group/signal", data=a, maxshape=(None, a.shape[1]), chunks=True)


def _mat5(p, a):
    scipy.io.savemat(p, {"signal": a})


def _mat73(p, a):
    """What MATLAB's save -v7.3 writes: a 512-byte header block, the matrix transposed."""
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("signal", data=np.ascontiguousarray(a.T))
    with open(p, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: x HDF5 schema 1.00 .")


def _raw_samples(p, a):
    write_raw(p, a, order="samples")


def _raw_channels(p, a):
    write_raw(p, a, order="channels")


def _raw_yass_yaml(p, a):
    """yass's sidecar: same stem, .yaml, `data_order`."""
    np.ascontiguousarray(a.T).tofile(p)
    meta = {"dtype": str(a.dtype), "n_channels": a.shape[1], "data_order": "channels"}
    Path(p).with_suffix(".yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")


def _csv(p, a):
    np.savetxt(p, a, delimiter=",", header="a,b,c", comments="", fmt="%.17g")


def _tsv_no_header(p, a):
    np.savetxt(p, a, delimiter="\t", fmt="%.17g")


def _pt(p, a):
    torch.save({"signal": torch.from_numpy(a)}, p)


def _pickle(p, a):
    with open(p, "wb") as fh:
        pickle.dump({"signal": a}, fh)


def _joblib(p, a):
    joblib.dump({"signal": a}, p)


WRITERS = {
    "npy": (".npy", _npy, {}),
    "npy-fortran": (".npy", _npy_fortran, {}),
    "npz": (".npz", _npz, {}),
    "npz-compressed": (".npz", _npz_compressed, {}),
    "hdf5": (".h5", _h5, {"key": "group/signal"}),
    "mat-v5": (".mat", _mat5, {}),
    "mat-v7.3": (".mat", _mat73, {}),
    "raw-samples": (".bin", _raw_samples, {}),
    "raw-channels": (".bin", _raw_channels, {}),
    "raw-yass-yaml": (".bin", _raw_yass_yaml, {}),
    "csv": (".csv", _csv, {}),
    "tsv": (".tsv", _tsv_no_header, {}),
    "torch": (".pt", _pt, {}),
    "pickle": (".pkl", _pickle, {"trust_pickle": True}),
    "joblib": (".jl", _joblib, {"trust_pickle": True}),
}
TEXT = {"csv", "tsv"}


#: Zero rows cannot round-trip through text or .mat v5 (no shape is stored); the
#: header-only and empty cases below cover those.
ROUND_TRIPS = [
    (kind, rows)
    for kind in WRITERS
    for rows in (0, 1, 257)
    if not (rows == 0 and kind in TEXT | {"mat-v5"})
]


@pytest.mark.parametrize("folder", ODD_DIRS)
@pytest.mark.parametrize(("kind", "rows"), ROUND_TRIPS)
def test_round_trip(tmp_path, kind, rows, folder):
    suffix, write, kwargs = WRITERS[kind]
    where = tmp_path / folder
    where.mkdir()
    path = where / f"data ü{suffix}"
    original = _table(rows)
    write(path, original)
    loaded = load_data(path, **kwargs)
    assert loaded.shape == original.shape
    np.testing.assert_array_equal(loaded, original)
    with open_reader(path, **kwargs) as reader:
        assert reader.shape == original.shape
        np.testing.assert_array_equal(reader[:, [2, 0]], original[:, [2, 0]])


def test_int16_raw_and_columns_by_name(tmp_path):
    data = _table(100, 4, np.int16)
    write_raw(tmp_path / "x.bin", data, channel_names=["a", "b", "c", "d"], units=["V"] * 4)
    assert load_data(tmp_path / "x.bin").dtype == np.int16
    np.testing.assert_array_equal(
        load_data(tmp_path / "x.bin", columns=["d", "a"]), data[:, [3, 0]]
    )


def test_csv_header_names_and_empty_cells(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,volt\n0,1.5\n1,\n2,3\n", encoding="utf-8")
    reader = open_reader(path)
    assert reader.channel_names == ["time", "volt"]
    got = reader.read()
    assert got.shape == (3, 2) and np.isnan(got[1, 1]) and got[2, 1] == 3


def test_csv_header_only_is_zero_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n", encoding="utf-8")
    assert load_data(path).shape == (0, 3)


def test_empty_csv_is_a_clear_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match="no data"):
        load_data(path)


def test_mat_v5_empty_and_row_vector(tmp_path):
    scipy.io.savemat(tmp_path / "e.mat", {"x": np.zeros((0, 3))})
    assert load_data(tmp_path / "e.mat").shape == (0, 3)
    scipy.io.savemat(tmp_path / "r.mat", {"x": np.arange(3.0)})  # MATLAB keeps (1, 3)
    assert load_data(tmp_path / "r.mat").shape == (1, 3)


def test_ambiguous_files_list_their_candidates(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((4, 2)), b=np.ones(3))
    with pytest.raises(FileFormatError, match=r"a \(4, 2\) float64, b \(3,\) float64"):
        load_data(tmp_path / "two.npz")
    with h5py.File(tmp_path / "two.h5", "w") as f:
        f["x"] = np.zeros((5, 2))
        f["y/z"] = np.zeros(7, dtype=np.int32)
    with pytest.raises(FileFormatError, match=r"x \(5, 2\).*y/z \(7,\) int32"):
        load_data(tmp_path / "two.h5")
    scipy.io.savemat(tmp_path / "two.mat", {"p": np.zeros((2, 2)), "q": np.zeros((3, 1))})
    with pytest.raises(FileFormatError, match="2 variables"):
        load_data(tmp_path / "two.mat")
    torch.save({"w": torch.zeros(2, 2), "b": torch.zeros(2)}, tmp_path / "two.pt")
    with pytest.raises(FileFormatError, match=r"w \(2, 2\), b \(2,\)"):
        load_data(tmp_path / "two.pt")
    np.testing.assert_array_equal(load_data(tmp_path / "two.pt", key="b"), np.zeros((2, 1)))


def test_missing_key_lists_what_exists(tmp_path):
    np.savez(tmp_path / "a.npz", a=np.zeros(3))
    with pytest.raises(FileFormatError, match=r"no member 'nope'(.|\n)*Members: a"):
        load_data(tmp_path / "a.npz", key="nope")


def test_pickle_needs_trust(tmp_path):
    path = tmp_path / "p.pkl"
    with open(path, "wb") as fh:
        pickle.dump(np.zeros((2, 2)), fh)
    with pytest.raises(FileFormatError, match="trust_pickle"):
        load_data(path)
    joblib.dump(np.zeros(2), tmp_path / "j.joblib")
    with pytest.raises(FileFormatError, match="trust_pickle"):
        load_data(tmp_path / "j.joblib")


def test_torch_file_with_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"cls": FileFormatError("x")}, path)
    with pytest.raises(FileFormatError, match="not plain weights"):
        load_data(path)


def test_npz_object_member_needs_trust(tmp_path):
    path = tmp_path / "o.npz"
    np.savez(path, meta=np.array({"x": np.arange(3.0)}, dtype=object))
    with pytest.raises(FileFormatError, match="pickled"):
        load_data(path, key="meta")
    assert load_data(path, key="meta", trust_pickle=True).shape == (3, 1)


def test_raw_without_sidecar_explains_what_to_add(tmp_path):
    (tmp_path / "r.bin").write_bytes(b"\0" * 16)
    with pytest.raises(FileFormatError, match="sidecar"):
        load_data(tmp_path / "r.bin")
    got = load_data(tmp_path / "r.bin", dtype="<i2", n_channels=2)
    assert got.shape == (4, 2)


def test_raw_sidecar_problems_are_listed(tmp_path):
    (tmp_path / "r.bin").write_bytes(b"\0" * 12)
    (tmp_path / "r.bin.json").write_text(
        json.dumps({"dtype": "object", "n_channels": 0, "order": "wide"}), encoding="utf-8"
    )
    with pytest.raises(FileFormatError) as err:
        load_data(tmp_path / "r.bin")
    text = str(err.value)
    assert "not numeric" in text and "n_channels" in text and "order" in text


def test_raw_size_must_match_sidecar(tmp_path):
    write_raw(tmp_path / "r.bin", np.zeros((10, 3)))
    with open(tmp_path / "r.bin", "ab") as fh:
        fh.write(b"\0" * 4)
    with pytest.raises(FileFormatError, match="whole number of rows"):
        load_data(tmp_path / "r.bin")


def test_recording_reads_inputs_and_outputs_side_by_side(recording):
    from backend.recording.reader import Recording

    with Recording(recording) as rec:
        x, y = rec.read()
        names = rec.channel_names
    assert detect_kind(recording) == "recording"
    with open_reader(recording) as reader:
        assert reader.channel_names == names
        assert reader.units == ["V"] * x.shape[1] + ["nA"] * y.shape[1]
        np.testing.assert_array_equal(reader.read(), np.hstack([x, y]))
        np.testing.assert_array_equal(reader[10:20, ["Output 0", 0]], np.hstack([y, x])[10:20, :2])
    np.testing.assert_array_equal(load_data(recording, key="outputs"), y)


def test_bspysmg_folder_and_npz(bspysmg_folder, tmp_path):
    io = np.loadtxt(bspysmg_folder / "IO.dat")
    np.testing.assert_array_equal(load_data(bspysmg_folder), io)
    np.testing.assert_array_equal(load_data(bspysmg_folder / "IO.dat"), io)
    peer = np.load(bspysmg_folder / "postprocessed_data.npz", allow_pickle=True)
    table = load_data(bspysmg_folder / "postprocessed_data.npz")  # no pickle needed for data
    np.testing.assert_array_equal(table, np.hstack([peer["inputs"], peer["outputs"]]))
    config = peer["sampling_configs"].item()
    copy = tmp_path / "peer.npz"  # written as the peer's save_npz writes: config pickled only
    np.savez(copy, inputs=peer["inputs"], outputs=peer["outputs"], sampling_configs=config)
    reader = open_reader(copy)
    assert reader.fs is None and "trust_pickle" in reader.notes[0]
    trusted = open_reader(copy, trust_pickle=True)
    assert (
        trusted.fs
        == peer["sampling_configs"].item()["driver"]["instruments_setup"][
            "activation_sampling_frequency"
        ]
    )


def test_unknown_and_misnamed_files(tmp_path):
    (tmp_path / "x.weird").write_bytes(b"hello")
    with pytest.raises(FileFormatError, match="unknown kind of file"):
        load_data(tmp_path / "x.weird")
    (tmp_path / "x.npy").write_bytes(b"not numpy")
    with pytest.raises(FileFormatError, match=r"not a valid \.npy"):
        load_data(tmp_path / "x.npy")
    np.save(tmp_path / "real.npy", np.ones((2, 2)))
    (tmp_path / "real.npy").rename(tmp_path / "misnamed.dat")  # content decides
    assert load_data(tmp_path / "misnamed.dat").shape == (2, 2)
    with pytest.raises(FileFormatError, match="not found"):
        load_data(tmp_path / "missing.h5")
    (tmp_path / "folder").mkdir()
    with pytest.raises(FileFormatError, match="not a bspysmg sampling folder"):
        load_data(tmp_path / "folder")


def test_whitespace_dat_tables_read_without_a_sidecar(tmp_path):
    data = _table(20, 4)
    np.savetxt(tmp_path / "scan.dat", data)
    assert detect_kind(tmp_path / "scan.dat") == "iodat"
    np.testing.assert_array_equal(load_data(tmp_path / "scan.dat"), data)


def test_3d_arrays_are_refused_with_their_shape(tmp_path):
    np.save(tmp_path / "c.npy", np.zeros((2, 3, 4)))
    with pytest.raises(FileFormatError, match=r"\(2, 3, 4\)"):
        load_data(tmp_path / "c.npy")


def test_describe_file_gives_facts_for_any_kind(tmp_path):
    data = _table(50)
    write_raw(tmp_path / "r.bin", data, sampling_frequency=100.0, units=["V", "V", "nA"])
    facts = describe_file(tmp_path / "r.bin")
    assert facts["kind"] == "raw" and facts["shape"] == [50, 3]
    assert facts["sampling_frequency_hz"] == 100.0 and facts["duration_s"] == 0.5
    assert [c["min"] for c in facts["channels"]] == data.min(0).tolist()
    assert [c["max"] for c in facts["channels"]] == data.max(0).tolist()
    assert facts["channels"][2]["units"] == "nA"
