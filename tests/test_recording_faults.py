"""The writer under attack and under faults: confined exclusive create, full disks, interrupts."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import small_config

import backend.recording.guard as guard
from app.cli import main
from app.commands.common import StopSignals
from backend.config import save_config
from backend.errors import DiskFullError, RecordingError
from backend.recording.h5clear import set_consistency_flags
from backend.recording.reader import Recording
from backend.recording.writer import RecordingWriter
from backend.sampling.session import resume_session, start_session


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _digest(p) for p in folder.rglob("*") if p.is_file()}


def _unvalidated(**fields) -> object:
    """small_config with fields set past validation, as if a check upstream were bypassed."""
    config = small_config()
    for name, value in fields.items():
        object.__setattr__(config, name, value)
    return config


# --- item 1: created inside the output folder, exclusively ---------------------------------
@pytest.mark.parametrize("data_name", ["VICTIM\0.x", "../escaped", "sub/inner", "ABS", "bell\x07"])
def test_a_data_name_never_writes_outside_the_output_folder(tmp_path, data_name):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    data_name = data_name.replace("VICTIM", str(victim)).replace("ABS", str(tmp_path / "abs"))
    before = _tree(tmp_path)
    with pytest.raises(RecordingError) as caught:
        start_session(_unvalidated(data_name=data_name), "simulated", out_dir=out, seed=1)
    assert "refusing to create" in caught.value.message
    assert _tree(tmp_path) == before and victim.read_text() == "precious"


def test_the_cli_refuses_an_escaping_data_name_without_writing(tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    config = save_config(small_config(), tmp_path / "c.yaml")
    text = config.read_text().replace("data_name: small_sawtooth", f'data_name: "{victim}\\0.x"')
    config.write_text(text)
    before = _tree(tmp_path)
    assert main(["sample", str(config), "--out", str(tmp_path / "out"), "-q"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("samplelab: error: ") and "Traceback" not in err
    assert _tree(tmp_path) == before


def test_a_symlink_in_the_way_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.h5"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "rec.h5").symlink_to(victim)
    (out / "linked").symlink_to(tmp_path)
    for path in (out / "rec.h5", out / "linked" / "x.h5"):
        with pytest.raises(RecordingError, match="refusing to create"):
            RecordingWriter.create(path, small_config(), {}, seed=1, folder=out)
    assert victim.read_bytes() == b"precious" and not (tmp_path / "x.h5").exists()


def test_an_existing_file_is_never_opened_for_writing(tmp_path):
    target = tmp_path / "rec.h5"
    target.write_bytes(b"not ours")
    with pytest.raises(RecordingError, match="already exists"):
        RecordingWriter.create(target, small_config(), {}, seed=1)
    assert target.read_bytes() == b"not ours"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.h5"]


def test_overwrite_replaces_the_file_whole_instead_of_truncating_it(tmp_path):
    old = tmp_path / "old.h5"
    old.write_bytes(b"another name for the same bytes")
    os.link(old, tmp_path / "rec.h5")  # truncating rec.h5 in place would change old.h5 too
    RecordingWriter.create(tmp_path / "rec.h5", small_config(), {}, seed=1, overwrite=True).close()
    assert old.read_bytes() == b"another name for the same bytes"
    with Recording(tmp_path / "rec.h5") as rec:
        assert rec.status == "complete"


def test_an_interrupted_layout_leaves_nothing(tmp_path, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("backend.recording.writer.lay_out", interrupted)
    with pytest.raises(KeyboardInterrupt):
        RecordingWriter.create(tmp_path / "rec.h5", small_config(), {}, seed=1)
    assert list(tmp_path.iterdir()) == []


# --- items 4 and 5: full disks ------------------------------------------------------------
@pytest.fixture
def disk(monkeypatch):
    """The free space the writer sees, set by the test (plenty until told otherwise)."""
    state = {"free": 1 << 40}
    monkeypatch.setattr(guard, "free_bytes", lambda folder: state["free"])
    return state


def _fill_after(disk: dict, session, batches: int) -> None:
    def listener(result) -> None:
        if result.index + 1 == batches:
            disk["free"] = 1000

    session.add_listener(listener)


def test_a_full_disk_stops_between_batches_and_the_file_resumes_identically(tmp_path, disk):
    config = small_config(number_batches=8)
    session = start_session(config, "simulated", path=tmp_path / "rec.h5", seed=5)
    _fill_after(disk, session, 3)
    result = session.run()
    assert result.status == "failed" and isinstance(result.error, DiskFullError)
    assert "disk full: 3 of 8 batches kept in" in result.error.message
    assert "1000 bytes free" in result.error.message
    with h5py.File(result.path, "r") as f:  # closed cleanly: no flags, no SWMR needed
        assert f["batches"].shape == (3,)
    disk["free"] = 1 << 40
    assert resume_session(result.path).run().status == "complete"
    reference = start_session(config, "simulated", path=tmp_path / "ref.h5", seed=5).run()
    with Recording(result.path) as a, Recording(reference.path) as b:
        np.testing.assert_array_equal(np.hstack(a.read()), np.hstack(b.read()))


def test_the_cli_says_disk_full_in_one_line(tmp_path, disk, monkeypatch, capsys):
    config = save_config(small_config(number_batches=8), tmp_path / "c.yaml")
    real_append = RecordingWriter.append

    def append(self, index, *args):
        if index == 2:
            disk["free"] = 0
        return real_append(self, index, *args)

    monkeypatch.setattr(RecordingWriter, "append", append)
    assert main(["sample", str(config), "--out", str(tmp_path / "out"), "-q"]) == 1
    captured = capsys.readouterr()
    path = captured.out.strip().splitlines()[-1]
    lines = [line for line in captured.err.splitlines() if line.startswith("samplelab")]
    assert lines == [
        f"samplelab: error: disk full: 2 of 8 batches kept in {path}; 0 bytes free in "
        f"{Path(path).parent}, 67.2 KiB needed to go on; outputs at 0 V. "
        f"Free some space, then resume with: samplelab sample --resume {path}"
    ]
    assert "Traceback" not in captured.err


def test_a_resume_on_a_full_disk_changes_nothing_and_says_what_it_needs(tmp_path, disk):
    config = small_config(number_batches=8)
    session = start_session(config, "simulated", path=tmp_path / "rec.h5", seed=5)
    _fill_after(disk, session, 3)
    path = Path(session.run().path)
    before = _digest(path)
    with pytest.raises(DiskFullError, match=r"cannot resume .* at least 131.1 KiB needed"):
        resume_session(path)
    assert _digest(path) == before


def test_a_resume_that_fails_while_writing_puts_the_flags_back(tmp_path, monkeypatch):
    config = small_config(number_batches=8)
    session = start_session(config, "simulated", path=tmp_path / "rec.h5", seed=5)
    session.cancel()
    path = Path(session.run().path)
    set_consistency_flags(path, 5)  # as a crashed SWMR writer leaves them

    def full(*args, **kwargs):
        raise RuntimeError("Can't write data (file write failed: errno = 28, error message)")

    monkeypatch.setattr("backend.recording.writer.writer_stamp", full)
    with pytest.raises(DiskFullError, match="cannot resume"):
        RecordingWriter.resume(path)
    assert set_consistency_flags(path, 5) == 5
    monkeypatch.undo()
    assert resume_session(path).run().status == "complete"


# --- item 10: interrupts --------------------------------------------------------------------
class _InterruptingDevice:
    """Wraps a device so that 0 V and close each get a KeyboardInterrupt first."""

    def __init__(self, device) -> None:
        self._device = device
        self.closed = False
        self.interrupted = set()

    def __getattr__(self, name):
        return getattr(self._device, name)

    def _once(self, name: str) -> None:
        if name not in self.interrupted:
            self.interrupted.add(name)
            raise KeyboardInterrupt

    def set_zero(self) -> None:
        if self.interrupted >= {"stop"}:
            self._once("set_zero")
        self._device.set_zero()

    def close(self) -> None:
        self._once("close")
        self._device.close()


def test_an_interrupt_during_shutdown_still_closes_the_recording(tmp_path):
    session = start_session(small_config(), "simulated", path=tmp_path / "rec.h5", seed=5)
    device = _InterruptingDevice(session.device)
    device.interrupted.add("stop")
    session.device = device
    session.cancel()
    result = session.run()
    assert result.status == "cancelled" and session.writer.closed
    assert device.interrupted == {"stop", "set_zero", "close"}
    with h5py.File(result.path, "r") as f:
        assert f["session/status"][()] == b"cancelled"


@pytest.mark.skipif(os.name != "posix", reason="signals to oneself are POSIX")
def test_stop_signals_raise_once_before_hold_then_only_ask_for_a_safe_stop(own_handlers):
    with StopSignals() as signals:
        pass
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # no stop: restored
    with pytest.raises(KeyboardInterrupt), StopSignals():
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN  # ending: no late kill
    calls = []
    with StopSignals() as signals:
        signals.hold()
        os.kill(os.getpid(), signal.SIGINT)  # before the session: remembered
        signals.stop_with(lambda: calls.append("stop"))
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):
            os.kill(os.getpid(), sig)  # during the safe stop: never raises
    assert calls == ["stop"] and signals.requested == signal.SIGINT
