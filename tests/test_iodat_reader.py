"""IO.dat reading: chunked and exact, and one clear error per kind of damage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from backend.data.formats.bspysmg import BspysmgFolder, export_bspysmg_folder, import_bspysmg_folder
from backend.data.formats.iodat import count_iodat_rows, iodat_header, read_iodat_layout
from backend.data.formats.textrows import read_iodat, read_iodat_chunks
from backend.errors import FileFormatError


def _copy(folder: Path, tmp_path: Path) -> Path:
    dest = tmp_path / folder.name
    shutil.copytree(folder, dest)
    for f in dest.iterdir():
        f.chmod(0o644)
    return dest


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


def _table(rows: int, cols: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 50, (rows, cols))


def _iodat(path: Path, data: np.ndarray, n_in: int = 7) -> Path:
    with open(path, "wb") as fh:
        np.savetxt(fh, [], header=iodat_header(n_in, data.shape[1] - n_in))
        np.savetxt(fh, data)
    return path


def test_fixture_reads_exactly_like_loadtxt(bspysmg_folder):
    path = bspysmg_folder / "IO.dat"
    expected = np.loadtxt(path)
    x, y = read_iodat(path, 7, 1)
    assert np.array_equal(np.column_stack([x, y]), expected)
    assert count_iodat_rows(path) == len(expected)
    layout = read_iodat_layout(path)
    assert layout.header_lines == 1
    assert layout.names == [f"Input {i}" for i in range(7)] + ["Output 0"]


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_chunks_cover_the_requested_rows_in_order(bspysmg_folder, chunk):
    path = bspysmg_folder / "IO.dat"
    expected = np.loadtxt(path)
    parts = list(read_iodat_chunks(path, 7, 1, chunk, start_row=13, stop_row=333))
    assert [p[0] for p in parts] == list(range(13, 333, chunk))
    assert all(len(p[1]) == min(chunk, 333 - p[0]) for p in parts)
    x = np.concatenate([p[1] for p in parts])
    y = np.concatenate([p[2] for p in parts])
    assert np.array_equal(x, expected[13:333, :7])
    assert np.array_equal(y, expected[13:333, 7:])
    assert x.flags.c_contiguous


def test_blocks_larger_than_a_chunk_and_many_blocks(tmp_path, monkeypatch):
    """Rows crossing the reader's block boundaries still come out exact and in order."""
    import backend.data.formats.iodat_blocks as blocks

    monkeypatch.setattr(blocks, "SCAN_BYTES", 4096)
    data = _table(2000)
    path = _iodat(tmp_path / "IO.dat", data)
    parts = list(read_iodat_chunks(path, 7, 1, 333))
    assert np.array_equal(np.concatenate([np.hstack(p[1:]) for p in parts]), data)


def test_whitespace_variants_fall_back_to_loadtxt(tmp_path):
    data = _table(50)
    lines = ["# Input 0, Input 1, Input 2, Input 3, Input 4, Input 5, Input 6, Output 0"]
    lines += ["\t".join(repr(float(v)) for v in row) + "  " for row in data]
    path = _write(tmp_path / "IO.dat", "\n".join(lines) + "\n")
    x, y = read_iodat(path, 7, 1)
    assert np.array_equal(np.column_stack([x, y]), data)


def test_headerless_file_is_read(tmp_path):
    data = _table(20)
    path = tmp_path / "IO.dat"
    np.savetxt(path, data)
    x, y = read_iodat(path, 7, 1)
    assert np.array_equal(np.column_stack([x, y]), data)


def _error(path: Path, n_in: int = 7, n_out: int = 1) -> str:
    with pytest.raises(FileFormatError) as info:
        read_iodat(path, n_in, n_out)
    return str(info.value)


def test_wrong_column_count_names_the_line(tmp_path):
    data = _table(30)
    path = _iodat(tmp_path / "IO.dat", data)
    text = path.read_text().splitlines()
    text[11] = " ".join(text[11].split()[:-1])  # data row 10 loses its output
    _write(path, "\n".join(text) + "\n")
    message = _error(path)
    assert f"{path}, line 12: 7 values" in message
    assert "8 columns" in message


def test_header_naming_other_columns_is_refused(tmp_path):
    path = _iodat(tmp_path / "IO.dat", _table(5, 9), n_in=8)
    message = _error(path, 7, 1)
    assert "line 1" in message and "header names 9 columns" in message


def test_non_numeric_value_names_line_and_value(tmp_path):
    path = _iodat(tmp_path / "IO.dat", _table(40))
    text = path.read_text().splitlines()
    parts = text[25].split()
    parts[3] = "abc"
    text[25] = " ".join(parts)
    _write(path, "\n".join(text) + "\n")
    assert f"{path}, line 26: value 4 ('abc') is not a number" in _error(path)


