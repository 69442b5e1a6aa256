"""One thing drives the device at a time, whichever page starts it (the session service).

Driven as a user does: a resume is clicked on the Recordings page, a sweep on
the Device page, Start on the Sampling page; whichever comes second is
refused with a message saying what holds the device, and nothing reaches it.
"""

from __future__ import annotations

import pytest
from chartools import SpyDevice
from conftest import small_config
from guitools import (
    click,
    live_inputs,
    make_window,
    settings_dir,
    show_page,
    type_into,
    window,
    write_config,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from test_gui_device import devices
from test_gui_recordings import choose_folder, open_file

from backend.config import save_config
from backend.devices import FaultPlan
from backend.recording.reader import Recording
from backend.sampling.session import start_session
from widgets.channelpicker import ChannelPicker

__all__ = ["devices", "make_window", "settings_dir", "window"]  # fixtures used by name

ONE_DRIVER = "only one thing may drive the device at a time"


def interrupted_recording(tmp_path, batches: int = 200):
    """A recording that stopped after 2 of `batches` batches (a disconnect): resumable."""
    folder = tmp_path / "resume"
    folder.mkdir()
    path = folder / "part.h5"
    fault = FaultPlan.parse("disconnect@2")
    config = small_config(number_batches=batches)
    session = start_session(config, "simulated", path=path, seed=9, model="analytic", faults=fault)
    assert session.run().status == "failed"
    return path


@pytest.fixture
def paced_resume(monkeypatch):
    """Resumed sessions run at the lab's pace (about 70 ms a batch), so one is seen running."""
    import backend.sampling.session as sampling

    original = sampling.resume_session
    monkeypatch.setattr(
        sampling, "resume_session", lambda path, **kw: original(path, realtime=True, **kw)
    )


def resume_by_clicking(qtbot, monkeypatch, window, path):
    page = show_page(qtbot, window, "recordings")
    choose_folder(qtbot, monkeypatch, page, path.parent)
    open_file(qtbot, page, path)
    qtbot.waitUntil(page.resume_action.isEnabled, timeout=10_000)
    click(qtbot, page.buttons["resume"])
    qtbot.waitUntil(lambda: page.runner.state == "running", timeout=10_000)
    return page


def batches_done(path) -> int:
    with Recording(path) as rec:
        return rec.batches_done


def resuming_allowed(page) -> dict:
    """The Recordings page's inputs that stay live while a resume runs, and why (the page
    only views files; Resume itself is greyed out)."""
    tree = page.tree
    pickers = page.view.findChildren(ChannelPicker)
    return {
        page.buttons["stop_resume"]: "stops the resume",
        page.stacked: "how the lanes are drawn; display only",
        page.follow: "keeps the growing file's end in view; display only",
        page.buttons["show_all"]: "shows the whole file; view only",
        tree.choose_button: "browses another folder; view only",
        tree.show_all: "lists every file in the browser; view only",
        tree.offer_button: "views the newest recording; view only",
        **{w: "shows or hides a lane" for p in pickers for w in p.findChildren(QWidget)},
    }


def test_sampling_refuses_to_start_while_a_resume_drives_the_device(
    qtbot, monkeypatch, tmp_path, make_window, paced_resume
):
    window = make_window(str(write_config(tmp_path, number_batches=3)))
    path = interrupted_recording(tmp_path)
    recordings = resume_by_clicking(qtbot, monkeypatch, window, path)
    assert live_inputs(recordings, resuming_allowed(recordings)) == []
    sampling = show_page(qtbot, window, "sampling")
    assert sampling.buttons["start"].isEnabled()
    click(qtbot, sampling.buttons["start"])
    assert sampling.runner.state == "idle" and sampling.last_result is None
    message = window.statusBar().currentMessage()
    assert message.startswith("Not started: a recording is being resumed") and ONE_DRIVER in message
    assert recordings.runner.state == "running"  # the resume goes on untouched
    show_page(qtbot, window, "recordings")
    click(qtbot, recordings.buttons["stop_resume"])
    qtbot.waitUntil(lambda: not recordings.runner.active, timeout=20_000)
    kept = batches_done(path)
    assert 2 < kept < 200
    # The device is free again: Start samples.
    show_page(qtbot, window, "sampling")
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=20_000)
    assert sampling.last_result.status == "complete"
    assert batches_done(path) == kept  # the resumed recording was left alone


def test_a_resume_is_refused_while_a_sampling_session_runs(
    qtbot, monkeypatch, tmp_path, make_window
):
    window = make_window(str(write_config(tmp_path, number_batches=400)))
    path = interrupted_recording(tmp_path, batches=8)
    sampling = window.pages["sampling"]
    assert sampling.run_options.realtime.isChecked()  # the lab's pace: it keeps running
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: sampling.runner.state == "running", timeout=10_000)
    page = show_page(qtbot, window, "recordings")
    choose_folder(qtbot, monkeypatch, page, path.parent)
    open_file(qtbot, page, path)
    qtbot.waitUntil(page.resume_action.isEnabled, timeout=10_000)
    click(qtbot, page.buttons["resume"])
    assert not page.runner.active
    message = window.statusBar().currentMessage()
    assert message == "Not resumed: a sampling session is running; stop it first"
    assert batches_done(path) == 2
    show_page(qtbot, window, "sampling")
    click(qtbot, sampling.buttons["stop"])
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=20_000)
    assert sampling.last_result.status == "cancelled"


def test_sampling_refuses_to_start_while_an_iv_sweep_runs(
    qtbot, tmp_path, make_window, devices: list[SpyDevice]
):
    window = make_window(str(write_config(tmp_path, number_batches=3)))
    config = small_config().model_copy(deep=True)
    config.driver.instruments_setup.activation_sampling_frequency = 200  # 2 s per sweep
    config.driver.instruments_setup.readout_sampling_frequency = 400
    config.input_data.batch_time, config.input_data.ramp_time = 0.25, 0.05
    device = show_page(qtbot, window, "device")
    type_into(qtbot, device.setup.out_dir, str(tmp_path / "results"))
    type_into(qtbot, device.setup.config_path, str(save_config(config, tmp_path / "slow.yaml")))
    qtbot.keyClick(device.setup.config_path, Qt.Key.Key_Return)
    device.setup.realtime.setChecked(True)
    click(qtbot, device.iv.controls.start_button)
    qtbot.waitUntil(lambda: bool(devices) and len(devices[-1].sent) >= 1, timeout=10_000)
    sampling = show_page(qtbot, window, "sampling")
    click(qtbot, sampling.buttons["start"])
    assert sampling.runner.state == "idle" and len(devices) == 1
    message = window.statusBar().currentMessage()
    assert message == f"Not started: an I-V sweep is running; {ONE_DRIVER}"
    show_page(qtbot, window, "device")
    click(qtbot, device.iv.controls.cancel_button)
    qtbot.waitUntil(lambda: not device.iv.busy, timeout=20_000)
    assert devices[-1].at_zero()


def test_the_service_names_what_holds_the_device_but_never_the_asker(qtbot, window):
    sessions = window.ctx.sessions
    busy = {"on": False}
    owner = object()
    sessions.add_user(owner, lambda: busy["on"], "the test rig is running")
    assert sessions.busy_reason() is None
    busy["on"] = True
    assert sessions.busy_reason() == "the test rig is running"
    assert sessions.busy_reason(owner) is None  # its own work does not block it
    assert sessions.busy_reason(sessions.sampling) == "the test rig is running"
