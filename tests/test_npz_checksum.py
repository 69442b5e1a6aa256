"""A flipped byte in an npz's float data is refused by every command that reads every row.

A stored (uncompressed) npz member is memory-mapped, so zipfile never checks its
CRC-32; `dataset`, `export`, `train` and `evaluate` ask for `verified=True`
(backend/data/formats/npzfile.py) and refuse the file with one message. `info`
and the browser read windows lazily and still open it.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import BSPYSMG_FIXTURES

from app.cli import main
from backend.data.formats.npzfile import iter_npz_rows, npz_member_array
from backend.errors import FileFormatError

NPZ = BSPYSMG_FIXTURES / "small_sine" / "postprocessed_data.npz"  # the peer's: pickled config
PEER_MODEL = BSPYSMG_FIXTURES / "lifecycle_small_sine" / "training_data.pt"
MESSAGE = "member 'inputs' is damaged (its checksum does not match)"


def _flip_float(src: Path, dst: Path, row: int = 100) -> Path:
    """A copy of `src` with one byte of inputs[row, 0] flipped (the zip's CRC left as it was)."""
    with np.load(src, allow_pickle=False) as data:
        value = data["inputs"][row].tobytes()
    raw = bytearray(src.read_bytes())
    at = raw.find(value)
    assert at > 0 and raw.find(value, at + 1) < 0
    raw[at + 3] ^= 0x10
    dst.write_bytes(bytes(raw))
    return dst


def _cli(capsys, *argv: str) -> tuple[int, str]:
    code = main([*argv, "--trust-pickle"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _commands(path: Path, out: Path) -> dict[str, list[str]]:
    return {
        "dataset": ["dataset", str(path), "--out", str(out / "ds"), "--quiet"],
        "export": ["export", str(path), "--format", "csv", "--out", str(out / "x.csv"), "-q"],
        "train": ["train", str(path), "--out", str(out / "m"), "--epochs", "1", "-q"],
        "evaluate": ["evaluate", str(PEER_MODEL), str(path), "--out", str(out / "ev")],
    }


@pytest.mark.parametrize("command", ["dataset", "export", "train", "evaluate"])
def test_whole_read_commands_refuse_a_flipped_float(tmp_path, capsys, command):
    path = _flip_float(NPZ, tmp_path / "postprocessed_data.npz")
    out = tmp_path / "out"
    code, err = _cli(capsys, *_commands(path, out)[command])
    assert code == 1, err
    assert err.count("samplelab: error:") == 1
    assert f"{path}: {MESSAGE}" in err and "restore it from a copy" in err
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_an_intact_copy_passes_and_info_stays_lazy(tmp_path, capsys):
    intact = shutil.copy(NPZ, tmp_path / "intact.npz")
    for command in ("dataset", "export"):
        code, err = _cli(capsys, *_commands(Path(intact), tmp_path / "out")[command])
        assert code == 0, err
    flipped = _flip_float(NPZ, tmp_path / "flipped.npz")
    assert main(["info", str(flipped)]) == 0  # browsing reads windows: no full pass at open
    assert npz_member_array(flipped, "inputs").shape == npz_member_array(NPZ, "inputs").shape


def test_compressed_members_still_read_and_are_checked_too(tmp_path, capsys):
    with zipfile.ZipFile(NPZ) as src, zipfile.ZipFile(tmp_path / "c.npz", "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), zipfile.ZIP_DEFLATED)
    packed = tmp_path / "c.npz"
    expected = npz_member_array(NPZ, "inputs")
    assert np.array_equal(npz_member_array(packed, "inputs", verified=True), expected)
    code, err = _cli(capsys, *_commands(packed, tmp_path / "out")["dataset"])
    assert code == 0, err
    # a damaged deflate stream or CRC: the same kind of message, never a traceback
    raw = bytearray(packed.read_bytes())
    with zipfile.ZipFile(packed) as zf:
        info = zf.getinfo("inputs.npy")
    raw[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0x10
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(raw))
    code, err = _cli(capsys, *_commands(bad, tmp_path / "out2")["dataset"])
    assert code == 1 and "member 'inputs' is damaged" in err, err


def test_row_streams_check_the_crc_at_the_members_end(tmp_path):
    flipped = _flip_float(NPZ, tmp_path / "flipped.npz")
    with pytest.raises(FileFormatError, match=re.escape(MESSAGE)):
        list(iter_npz_rows(flipped, "inputs", rows=64))
    assert sum(len(b) for _, b in iter_npz_rows(NPZ, "inputs", rows=64)) == 676