def test_nan_row_names_line_and_channel(tmp_path):
    data = _table(40)
    data[17, 7] = np.nan
    data[30, 2] = np.inf
    path = _iodat(tmp_path / "IO.dat", data)
    message = _error(path)
    assert f"{path}, line 19: Output 0 is nan" in message
    assert "2 row(s)" in message


def test_empty_line_is_refused(tmp_path):
    path = _iodat(tmp_path / "IO.dat", _table(10))
    text = path.read_text().splitlines()
    text.insert(5, "")
    _write(path, "\n".join(text) + "\n")
    assert f"{path}, line 6: the line is empty" in _error(path)


def test_truncated_last_line_is_reported(tmp_path):
    path = _iodat(tmp_path / "IO.dat", _table(10))
    raw = path.read_bytes()
    path.write_bytes(raw[:-30])  # cut inside the last value of the last row
    message = _error(path)
    assert f"{path}, line 11: the last line is incomplete" in message
    with pytest.raises(FileFormatError, match="line 11"):
        count_iodat_rows(path)


def test_missing_file():
    with pytest.raises(FileFormatError, match="not found"):
        read_iodat("/nonexistent/IO.dat", 7, 1)


# --- sampling folders --------------------------------------------------------------


def test_folder_reads_config_and_counts_rows(bspysmg_folder):
    with BspysmgFolder(bspysmg_folder) as folder:
        assert folder.n_rows == folder.config.total_rows
        assert folder.batches_done == folder.batches_planned
        assert folder.note == ""
        x, y = folder.read(5, 25)
        expected = np.loadtxt(bspysmg_folder / "IO.dat")[5:25]
        assert np.array_equal(x, expected[:, :7]) and np.array_equal(y, expected[:, 7:])


def test_folder_with_missing_config(tmp_path, bspysmg_folder):
    folder = _copy(bspysmg_folder, tmp_path)
    (folder / "sampler_configs.json").unlink()
    with pytest.raises(FileFormatError, match=r"has no sampler_configs\.json"):
        BspysmgFolder(folder)


def test_rows_not_a_multiple_of_the_batch_length(tmp_path, bspysmg_folder):
    folder = _copy(bspysmg_folder, tmp_path)
    iodat = folder / "IO.dat"
    lines = iodat.read_bytes().splitlines(keepends=True)
    iodat.write_bytes(b"".join(lines[:-7]))  # the last batch loses 7 rows
    with pytest.raises(FileFormatError) as info:
        BspysmgFolder(folder)
    message = str(info.value)
    assert "not a whole number of" in message and "-row batches" in message
    assert f"{iodat}, line " in message


def test_interrupted_sampling_uses_complete_batches(tmp_path, bspysmg_folder):
    folder = _copy(bspysmg_folder, tmp_path)
    with BspysmgFolder(folder) as full:
        bp, planned = full.batch_points, full.batches_planned
    iodat = folder / "IO.dat"
    lines = iodat.read_bytes().splitlines(keepends=True)
    iodat.write_bytes(b"".join(lines[: 1 + 4 * bp]))
    with BspysmgFolder(folder) as part:
        assert part.batches_done == 4 and part.n_rows == 4 * bp
        assert f"4 of the {planned} planned batches" in part.note
        assert part.peer_config()["input_data"]["number_batches"] == 4


def test_more_batches_than_planned_is_refused(tmp_path, bspysmg_folder):
    folder = _copy(bspysmg_folder, tmp_path)
    iodat = folder / "IO.dat"
    with BspysmgFolder(folder) as f:
        bp = f.batch_points
    lines = iodat.read_bytes().splitlines(keepends=True)
    iodat.write_bytes(b"".join(lines + lines[1 : 1 + bp]))
    with pytest.raises(FileFormatError, match="plans number_batches"):
        BspysmgFolder(folder)


def test_iodat_round_trip_is_byte_identical(tmp_path, bspysmg_folder):
    """Fixture IO.dat -> our recording -> exported IO.dat: the same bytes."""
    recording = import_bspysmg_folder(bspysmg_folder, tmp_path / "imported.h5")
    out = export_bspysmg_folder(recording, tmp_path / "exported")
    assert (out / "IO.dat").read_bytes() == (bspysmg_folder / "IO.dat").read_bytes()
    with BspysmgFolder(out) as again, BspysmgFolder(bspysmg_folder) as original:
        assert again.config.to_bspysmg()["input_data"] == original.config.to_bspysmg()["input_data"]
