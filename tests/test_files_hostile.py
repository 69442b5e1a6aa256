"""Hostile non-HDF5 data files through the real CLI: one clear message, nothing unpickled.

npz files with an object-dtype JSON config, a header claiming more rows than
stored, a malformed config (`"driver": 5`); NaN/inf rows (dataset and
postprocess refuse them alike, see backend/data/finiterows.py); IO.dat damage
named by its real line; a 3,000,000-value line; FIFOs, devices and folders
given as data files (issue 12, items 6, 8 and 11).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import BSPYSMG_FIXTURES, ROOT, small_config
from npztools import PickleBomb

from app.cli import main
from backend.config import bspysmg_config_dict
from backend.data.formats.npz_write import config_to_json

SOURCE = BSPYSMG_FIXTURES / "small_sawtooth"


def _npz(path: Path, **members) -> Path:
    rng = np.random.default_rng(0)
    data = {
        "inputs": rng.uniform(-0.5, 0.5, (300, 7)),
        "outputs": rng.normal(0, 10, (300, 1)),
        "sampling_configs_json": np.array(config_to_json(bspysmg_config_dict(small_config()))),
    }
    data.update(members)
    np.savez(path, **data)
    return path


def _cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _dataset(capsys, source: Path, out: Path) -> tuple[int, str]:
    return _cli(capsys, "dataset", str(source), "--out", str(out), "--quiet")


def test_object_dtype_json_config_is_never_unpickled(tmp_path, capsys):
    marker = tmp_path / "pwned"
    bomb = np.empty((), dtype=object)
    bomb[()] = PickleBomb(marker)
    path = _npz(tmp_path / "bad.npz", sampling_configs_json=bomb)
    code, err = _dataset(capsys, path, tmp_path / "ds")
    assert code == 1 and "sampling_configs_json is a object array" in err
    assert "never read" in err
    assert not marker.exists()
    assert not (tmp_path / "ds").exists() or list((tmp_path / "ds").iterdir()) == []


def _grow_header(src: Path, dst: Path, key: str, factor: int) -> Path:
    """`dst`: `src` with member `key`'s header claiming `factor` times its rows."""
    with np.load(src) as data:
        array = data[key]
    buf = io.BytesIO()
    np.save(buf, array)
    raw = buf.getvalue()
    old = f"({array.shape[0]}, ".encode()
    new = f"({array.shape[0] * factor}, ".encode()
    header_len = int.from_bytes(raw[8:10], "little")
    padded = (
        raw[10 : 10 + header_len].replace(old, new).replace(b" " * len(new), b" " * len(old), 1)
    )
    raw = raw[:10] + padded[:header_len] + raw[10 + header_len :]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, raw if info.filename == f"{key}.npy" else zin.read(info))
    return dst


def test_config_without_what_a_dataset_states(tmp_path, capsys):
    config = np.array(config_to_json({"driver": {"amplification": [1.0]}, "input_data": {}}))
    path = _npz(tmp_path / "thin.npz", sampling_configs_json=config)
    code, err = _dataset(capsys, path, tmp_path / "ds")
    assert code == 1 and "lacks what a dataset states" in err


@pytest.mark.parametrize("command", ["info", "dataset", "export"])
def test_header_claiming_more_rows_than_stored(tmp_path, capsys, command):
    path = _grow_header(_npz(tmp_path / "ok.npz"), tmp_path / "cut.npz", "inputs", 1000)
    argv = {
        "info": ["info", str(path)],
        "dataset": ["dataset", str(path), "--out", str(tmp_path / "ds"), "--quiet"],
        "export": ["export", str(path), "--format", "csv", "--out", str(tmp_path / "x.csv")],
    }[command]
    code, err = _cli(capsys, *argv)
    assert code == 1
    assert "damaged" in err or "input rows but" in err
    assert "mmap" not in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    "config",
    [
        {"driver": 5, "input_data": {}},
        {"driver": {"amplification": "x"}, "input_data": 3},
        {"driver": {"instruments_setup": [1]}},
        {"driver": {"amplification": {"__ndarray__": [1], "dtype": "O", "shape": [1]}}},
        {"driver": {"amplification": {"__ndarray__": [1], "dtype": "nonsense"}}},
    ],
)
def test_malformed_json_config_is_one_message(tmp_path, capsys, config):
    path = _npz(tmp_path / "odd.npz", sampling_configs_json=np.array(json.dumps(config)))
    code, err = _dataset(capsys, path, tmp_path / "ds")
    assert code == 1
    assert "sampling config is malformed" in err or "not valid JSON" in err


