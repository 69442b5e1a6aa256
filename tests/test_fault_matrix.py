"""The fault matrix: the real `samplelab sample` in a subprocess, killed, interrupted, out of disk.

After each fault: the recording (if any) opens with `info`, resumes, and the resumed
data equals an uninterrupted run's; `postprocess` and `dataset` take the result; and
nothing outside the output folder changed. The fast deterministic cases run in
every suite; `-m slow` adds randomised kill points (counts in docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import ROOT, small_config

from app.cli import main
from backend.config import load_config, save_config
from backend.recording.reader import Recording
from backend.sampling.session import start_session

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and mounts are POSIX")
SEED = 21
BATCHES = 40  # 50 rows each; 70 ms per batch with --realtime


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A config file, the uninterrupted reference data, and folders the CLI must not touch."""
    base = tmp_path_factory.mktemp("faults")
    config_file = save_config(small_config(number_batches=BATCHES), base / "config.yaml")
    slow_first = save_config(
        small_config(number_batches=BATCHES, batch_time=2.0), base / "slow_first.yaml"
    )
    reference = start_session(
        load_config(config_file), "simulated", path=base / "reference.h5", seed=SEED
    ).run()
    early = start_session(load_config(slow_first), "simulated", path=base / "early.h5", seed=1)
    data = {}
    for name, result in (("reference", reference), ("early", early.run())):
        with Recording(result.path) as rec:
            data[name] = np.hstack(rec.read())
    (base / "cwd").mkdir()
    (base / "home").mkdir()
    return {"base": base, "config": config_file, "slow_first": slow_first, **data}


def _env(world: dict) -> dict[str, str]:
    home = str(world["base"] / "home")
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOME": home,
        "XDG_CONFIG_HOME": home,
        "XDG_DATA_HOME": home,
        "XDG_CACHE_HOME": home,
        "XDG_STATE_HOME": home,
    }


def _start(world: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "sample", *args, "-q"],
        cwd=world["base"] / "cwd",
        env=_env(world),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _sample(world: dict, *args: str) -> tuple[int, str, str]:
    return _finish(_start(world, *args))


def _outside(world: dict) -> dict[str, str]:
    """Everything the CLI could reach besides its output folders: config, cwd, home."""
    base = world["base"]
    return {
        str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in base.rglob("*")
        if p.is_file() and not p.relative_to(base).parts[0].startswith("out")
    }


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.005)
    raise AssertionError("the sampling subprocess made no progress")


