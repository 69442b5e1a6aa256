"""Closing a Windows console stops a command or the window safely before Windows ends it.

Windows is faked at one seam (`winconsole.console_api`, tests/fakes/win_console.py):
an autospecced kernel32 records the handler, and each test calls that real
handler, through ctypes, from a thread of its own as Windows does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import ROOT, small_config
from deviceprobe import DEVICE_PROBE, wait_for_batches
from fakes.win_console import FakeConsole
from guitools import make_window, settings_dir, start_long_session

from app.commands import winconsole
from app.commands.common import StopSignals
from app.main import ConsoleCloser
from backend.config import save_config
from backend.recording.reader import Recording

__all__ = ["make_window", "settings_dir"]  # fixtures used by name


@pytest.fixture
def console(monkeypatch) -> FakeConsole:
    return FakeConsole().install(monkeypatch)


def test_nothing_is_installed_off_windows():
    if sys.platform == "win32":
        pytest.skip("this is Windows")
    assert winconsole.console_api() is None
    with winconsole.ConsoleClose(lambda: None) as close:
        assert not close.installed


def test_closing_the_console_stops_the_session_and_waits_for_the_safe_stop(console, own_handlers):
    order = []
    with StopSignals() as signals:
        ((routine, add),) = console.calls()
        assert add
        signals.hold()
        cancelled = threading.Event()
        signals.stop_with(lambda: (order.append("cancel"), cancelled.set()))
        event = console.close(snapshot=lambda: list(order))
        while not cancelled.wait(0.01):  # the stop request runs on this (main) thread
            assert time.monotonic() - event.sent_at < 10
        time.sleep(0.3)  # the batch in flight, 0 V, the recording closed
        assert not event.finished  # Windows would end the process now: it must not
        order.append("safe stop done")
    event.thread.join(5)
    assert event.returned == 1 and event.state_on_return == ["cancel", "safe stop done"]
    assert 0.3 <= event.waited_s < winconsole.WAIT_S
    assert signals.requested == signal.SIGTERM
    assert console.calls() == [(routine, True), (routine, False)] and console.handlers() == []


def test_a_close_before_anything_is_open_ends_the_command_at_once(console, own_handlers):
    event = console.event(winconsole.CTRL_CLOSE_EVENT)
    with pytest.raises(KeyboardInterrupt), StopSignals():
        event.deliver()
        while True:  # the command's work, interrupted as by SIGTERM
            time.sleep(0.01)
    event.thread.join(5)
    assert event.returned == 1 and console.handlers() == []


def test_ctrl_c_and_ctrl_break_pass_on_to_pythons_own_handler(console, own_handlers):
    with StopSignals() as signals:
        signals.hold()
        signals.stop_with(lambda: pytest.fail("a safe stop was asked for"))
        for key in (winconsole.CTRL_C_EVENT, winconsole.CTRL_BREAK_EVENT):
            event = console.send(key)
            event.thread.join(5)
            assert event.returned == 0  # not handled: SIGINT / SIGBREAK come as usual
        time.sleep(0.05)
    assert signals.requested is None


def test_the_wait_is_bounded_by_windows_five_seconds(console):
    asked = []
    with winconsole.ConsoleClose(lambda: asked.append(1), wait_s=0.3):
        event = console.close()
        event.thread.join(5)  # the stop never finishes
    assert event.returned == 1 and asked == [1]
    assert 0.3 <= event.waited_s < 2
    assert winconsole.WAIT_S < 5


def test_a_refused_handler_is_not_removed_later(console):
    console.kernel32.SetConsoleCtrlHandler.return_value = 0
    with winconsole.ConsoleClose(lambda: None) as close:
        assert not close.installed
    assert [add for _routine, add in console.calls()] == [True]


def test_closing_the_console_closes_the_window_and_stops_its_session(
    qtbot, tmp_path, console, make_window
):
    window, _page, session = start_long_session(qtbot, make_window, tmp_path)
    with ConsoleCloser(window).console:
        # No question: a QMessageBox here fails the test (guitools.settings_dir).
        event = console.close(snapshot=lambda: session.state)
        qtbot.waitUntil(lambda: event.finished, timeout=10_000)
    assert event.returned == 1 and event.waited_s < winconsole.WAIT_S
    assert event.state_on_return == "cancelled" and not window.isVisible()
    assert np.all(session.device.output_voltages == 0) and session.device.zeroed > 0
    with Recording(session.writer.path) as rec:
        assert rec.status == "cancelled" and 2 <= rec.batches_done < 500
    assert console.handlers() == []


CLOSE_THE_CONSOLE = """
import json, os, sys, threading, time
from pathlib import Path
from fakes.win_console import FakeConsole
from app.commands import winconsole

console = FakeConsole()
winconsole.console_api = lambda: console.api
trigger, report = Path(sys.argv[1]), Path(sys.argv[2])

def windows():
    while not trigger.exists():
        time.sleep(0.02)
    event = console.close()
    event.thread.join()
    report.write_text(json.dumps({"returned": event.returned, "waited_s": event.waited_s}))
    os._exit(58)  # what Windows does once the handler returns

threading.Thread(target=windows).start()  # not a daemon: the process waits for it
from app.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.skipif(os.name != "posix", reason="the child's stderr and paths as on POSIX")
def test_a_sample_command_whose_console_closes_ends_cancelled_at_0_v(tmp_path):
    """A real `samplelab sample` process: the recording is closed before Windows kills it."""
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(DEVICE_PROBE)
    config = save_config(small_config(number_batches=60), tmp_path / "long.yaml")
    trigger, report, out = tmp_path / "close-now", tmp_path / "report.json", tmp_path / "out"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(probe), str(ROOT), str(ROOT / "tests")]),
        "SAMPLELAB_DEVICE_LOG": str(tmp_path / "device.json"),
        "SAMPLELAB_HOME": str(tmp_path / "home"),
    }
    sample = ["sample", str(config), "--out", str(out), "--realtime", "-q"]
    proc = subprocess.Popen(
        [sys.executable, "-c", CLOSE_THE_CONSOLE, str(trigger), str(report), *sample],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        path = wait_for_batches(out, 2, proc)
        trigger.touch()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 58, stderr
    assert json.loads(report.read_text())["returned"] == 1
    assert "Traceback" not in stderr and "outputs at 0 V" in stderr
    assert stdout.strip().splitlines()[-1] == str(path)
    with Recording(path) as rec:
        assert rec.status == "cancelled" and 2 <= rec.batches_done < 60
    device = json.loads((tmp_path / "device.json").read_text())
    assert device["zeroed"] >= 1 and device["volts"] == [0.0] * 7
