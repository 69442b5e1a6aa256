"""`samplelab train / evaluate / info` on models, as a user runs them (Ctrl+C included)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from conftest import BSPYSMG_FIXTURES, ROOT

from app.cli import main

CONFIG = BSPYSMG_FIXTURES / "lifecycle_small_sine" / "smg_configs.yaml"
PEER_MODEL = BSPYSMG_FIXTURES / "lifecycle_small_sine" / "training_data.pt"
NPZ = BSPYSMG_FIXTURES / "small_sine" / "postprocessed_data.npz"


def test_train_with_the_peer_config_and_overrides(tmp_path, capsys):
    out = tmp_path / "model"
    args = ["train", "--config", str(CONFIG), "--epochs", "3", "--hidden", "20x2"]
    code = main([*args, "--seed", "9", "--out", str(out), "--trust-pickle", "-q"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    path = Path(stdout.strip().splitlines()[-1])
    assert path == out / "training_data.pt" and path.is_file()
    assert "done: 3 epochs" in err and "test       RMSE" in err
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["seed"] == 9 and summary["structure"]["hidden_sizes"] == [20, 20]
    assert summary["settings"]["batch_size"] == 128  # from the config
    # info understands our file and the peer's
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "written by samplelab" in text and "7 -> [20, 20] -> 1" in text
    assert main(["info", str(PEER_MODEL), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["written_by"] == "brainspy-smg" and facts["best_epoch"] == 147
    assert facts["test_rmse_nA"][0] == pytest.approx(0.5854579)


def test_evaluate_prints_rmse_and_writes_the_plot(tmp_path, capsys):
    code = main(["evaluate", str(PEER_MODEL), str(NPZ), "--out", str(tmp_path), "--trust-pickle"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].startswith("RMSE: ") and lines[0].endswith("nA over 676 rows")
    bars = err.replace("\r", "\n").splitlines()
    assert any(b.startswith("hashing") and "B/s" in b for b in bars), err  # bytes, not rows
    assert any(b.startswith("predicting") and "row/s" in b for b in bars), err
    assert Path(lines[-1]) == tmp_path / "evaluate_small_sine.png" and Path(lines[-1]).is_file()
    facts = json.loads((tmp_path / "evaluate_small_sine.json").read_text())
    assert facts["rows"] == 676 and 0 < facts["rmse_nA"][0] < 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--out", "{tmp}/m"], "no dataset to train on"),
        (["train", str(NPZ), "--out", "{tmp}/m", "--hidden", "ninety"], "not understood"),
        (["train", str(NPZ), "--out", "{tmp}/m", "--split", "0.5,0.2"], "add up to 1"),
        (["train", str(NPZ), "--out", "{tmp}/m", "--lr", "7"], "learning_rate"),
        (["train", str(NPZ), "--out", "{tmp}/m"], "--trust-pickle"),
        (["train", "{tmp}/missing.npz", "--out", "{tmp}/m"], "not found"),
        (["evaluate", str(NPZ), str(NPZ)], "is not a trained model: it is a npz file"),
    ],
)
def test_bad_input_is_one_clear_message(tmp_path, capsys, args, message):
    code = main([a.replace("{tmp}", str(tmp_path)) for a in args])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "m").exists() or not list((tmp_path / "m").iterdir())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_says_so(tmp_path, capsys):
    code = main(["train", str(NPZ), "--out", str(tmp_path), "--device", "cuda", "--trust-pickle"])
    assert code == 1 and "no CUDA GPU" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["info", "evaluate"])
def test_a_cut_model_file_is_one_short_message(tmp_path, capsys, command):
    cut = tmp_path / "training_data.pt"
    cut.write_bytes(PEER_MODEL.read_bytes()[:2000])  # a copy that stopped early
    args = [command, str(cut)] + ([str(NPZ), "--trust-pickle"] if command == "evaluate" else [])
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{cut} is damaged or not a torch file" in err and "complete copy" in err
    assert "Traceback" not in err and "internal miniz error" not in err  # torch's advice, cut


def test_help_does_not_import_torch():
    code = "import sys; from app.cli import build_parser; build_parser(); "
    code += "print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "False", out.stderr


def epochs_done(progress: bytes) -> int:
    """Whole epochs done, by the progress bar's last count ('epochs 12.3/100000')."""
    counts = re.findall(rb"epochs (\d+)\.\d/", bytes(progress))
    return int(counts[-1]) if counts else 0


def test_ctrl_c_keeps_the_best_checkpoint(tmp_path):
    """A real process, a real SIGINT once the first epochs are done."""
    out = tmp_path / "model"
    args = [sys.executable, "-m", "app", "train", str(NPZ), "--out", str(out), "--trust-pickle"]
    proc = subprocess.Popen(
        [*args, "--epochs", "100000", "--hidden", "8,8", "--seed", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    seen = bytearray()

    def read() -> None:
        for chunk in iter(lambda: proc.stderr.read1(256), b""):
            seen.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while epochs_done(seen) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert epochs_done(seen) >= 3, seen.decode(errors="replace")[-2000:]
        proc.send_signal(signal.SIGINT)
        # not communicate(): it would read stderr too, racing the reader for the last lines
        stdout = proc.stdout.read()
        proc.wait(timeout=120)
    finally:
        proc.kill()
        reader.join(10)
    assert proc.returncode == 130, seen.decode(errors="replace")[-2000:]
    assert Path(stdout.decode().strip().splitlines()[-1]) == out / "training_data.pt"
    saved = torch.load(out / "training_data.pt", weights_only=True)
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["status"] == "cancelled" and summary["epochs_run"] >= 3
    assert saved["epoch"] == summary["best_epoch"] < summary["epochs_run"]
    assert b"stopped:" in seen
