"""Finished files go into place through backend.files: never half-written, clear when held open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.cli import main
from backend import files
from backend.errors import FileInUseError


def _held_open(monkeypatch, target_name: str, times: int | None = None) -> list[Path]:
    """Make os.replace onto files named `target_name` fail as Windows does while it is open."""
    real = os.replace
    refused: list[Path] = []

    def replace(src, dst):
        if Path(dst).name == target_name and (times is None or len(refused) < times):
            refused.append(Path(dst))
            raise PermissionError(13, "Access is denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return refused


def test_replace_file_moves_the_finished_file_over_the_old(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    tmp = files.temp_path(target)
    tmp.write_bytes(b"new")
    assert files.replace_file(tmp, target) == target
    assert target.read_bytes() == b"new" and not tmp.exists()
    files.write_text_atomic(target, "Ω text\n")
    assert target.read_text(encoding="utf-8") == "Ω text\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_a_held_target_is_one_clear_error_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "results.npz"
    target.write_bytes(b"the previous, complete file")
    _held_open(monkeypatch, "results.npz")
    with pytest.raises(FileInUseError) as info:
        files.write_bytes_atomic(target, b"new contents")
    text = str(info.value)
    assert str(target) in text and "open in another program" in text
    assert "Close results.npz" in text and "retry" in text
    assert target.read_bytes() == b"the previous, complete file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.npz"]


def test_windows_retries_outlast_a_short_hold(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "RETRY_DELAYS_S", (0.0, 0.0, 0.0))
    monkeypatch.setattr(files, "_WINDOWS", True)
    refused = _held_open(monkeypatch, "IO.dat", times=2)
    files.write_text_atomic(tmp_path / "IO.dat", "# header\n")
    assert len(refused) == 2 and (tmp_path / "IO.dat").read_text() == "# header\n"


def test_every_backend_replace_goes_through_the_helper():
    root = Path(files.__file__).resolve().parent
    callers = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if "os.replace(" in p.read_text(encoding="utf-8") and p.name != "files.py"
    ]
    assert callers == []


def test_cli_export_onto_a_held_file_says_which_and_writes_nothing(
    tmp_path, recording, monkeypatch, capsys
):
    out = tmp_path / "export.npz"
    out.write_bytes(b"kept as it was")
    _held_open(monkeypatch, "export.npz")
    code = main(
        ["export", str(recording), "--format", "npz", "--out", str(out), "--overwrite", "-q"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot replace {out}" in err and "retry" in err and "Traceback" not in err
    assert out.read_bytes() == b"kept as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.npz", "rec.h5"]


def test_postprocess_with_one_result_held_open_leaves_only_complete_files(
    tmp_path, bspysmg_folder, monkeypatch, capsys
):
    out = tmp_path / "out"
    _held_open(monkeypatch, "charging_signal.npz")
    code = main(["postprocess", str(bspysmg_folder), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "charging_signal.npz" in err and "Traceback" not in err
    left = list(out.rglob("*")) if out.exists() else []
    assert not [p for p in left if p.name.startswith(".") or p.name.endswith(".partial")]
