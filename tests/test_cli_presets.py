"""Presets by name, the missing-file message, and output on a console that is not UTF-8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

import resources
from app.cli import main
from backend.recording.reader import Recording


def test_presets_lists_every_shipped_preset_with_its_purpose(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = list(resources.preset_paths())
    assert [line.split()[0] for line in lines] == names
    assert any(line.startswith("quick-demo") and "A short session" in line for line in lines)
    assert main(["presets", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in listed] == names
    assert all(Path(p["path"]).is_file() for p in listed)


def test_sample_accepts_a_preset_name(tmp_path, capsys):
    code = main(["sample", "quick-demo", "--batches", "2", "--out", str(tmp_path), "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    with Recording(out.strip().splitlines()[-1]) as rec:
        assert rec.batches_done == 2 and rec.config.data_name == "quick_demo"


def test_a_missing_config_says_file_not_found_and_names_the_presets(tmp_path, capsys):
    for given in (str(tmp_path / "nope.yaml"), "quick-demoo"):
        assert main(["sample", given, "--out", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert f"file not found: {given}" in err and "quick-demo" in err
        assert "Fix the fields" not in err and "invalid sampling config" not in err
        assert ("Did you mean the preset quick-demo?" in err) == (given == "quick-demoo")
    assert list(tmp_path.iterdir()) == []


def test_the_backend_says_file_not_found_without_field_advice(tmp_path):
    from backend.config import load_config
    from backend.errors import ConfigError

    try:
        load_config(tmp_path / "gone.yaml")
    except ConfigError as exc:  # still a ConfigError for callers that catch those
        assert str(exc).startswith(f"file not found: {tmp_path / 'gone.yaml'}")
        assert "Fix the fields" not in str(exc)
    else:
        raise AssertionError("no error for a missing file")


def test_output_survives_a_cp1252_console(tmp_path):
    out = tmp_path / "Ω-データ"  # not encodable in cp1252
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "cp1252"}
    args = [sys.executable, "-m", "app"]
    run = subprocess.run(
        [*args, "sample", "quick-demo", "--batches", "2", "--out", str(out), "--seed", "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    )
    stdout, stderr = run.stdout.decode("cp1252"), run.stderr.decode("cp1252")
    assert run.returncode == 0, stderr
    assert "Traceback" not in stderr and "done: 2 of 2 batches" in stderr
    (written,) = out.glob("*.h5")
    escaped = str(written).encode("cp1252", "backslashreplace").decode("cp1252")
    assert stdout.strip().splitlines()[-1] == escaped
    info = subprocess.run(
        [*args, "info", str(written)], cwd=tmp_path, env=env, capture_output=True, timeout=60
    )
    assert info.returncode == 0 and b"Traceback" not in info.stderr
    assert "2 of 2" in info.stdout.decode("cp1252")


def test_a_reader_that_leaves_early_gets_no_error(tmp_path):
    """`samplelab presets | head -1`: the pipe closes before we write; we stop quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line
    try:
        run = subprocess.run(
            [sys.executable, "-m", "app", "presets"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert run.returncode == 1 and run.stderr == b""
