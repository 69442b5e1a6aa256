"""`samplelab sample / info / export` as a user runs them, including a SIGKILL mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import ROOT, small_config

from app.cli import main
from backend.config import load_config, save_config
from backend.recording.reader import Recording
from backend.sampling.session import start_session


@pytest.fixture
def config_file(tmp_path) -> Path:
    return save_config(small_config(number_batches=12), tmp_path / "config.yaml")


def test_sample_prints_progress_and_the_path_last(tmp_path, config_file, capsys):
    code = main(["sample", str(config_file), "--out", str(tmp_path / "out"), "--seed", "4"])
    out, err = capsys.readouterr()
    assert code == 0
    path = Path(out.strip().splitlines()[-1])
    assert path.is_file() and path.parent == tmp_path / "out" and path.name.startswith("small_")
    assert "12 of 12 batches" in err
    with Recording(path) as rec:
        assert rec.batches_done == 12 and rec.seed == 4
        rows = rec.n_rows
    assert f"rows={rows:,}" in err  # written out, never tqdm's "rows=1e+4"


def test_bspysmg_config_and_batches_override(tmp_path, bspysmg_folder, capsys):
    code = main(
        [
            "sample",
            str(bspysmg_folder / "sampler_configs.json"),
            "--out",
            str(tmp_path),
            "--batches",
            "3",
            "-q",
            "--model",
            "analytic",
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    with Recording(out.strip().splitlines()[-1]) as rec:
        assert rec.batches_planned == 3 and rec.n_rows == 3 * rec.batch_points


def test_bad_config_is_one_clear_message(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    data = small_config().to_bspysmg()
    data["input_data"]["phase"] = [0.0]
    bad.write_text(yaml.safe_dump(data))
    assert main(["sample", str(bad), "--out", str(tmp_path)]) == 1
    _, err = capsys.readouterr()
    assert "input_data.phase" in err and "Traceback" not in err
    assert list(tmp_path.glob("*.h5")) == []


def test_missing_config_and_usage_errors(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "nope.yaml")]) == 1
    assert "file not found" in capsys.readouterr().err
    assert main(["sample"]) == 2
    assert main(["sample", "x", "--fault", "melt@1"]) == 2


def test_device_fault_exits_nonzero_and_keeps_data(tmp_path, config_file, capsys):
    code = main(["sample", str(config_file), "--out", str(tmp_path), "--fault", "timeout@4", "-q"])
    out, err = capsys.readouterr()
    assert code == 1 and "timed out" in err and "Traceback" not in err
    with Recording(out.strip().splitlines()[-1]) as rec:
        assert rec.status == "failed" and rec.batches_done == 4


def test_info_text_and_json(recording, capsys):
    assert main(["info", str(recording)]) == 0
    text = capsys.readouterr().out
    assert "6 of 6" in text and "Output 0" in text and "[nA]" in text
    assert main(["info", str(recording), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 300 and summary["channels"][7]["units"] == "nA"
    assert summary["config"]["input_data"]["number_batches"] == 6


def test_export_iodat_is_what_the_peer_reads(tmp_path, recording, capsys):
    assert main(["export", str(recording), "--format", "iodat", "--out", str(tmp_path / "x")]) == 0
    folder = Path(capsys.readouterr().out.strip().splitlines()[-1])
    lines = (folder / "IO.dat").read_text().splitlines()
    assert lines[0] == "# " + ", ".join([f"Input {i}" for i in range(7)] + ["Output 0"])
    peer_rows = np.loadtxt(folder / "IO.dat")
    with Recording(recording) as rec:
        np.testing.assert_array_equal(peer_rows, np.hstack(rec.read()))
    peer_cfg = yaml.unsafe_load((folder / "sampler_configs.json").read_text())
    assert peer_cfg["input_data"]["number_batches"] == 6
    assert isinstance(peer_cfg["input_data"]["amplitude"], np.ndarray)
    assert peer_cfg["save_directory"] == str(folder)
    assert load_config(folder).to_bspysmg()["driver"] == load_config(folder).to_bspysmg()["driver"]
    # A second export into the same folder needs --overwrite.
    assert main(["export", str(recording), "--format", "iodat", "--out", str(folder)]) == 1
    assert "already holds" in capsys.readouterr().err


def test_fixture_iodat_bytes_survive_our_writer(tmp_path, bspysmg_folder):
    from backend.data.formats.iodat import write_iodat

    raw = np.loadtxt(bspysmg_folder / "IO.dat")
    write_iodat(
        tmp_path / "IO.dat", [(raw[:37, :7], raw[:37, 7:]), (raw[37:, :7], raw[37:, 7:])], 7, 1
    )
    assert (tmp_path / "IO.dat").read_bytes() == (bspysmg_folder / "IO.dat").read_bytes()


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_mid_run_keeps_batches_and_resumes_to_identical_data(tmp_path):
    # 60 real-time batches of 70 ms: the kill always lands mid-run, even on a slow machine.
    config_file = save_config(small_config(number_batches=60), tmp_path / "long.yaml")
    cfg = load_config(config_file)
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "sample",
            str(config_file),
            "--out",
            str(out),
            "--seed",
            "21",
            "--realtime",
            "-q",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        path = _wait_for_batches(out, 4, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    with Recording(path) as rec:
        assert rec.status == "interrupted"
        done = rec.batches_done
        assert 4 <= done < 60
        assert rec.n_rows == done * 50
    # Resume from the command line, then compare with an uninterrupted in-process run.
    resumed = subprocess.run(
        [sys.executable, "-m", "app", "sample", "--resume", str(path), "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip().splitlines()[-1] == str(path)
    reference = start_session(cfg, "simulated", path=tmp_path / "ref.h5", seed=21).run()
    with Recording(path) as a, Recording(reference.path) as b:
        assert a.status == "complete" and a.batches_done == 60
        np.testing.assert_array_equal(a.read()[0], b.read()[0])
        np.testing.assert_array_equal(a.read()[1], b.read()[1])


def _wait_for_batches(folder: Path, batches: int, proc: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        files = list(folder.glob("*.h5"))
        if files:
            try:
                with Recording(files[0]) as rec:
                    if rec.batches_done >= batches:
                        return files[0]
            except Exception:
                pass  # the file is being created
        time.sleep(0.05)
    raise AssertionError("the sampling subprocess made no progress")


def test_resume_with_a_different_config_is_refused(tmp_path, recording, capsys):
    other = save_config(small_config(number_batches=9), tmp_path / "other.yaml")
    assert main(["sample", str(other), "--resume", str(recording)]) == 2
    assert "differs from the config stored" in capsys.readouterr().err


def test_sigterm_stops_safely(tmp_path, config_file):
    if os.name != "posix":
        pytest.skip("SIGTERM delivery is POSIX")
    out = tmp_path / "term"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "sample",
            str(config_file),
            "--out",
            str(out),
            "--realtime",
            "-q",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    path = _wait_for_batches(out, 2, proc)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stdout.strip().splitlines()[-1] == str(path)
    with Recording(path) as rec:
        assert rec.status == "cancelled" and rec.batches_done >= 2