# --- NaN / inf rows: one rule for dataset and postprocess ------------------------------


def _folder_with(tmp_path: Path, line: int, text: str) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(SOURCE, folder)
    (folder / "IO.dat").chmod(0o644)
    lines = (folder / "IO.dat").read_text().split("\n")
    lines[line - 1] = text
    (folder / "IO.dat").write_text("\n".join(lines))
    return folder


def test_nan_rows_are_refused_alike_by_dataset_and_postprocess(tmp_path, capsys):
    folder = _folder_with(tmp_path, 201, " ".join(["nan"] + ["0.1"] * 7))
    code, err = _cli(capsys, "postprocess", str(folder), "--out", str(tmp_path / "pp"), "-q")
    assert code == 1 and "line 201" in err and "NaN or infinite" in err
    code, err = _dataset(capsys, folder, tmp_path / "ds")
    assert code == 1 and "line 201" in err
    assert not (tmp_path / "pp" / "postprocessed_data.npz").exists()

    outputs = np.random.default_rng(1).normal(0, 10, (300, 1))
    outputs[41, 0] = np.inf
    npz = _npz(tmp_path / "inf.npz", outputs=outputs)
    code, err = _dataset(capsys, npz, tmp_path / "ds2")
    assert code == 1 and "row 42: Output 0 is inf" in err and "cannot train" in err
    assert not (tmp_path / "ds2").exists() or list((tmp_path / "ds2").iterdir()) == []


# --- IO.dat damage: the real line, never a hang -----------------------------------------


@pytest.mark.parametrize("line", [2, 201, 600])
@pytest.mark.parametrize("junk", ["garbage 1 2 3", "x " * 8, "", "1 2 3 4 5 6 7 inf"])
def test_a_garbage_line_is_reported_with_its_real_line_number(tmp_path, capsys, line, junk):
    if line == 2 and junk == "":
        pytest.skip("browsing skips blank lines before the data, by design")
    folder = _folder_with(tmp_path, line, junk)
    browse = [] if "inf" in junk else [["info", str(folder)]]  # browsing shows NaN/inf
    for argv in (
        *browse,
        ["postprocess", str(folder), "--out", str(tmp_path / "pp"), "-q", "--no-figure"],
        ["dataset", str(folder), "--out", str(tmp_path / "ds"), "--quiet"],
    ):
        code, err = _cli(capsys, *argv)
        assert code == 1 and f"IO.dat, line {line}:" in err, (argv, err)


def test_a_3_million_value_line_ends_with_its_line_and_exits(tmp_path):
    folder = _folder_with(tmp_path, 6, " ".join(["1.0"] * 3_000_000))
    done = subprocess.run(
        [sys.executable, "-m", "app", "info", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "IO.dat, line 6: the line is longer than 1 MB" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", ["info", "postprocess", "dataset", "export"])
def test_fifos_devices_and_folders_as_data_files(tmp_path, capsys, command):
    fifo = tmp_path / "data.npz"
    os.mkfifo(fifo)
    folder = tmp_path / "run"
    shutil.copytree(SOURCE, folder)
    (folder / "IO.dat").unlink()
    os.mkfifo(folder / "IO.dat")
    for path in (fifo, Path("/dev/zero"), folder / "IO.dat", folder):
        argv = {
            "info": ["info", str(path)],
            "postprocess": ["postprocess", str(path), "--out", str(tmp_path / "pp"), "-q"],
            "dataset": ["dataset", str(path), "--out", str(tmp_path / "ds"), "--quiet"],
            "export": ["export", str(path), "--format", "csv", "--out", str(tmp_path / "x.csv")],
        }[command]
        code, err = _cli(capsys, *argv)
        assert code == 1 and "must be a regular file" in err, (path, err)
