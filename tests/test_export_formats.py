"""Exports: each format holds exactly the recording's rows, readable without our code."""

from __future__ import annotations

import csv
import json

import h5py
import numpy as np
import pytest
from npztools import PickleBomb

from backend.data.formats.bspysmg import BspysmgFolder, import_bspysmg_folder
from backend.data.formats.npz import UntrustedPickleError, load_npz
from backend.errors import SamplelabError
from backend.export.exporters import export
from backend.recording.reader import Recording


@pytest.fixture
def rows(recording):
    with Recording(recording) as rec:
        return rec.read()


def test_npz_export_has_the_peer_keys_and_all_rows(tmp_path, recording, rows):
    out = export(recording, "npz", tmp_path / "all.npz")
    with np.load(out, allow_pickle=True) as data:
        assert data.files == ["inputs", "outputs", "sampling_configs", "sampling_configs_json"]
        assert np.array_equal(data["inputs"], rows[0])
        assert np.array_equal(data["outputs"], rows[1])
        config = data["sampling_configs"].tolist()
    assert config["input_data"]["amplitude"].dtype == np.float64
    assert load_npz(out).config_source == "json"


def test_csv_export_has_names_units_and_exact_values(tmp_path, recording, rows):
    out = export(recording, "csv", tmp_path / "table.csv")
    with open(out, newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == [f"Input {i} (V)" for i in range(7)] + ["Output 0 (nA)"]
    values = np.array(table[1:], dtype=float)
    assert np.array_equal(values, np.column_stack(rows))


def test_hdf5_export_reads_with_h5py_alone(tmp_path, recording, rows):
    out = export(recording, "hdf5", tmp_path / "plain.h5")
    with h5py.File(out, "r") as f:
        assert np.array_equal(f["inputs"][:], rows[0])
        assert np.array_equal(f["outputs"][:], rows[1])
        assert f["inputs"].attrs["units"] == "V" and f["outputs"].attrs["units"] == "nA"
        config = json.loads(f.attrs["config_json"])
        assert json.loads(f["outputs"].attrs["channel_names"]) == ["Output 0"]
    assert config["driver"]["amplification"] == [39.17]
    assert isinstance(config["input_data"]["amplitude"], list)


def test_iodat_export_of_a_fixture_recording_is_byte_identical(tmp_path, bspysmg_folder):
    recording = import_bspysmg_folder(bspysmg_folder, tmp_path / "rec.h5")
    out = export(recording, "iodat", tmp_path / "folder")
    assert (out / "IO.dat").read_bytes() == (bspysmg_folder / "IO.dat").read_bytes()
    again = export(bspysmg_folder, "iodat", tmp_path / "copy")
    assert (again / "IO.dat").read_bytes() == (bspysmg_folder / "IO.dat").read_bytes()
    with BspysmgFolder(again) as folder:
        assert folder.n_rows == folder.config.total_rows


def test_pngs_are_written(tmp_path, recording):
    for fmt in ("histograms-png", "waveform-png"):
        out = export(recording, fmt, tmp_path / f"{fmt}.png", batch=2)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = export(recording, "waveform-png", tmp_path / "rows.png", rows=(10, 120))
    assert out.stat().st_size > 1000
    with pytest.raises(SamplelabError, match="batch 99 does not exist"):
        export(recording, "waveform-png", tmp_path / "none.png", batch=99)
    assert not (tmp_path / "none.png").exists()


def test_existing_output_needs_overwrite(tmp_path, recording):
    target = tmp_path / "t.csv"
    target.write_text("keep me")
    with pytest.raises(SamplelabError, match="already exists"):
        export(recording, "csv", target)
    assert target.read_text() == "keep me"
    export(recording, "csv", target, overwrite=True)
    assert target.read_text().startswith("Input 0 (V)")


def test_peer_npz_export_follows_the_trust_rule(tmp_path, bspysmg_folder):
    peer = bspysmg_folder / "postprocessed_data.npz"
    export(peer, "csv", tmp_path / "ok.csv")  # arrays only: no pickle needed
    with pytest.raises(UntrustedPickleError, match="trust-pickle"):
        export(peer, "hdf5", tmp_path / "needs-config.h5")
    assert not list(tmp_path.glob("needs-config*"))
    out = export(peer, "hdf5", tmp_path / "trusted.h5", trust_pickle=True)
    with h5py.File(out, "r") as f:
        info = json.loads(f.attrs["config_json"])["electrode_info"]
    assert info["output_electrodes"]["clipping_value"] == [-156.68, 156.68]
    with pytest.raises(SamplelabError, match="not a whole number"):
        export(peer, "iodat", tmp_path / "clipped", trust_pickle=True)


def test_cancelled_export_leaves_nothing(tmp_path, recording):
    from backend.errors import Cancelled
    from backend.jobs import CancelToken

    before = sorted(tmp_path.iterdir())
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        export(recording, "npz", tmp_path / "x.npz", cancel=token)
    assert sorted(tmp_path.iterdir()) == before


def test_pickle_bomb_export_needs_trust_and_never_runs(tmp_path):
    marker = tmp_path / "exploded"
    bomb = tmp_path / "bomb.npz"
    np.savez(
        bomb,
        inputs=np.zeros((4, 7)),
        outputs=np.ones((4, 1)),
        sampling_configs=np.array(PickleBomb(marker), dtype=object),
    )
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("hdf5", "npz"):
        with pytest.raises(UntrustedPickleError):
            export(bomb, fmt, out / f"x.{fmt}")
    csv_out = export(bomb, "csv", out / "arrays.csv")  # arrays only: fine, no pickle
    assert sorted(p.name for p in out.iterdir()) == ["arrays.csv"]
    assert csv_out.read_text().count("\n") == 5
    assert not marker.exists()
