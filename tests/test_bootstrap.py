"""`python bootstrap.py run`: Ctrl+C and SIGTERM end in samplelab's safe stop, not a traceback.

A real bootstrap process runs a real `samplelab sample`; a sitecustomize in the
child records what the simulated device's outputs hold when it is closed, so
"0 V" is read off the device, not off a message.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, small_config
from deviceprobe import DEVICE_PROBE, wait_for_batches

from backend.config import save_config
from backend.recording.reader import Recording

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def _bootstrap():
    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bootstrap_run(tmp_path):
    """Start `bootstrap.py run sample ...` as a terminal would (its own process group)."""
    boot = _bootstrap()
    if not boot.STAMP.is_file() or boot.STAMP.read_text() != boot._fingerprint():
        pytest.skip(".venv was not set up by bootstrap.py (it would install now)")
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(DEVICE_PROBE)
    config = save_config(small_config(number_batches=60), tmp_path / "long.yaml")
    out = tmp_path / "out"
    env = {
        **os.environ,
        "PYTHONPATH": f"{probe}{os.pathsep}{ROOT}",
        "SAMPLELAB_DEVICE_LOG": str(tmp_path / "device.json"),
    }
    command = [sys.executable, str(ROOT / "bootstrap.py"), "run", "sample", str(config)]
    proc = subprocess.Popen(
        [*command, "--out", str(out), "--realtime", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    yield proc, out, tmp_path / "device.json"
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _assert_safe_stop(proc, path: Path, device_log: Path) -> None:
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "outputs at 0 V" in stderr
    assert stdout.strip().splitlines()[-1] == str(path)
    with Recording(path) as rec:
        assert rec.status == "cancelled"
        assert 2 <= rec.batches_done < 60 and rec.n_rows == rec.batches_done * 50
    device = json.loads(device_log.read_text())
    assert device["zeroed"] >= 1 and device["volts"] == [0.0] * 7


def test_ctrl_c_in_the_terminal_reaches_samplelab_once_and_waits_for_its_safe_stop(
    bootstrap_run,
):
    proc, out, device_log = bootstrap_run
    path = wait_for_batches(out, 2, proc)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the foreground group
    _assert_safe_stop(proc, path, device_log)


def test_sigterm_to_bootstrap_is_forwarded(bootstrap_run):
    proc, out, device_log = bootstrap_run
    path = wait_for_batches(out, 2, proc)
    proc.send_signal(signal.SIGTERM)
    _assert_safe_stop(proc, path, device_log)


def test_exit_codes_pass_through_and_a_signal_death_reads_as_a_shell_would(tmp_path):
    boot = _bootstrap()
    code = "import sys; sys.exit(7)"
    assert boot.run_child([sys.executable, "-c", code], tmp_path, dict(os.environ)) == 7
    kill = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    assert boot.run_child([sys.executable, "-c", kill], tmp_path, dict(os.environ)) == 137
