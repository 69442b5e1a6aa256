"""Real writer processes for tests: a `samplelab sample` run that is followed, or SIGKILLed.

The writer is the real CLI in a subprocess (paced with --realtime so batches
arrive while a test reads), so what a test reads is what a user's crashed or
running session leaves on disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from guitools import write_config

ROOT = Path(__file__).resolve().parents[1]


def start_writer(folder: Path, batches: int = 40, seed: int = 9) -> tuple[subprocess.Popen, Path]:
    """A paced `samplelab sample` of the small config; (process, recording path) once it exists."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, number_batches=batches)
    out = folder / "recordings"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "sample", str(config), "--realtime", "--out", str(out),
         "--seed", str(seed), "--model", "analytic", "-q"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    end = time.monotonic() + 60
    while time.monotonic() < end:
        found = sorted(out.glob("*.h5"))
        if found:
            return proc, found[0]
        if proc.poll() is not None:
            raise AssertionError(f"the writer ended early: {proc.stderr.read().decode()}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the writer made no recording within 60 s")


def batches_in(path: Path) -> int:
    """Complete batches a reader sees now (0 while the file is not readable yet)."""
    from backend.errors import SamplelabError
    from backend.recording.reader import Recording

    try:
        with Recording(path) as rec:
            return rec.batches_done
    except SamplelabError:
        return 0


def wait_for_batches(proc: subprocess.Popen, path: Path, n: int, timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while batches_in(path) < n:
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"fewer than {n} batches in {path} (writer rc {proc.poll()})")
        time.sleep(0.05)


def killed_recording(folder: Path, batches: int = 40, after: int = 3, seed: int = 9) -> Path:
    """A recording whose writer was SIGKILLed after at least `after` complete batches."""
    proc, path = start_writer(folder, batches, seed)
    wait_for_batches(proc, path, after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stderr.close()
    return path