def _recordings(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.h5"))


def _batches(path: Path) -> int:
    with contextlib.suppress(Exception), Recording(path) as rec:
        return rec.batches_done
    return -1


def _assert_closed(path: Path, status: str) -> None:
    """Closed by its writer: opens without SWMR (no flags left set), says how it ended."""
    with h5py.File(path, "r") as f:
        assert f["session/status"][()].decode() == status


def _resume_to_the_end(world: dict, path: Path, reference: str = "reference") -> None:
    """`sample --resume` in-process, then the data equals the uninterrupted run."""
    assert main(["sample", "--resume", str(path), "-q"]) == 0
    with Recording(path) as rec:
        assert rec.status == "complete" and rec.batches_done == BATCHES
        np.testing.assert_array_equal(np.hstack(rec.read()), world[reference])


def _writes(path: Path, proc: subprocess.Popen, count: int) -> None:
    """Wait until `path` was modified `count` times (the writer flushes every batch)."""
    seen = {path.stat().st_mtime_ns} if path.exists() else set()
    first = len(seen)

    def changed() -> bool:
        with contextlib.suppress(OSError):
            seen.add(path.stat().st_mtime_ns)
        return len(seen) - first >= count

    _wait_for(changed, proc)


def _first_recording(out: Path, proc: subprocess.Popen) -> Path:
    _wait_for(lambda: out.exists() and _recordings(out), proc)
    return _recordings(out)[0]


def _downstream_works(path: Path, out: Path) -> None:
    assert main(["info", str(path)]) == 0
    assert main(["postprocess", str(path), "--out", str(out / "pp"), "-q"]) == 0
    assert main(["dataset", str(path), "--out", str(out / "ds"), "--quiet"]) == 0


# --- SIGKILL ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def killed_before_first_batch(world) -> Path:
    """A recording SIGKILLed the moment it appeared: laid out, not one batch yet."""
    out = world["base"] / "out_killed_early"
    proc = _start(world, str(world["slow_first"]), "--out", str(out), "--seed", "1", "--realtime")
    try:
        _wait_for(lambda: _recordings(out), proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    found = _recordings(out)
    assert len(found) == 1 and _batches(found[0]) == 0, (found, [_batches(p) for p in found])
    return found[0]


def test_info_reads_a_sigkilled_recording(killed_before_first_batch, tmp_path):
    copy = shutil.copy(killed_before_first_batch, tmp_path / "killed.h5")
    assert main(["info", str(copy)]) == 0


def test_sigkill_between_creation_and_first_batch_then_during_resume(
    world, killed_before_first_batch, tmp_path
):
    before = _outside(world)
    early = Path(shutil.copy(killed_before_first_batch, tmp_path / "early.h5"))
    proc = _start(world, "--resume", str(early), "--realtime")
    try:
        _writes(early, proc, 2)  # reopened: killed while resuming
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert 0 <= _batches(early) < BATCHES
    _resume_to_the_end(world, early, "early")
    _downstream_works(early, tmp_path)
    assert _outside(world) == before


# --- SIGTERM, SIGINT, double Ctrl+C --------------------------------------------------------
@pytest.mark.parametrize(
    "burst",
    [
        (signal.SIGTERM,),
        (signal.SIGINT, signal.SIGINT),
        (signal.SIGINT, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGINT),
    ],
    ids=["sigterm", "double-ctrl-c", "burst"],
)
def test_stop_signals_close_everything_and_resume(world, tmp_path, burst):
    before = _outside(world)
    out = world["base"] / f"out_signals_{tmp_path.name}"
    proc = _start(world, str(world["config"]), "--out", str(out), "--seed", str(SEED), "--realtime")
    _writes(_first_recording(out, proc), proc, 3)
    for sig in burst:
        os.killpg(proc.pid, sig)
        time.sleep(0.01)
    code, stdout, stderr = _finish(proc)
    path = Path(stdout.strip().splitlines()[-1])
    assert code == 130 and "Traceback" not in stderr, stderr
    assert "stopped: " in stderr and f"--resume {path}" in stderr
    _assert_closed(path, "cancelled")
    _resume_to_the_end(world, path)
    assert _outside(world) == before


@pytest.mark.parametrize("delay", [0.0, 0.4, 1.2])
def test_sigterm_at_startup_never_leaves_an_open_recording(world, tmp_path, delay):
    out = world["base"] / f"out_early_{tmp_path.name}"
    proc = _start(world, str(world["config"]), "--out", str(out), "--seed", str(SEED))
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGTERM)
    code, _, stderr = _finish(proc)
    assert "Traceback" not in stderr, stderr
    found = _recordings(out) if out.exists() else []
    # Killed by the signal's default action: before our handler was installed (nothing
    # open yet), or after it was taken down at the end (the recording already closed).
    # -SIGINT after "interrupted": the command handled the stop and returned 130, yet the
    # process ended by SIGINT (a shell shows 130 all the same). CPython exits that way when
    # its process-wide "unhandled KeyboardInterrupt" flag is set, which, as we read its
    # source, a KeyboardInterrupt passing through Python code run from C can do even when
    # caught later. Seen once in a loaded CI run at delay 0.4, not reproduced (40 of 40
    # runs at random delays gave 130); the point here is the recording, checked below.
    allowed = (0, 130, -signal.SIGTERM) + ((-signal.SIGINT,) if "interrupted" in stderr else ())
    assert code in allowed, stderr
    for path in found:
        with h5py.File(path, "r") as f:  # never left open for write
            assert f["session/status"][()].decode() in ("cancelled", "complete")


# --- full disks and read-only folders -------------------------------------------------------
@contextlib.contextmanager
def _tmpfs(path: Path, size: str, options: str = "") -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (f",{options}" if options else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(
            "needs a small tmpfs, and mounting one is not allowed here "
            f"({done.stderr.strip() or 'not root'}); the in-process tests in "
            "test_recording_faults.py cover the same paths with a simulated free space"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def test_disk_full_one_line_then_resume_when_there_is_room(world, tmp_path):
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    before = _outside(world)
    with _tmpfs(world["base"] / "out_full", "256k") as out:
        code, stdout, stderr = _sample(
            world, str(world["config"]), "--out", str(out), "--seed", str(SEED)
        )
        path = Path(stdout.strip().splitlines()[-1])
        lines = [line for line in stderr.splitlines() if line.startswith("samplelab")]
        assert code == 1 and len(lines) == 1 and "Traceback" not in stderr, stderr
        assert lines[0].startswith("samplelab: error: disk full: ")
        assert f"kept in {path}" in lines[0] and " free in " in lines[0]
        assert lines[0].endswith(f"resume with: samplelab sample --resume {path}")
        _assert_closed(path, "failed")
        kept = _batches(path)
        assert 0 < kept < BATCHES
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        code, _, stderr = _sample(world, "--resume", str(path))
        assert code == 1 and "cannot resume" in stderr and "needed" in stderr, stderr
        assert "Traceback" not in stderr
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert main(["info", str(path)]) == 0
        _remount(out, "size=8m")
        _resume_to_the_end(world, path)
        _downstream_works(path, tmp_path)
    assert _outside(world) == before


@pytest.mark.parametrize("size", ["160k", "176k", "192k"])
def test_a_disk_filled_behind_the_checks_still_leaves_a_closed_file(world, monkeypatch, size):
    """HDF5 itself meets ENOSPC (another program filled the disk, a quota): the reserve
    is given back, the metadata flushed, the file closed as failed and resumable."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    monkeypatch.setattr("backend.recording.writer.check_room", lambda *args, **kwargs: None)
    with _tmpfs(world["base"] / f"out_behind_{size}", size) as out:
        config = load_config(world["config"])
        result = start_session(config, "simulated", path=out / "rec.h5", seed=SEED).run()
        assert result.status == "failed" and "disk full" in str(result.error)
        assert sorted(p.name for p in out.iterdir()) == ["rec.h5"]
        _assert_closed(out / "rec.h5", "failed")
        assert 0 < _batches(out / "rec.h5") == result.batches_done < BATCHES
        _remount(out, "size=8m")
        monkeypatch.undo()
        _resume_to_the_end(world, out / "rec.h5")


def test_read_only_folders_refuse_cleanly(world, tmp_path, capsys):
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    with _tmpfs(world["base"] / "out_ro", "4m") as out:
        session = start_session(
            load_config(world["config"]), "simulated", path=out / "part.h5", seed=SEED
        )
        session.cancel()
        path = Path(session.run().path)
        _remount(out, "ro")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        code, _, stderr = _sample(world, str(world["config"]), "--out", str(out))
        assert code == 1 and stderr.startswith("samplelab: error: cannot create the recording")
        code, _, stderr = _sample(world, "--resume", str(path))
        assert code == 1 and stderr.startswith("samplelab: error: "), stderr
        assert "Traceback" not in stderr and "read-only" in stderr.lower()
        assert sorted(p.name for p in out.iterdir()) == ["part.h5"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        _remount(out, "rw")
        _resume_to_the_end(world, path)


# --- randomised kill points (slow) ----------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("trial", range(12))
def test_sigkill_at_random_points_then_resume_is_identical(world, tmp_path, trial):
    rng = random.Random(trial)
    before = _outside(world)
    out = world["base"] / f"out_random_{trial}"
    proc = _start(world, str(world["config"]), "--out", str(out), "--seed", str(SEED), "--realtime")
    if rng.random() < 0.3:
        time.sleep(rng.uniform(0.0, 3.0))  # start-up, or creating the file
    else:
        _first_recording(out, proc)
        time.sleep(rng.uniform(0.0, 3.0))  # before the first batch .. done
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    found = _recordings(out) if out.exists() else []
    if not found:
        return  # killed before the recording existed: nothing to keep
    (path,) = found
    if rng.random() < 0.6 and _batches(path) < BATCHES:  # kill the resume too
        proc = _start(world, "--resume", str(path), "--realtime")
        _writes(path, proc, 1)
        time.sleep(rng.uniform(0.0, 2.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    if _batches(path) < BATCHES:
        _resume_to_the_end(world, path)
    _downstream_works(path, tmp_path)
    assert _outside(world) == before


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(8))
def test_stop_signals_at_random_points_leave_a_closed_recording(world, tmp_path, trial):
    rng = random.Random(100 + trial)
    out = world["base"] / f"out_random_sig_{trial}"
    proc = _start(world, str(world["config"]), "--out", str(out), "--seed", str(SEED), "--realtime")
    time.sleep(rng.uniform(0.0, 3.0))
    for _ in range(rng.randint(1, 4)):
        os.killpg(proc.pid, rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGHUP]))
        time.sleep(rng.uniform(0.0, 0.05))
    code, _, stderr = _finish(proc)
    assert "Traceback" not in stderr, stderr
    for path in _recordings(out) if out.exists() else []:
        with h5py.File(path, "r") as f:
            status = f["session/status"][()].decode()
        assert status in ("cancelled", "complete")
        if status == "cancelled":
            _resume_to_the_end(world, path)
    assert code in (0, 130, -signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP)
