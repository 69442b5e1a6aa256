"""`samplelab info` on every kind: recordings keep their rich summary, others get facts."""

from __future__ import annotations

import json
import pickle

import numpy as np

from app.cli import main
from backend.data.formats.raw import write_raw


def test_info_recording_keeps_the_rich_summary(recording, capsys):
    assert main(["info", str(recording)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("recording") and "batches     6 of 6" in out and "Output 0" in out
    assert main(["info", str(recording), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["kind"] == "recording" and facts["config"]["input_data"]["number_batches"] == 6


def test_info_raw_file_facts(tmp_path, capsys):
    data = np.array([[1, -5], [3, 7], [2, 0]], dtype="<i2")
    path = write_raw(tmp_path / "r.bin", data, sampling_frequency=10.0, channel_names=["a", "b"])
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "kind        raw" in out and "3 rows x 2 channels" in out and "int16" in out
    assert "10 Hz" in out
    assert main(["info", str(path), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["min"], c["max"]) for c in facts["channels"]] == [
        ("a", 1, 3),
        ("b", -5, 7),
    ]


def test_info_bspysmg_folder_and_npz(bspysmg_folder, tmp_path, capsys):
    assert main(["info", str(bspysmg_folder), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    io = np.loadtxt(bspysmg_folder / "IO.dat")
    assert facts["kind"] == "bspysmg-folder" and facts["shape"] == list(io.shape)
    assert facts["channels"][-1]["units"] == "nA"
    assert facts["channels"][-1]["max"] == io[:, -1].max()
    with np.load(bspysmg_folder / "postprocessed_data.npz", allow_pickle=True) as data:
        config = data["sampling_configs"].item()
        np.savez(
            tmp_path / "p.npz",
            inputs=data["inputs"],
            outputs=data["outputs"],
            sampling_configs=config,
        )
    assert main(["info", str(tmp_path / "p.npz")]) == 0
    assert "trust_pickle" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "p.npz"), "--trust-pickle", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sampling_frequency_hz"] > 0


def test_info_key_and_errors(tmp_path, capsys):
    np.savez(tmp_path / "m.npz", a=np.zeros((3, 2)), b=np.arange(4.0))
    assert main(["info", str(tmp_path / "m.npz")]) == 1
    assert "say which one" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "m.npz"), "--key", "b"]) == 0
    assert "4 rows x 1 channels" in capsys.readouterr().out
    with open(tmp_path / "p.pkl", "wb") as fh:
        pickle.dump(np.ones((2, 2)), fh)
    assert main(["info", str(tmp_path / "p.pkl")]) == 1
    assert "trust" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "p.pkl"), "--trust-pickle"]) == 0
    assert "pickle" in capsys.readouterr().out
