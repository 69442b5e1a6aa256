"""The Device page driven as a user does: typing, clicking, dragging a slider."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from chartools import LIFECYCLE, SpyDevice, faulty
from conftest import BSPYSMG_FIXTURES, small_config
from guitools import (
    click,
    live_inputs,
    make_window,
    settings_dir,
    show_page,
    type_into,
    wait_for_dialog,
    window,
    write_config,
)
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionSlider

from app.pages.device.setup import DeviceRequest
from backend.acquisition.safety import MAX_SLEW_V_PER_S
from backend.config import save_config
from backend.recording.reader import Recording

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name

STEP = MAX_SLEW_V_PER_S / 1000 + 1e-9  # the largest step a held session allows (V)


@pytest.fixture
def devices(monkeypatch) -> list[SpyDevice]:
    """Every device the page builds is a SpyDevice (fast, or paced when asked), kept here."""
    made: list[SpyDevice] = []

    def make(request: DeviceRequest, config):
        device = SpyDevice(config, realtime=request.realtime)
        made.append(device)
        return device

    monkeypatch.setattr(DeviceRequest, "make", make)
    return made


def open_page(qtbot, window, tmp_path, config_path: Path | None = None):
    page = show_page(qtbot, window, "device")
    type_into(qtbot, page.setup.out_dir, str(tmp_path / "results"))
    if config_path is not None:
        type_into(qtbot, page.setup.config_path, str(config_path))
        qtbot.keyClick(page.setup.config_path, Qt.Key.Key_Return)
    return page


def test_an_iv_sweep_by_clicking_with_curves_as_they_come(qtbot, tmp_path, window, devices):
    page = open_page(
        qtbot, window, tmp_path, BSPYSMG_FIXTURES / "small_sine" / "sampler_configs.json"
    )
    assert "7 electrodes, 1 output, 2500 Hz" in page.setup.config_note.text()
    page.setup.realtime.setChecked(False)
    tool = page.iv
    type_into(qtbot, tool.points.lineEdit(), "60")
    qtbot.keyClick(tool.points, Qt.Key.Key_Return)
    assert tool.points.value() == 60
    click(qtbot, tool.controls.start_button)
    qtbot.waitUntil(lambda: tool.result is not None, timeout=20_000)
    assert tool.grid.panels_with_data() == list(range(7))
    assert "Done; outputs at 0 V" in tool.controls.state.text()
    assert devices[-1].at_zero()
    plots = list(tool.grid.plots)
    click(qtbot, tool.controls.start_button)  # again on the same wiring: panels reused
    assert tool.result is None and tool.grid.panels_with_data() == []
    qtbot.waitUntil(lambda: tool.result is not None, timeout=20_000)
    assert tool.grid.plots == plots and tool.grid.panels_with_data() == list(range(7))
    npz = Path(tool.result["iv_curves.npz"])
    assert npz.is_file() and npz.parent.parent == tmp_path / "results"
    curves = np.load(npz)
    assert curves["voltages"].shape == (7, 60)
    click(qtbot, tool.open_button)
    recordings = window.pages["recordings"]
    assert window.tabs.currentWidget() is recordings
    qtbot.waitUntil(lambda: recordings.view.info is not None, timeout=20_000)
    assert recordings.view.info.kind == "iv-curves" and recordings.view.info.channels == 14


def test_cancel_a_sweep_ends_at_zero_and_writes_nothing(qtbot, tmp_path, window, devices):
    config = small_config().model_copy(deep=True)
    config.driver.instruments_setup.activation_sampling_frequency = 200  # 2 s per sweep
    config.driver.instruments_setup.readout_sampling_frequency = 400
    config.input_data.batch_time, config.input_data.ramp_time = 0.25, 0.05
    page = open_page(qtbot, window, tmp_path, save_config(config, tmp_path / "slow.yaml"))
    page.setup.realtime.setChecked(True)
    tool = page.iv
    type_into(qtbot, tool.points.lineEdit(), "400")
    qtbot.keyClick(tool.points, Qt.Key.Key_Return)
    editable = live_inputs(page)
    click(qtbot, tool.controls.start_button)
    qtbot.waitUntil(lambda: bool(devices) and len(devices[-1].sent) >= 1, timeout=10_000)
    assert not page.setup.config_path.isEnabled()  # the wiring is locked while it runs
    assert live_inputs(page, {tool.controls.cancel_button: "cancels the sweep"}) == []
    click(qtbot, tool.controls.cancel_button)
    qtbot.waitUntil(lambda: not tool.busy, timeout=20_000)
    qtbot.waitUntil(lambda: "Cancelled" in tool.controls.state.text(), timeout=5_000)
    assert set(editable) <= set(live_inputs(page))  # every input unlocked again
    assert devices[-1].at_zero() and len(devices[-1].sent) < 7
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.npz"))
    assert tool.controls.start_button.isEnabled() and page.setup.config_path.isEnabled()


def test_nothing_starts_while_a_sampling_session_drives_the_device(
    qtbot, tmp_path, window, devices
):
    sampling = window.pages["sampling"]
    sampling.files.load(write_config(tmp_path, number_batches=400))
    sampling.run_options.realtime.setChecked(True)
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: sampling.runner.state == "running", timeout=10_000)
    page = open_page(qtbot, window, tmp_path)
    assert "from the Sampling page" in page.setup.config_note.text()
    click(qtbot, page.iv.controls.start_button)
    assert not page.iv.busy and devices == []
    assert "sampling session is running" in page.iv.controls.state.text()
    assert "only one thing may drive the device" in window.statusBar().currentMessage()
    sampling.runner.stop()
    qtbot.waitUntil(lambda: not sampling.runner.active, timeout=20_000)


def test_a_consistency_check_shows_rmse_per_repetition_and_the_verdict(qtbot, tmp_path, window):
    folder = BSPYSMG_FIXTURES / "small_sawtooth"
    page = open_page(qtbot, window, tmp_path)
    page.tools.setCurrentWidget(page.check)
    tool = page.check
    pt = BSPYSMG_FIXTURES / LIFECYCLE.format("sawtooth") / "training_data.pt"
    type_into(qtbot, page.setup.model, str(pt))
    page.setup.realtime.setChecked(False)
    type_into(qtbot, tool.folder, str(folder))
    type_into(qtbot, tool.repetitions.lineEdit(), "4")
    qtbot.keyClick(tool.repetitions, Qt.Key.Key_Tab)
    editable = live_inputs(page)
    click(qtbot, tool.controls.start_button)
    assert tool.busy  # its result waits for the event loop: this is the running state
    assert live_inputs(page, {tool.controls.cancel_button: "cancels the check"}) == []
    qtbot.waitUntil(lambda: tool.result is not None, timeout=30_000)
    x, y = tool.rmse_curve.getData()
    assert list(x) == [1, 2, 3, 4]
    np.testing.assert_allclose(y, 40.24515084, atol=1e-4)  # the peer's deviation
    assert tool.verdict.text().startswith("drifted: worst RMSE 40.2 nA")
    assert len(tool.chargeup_curve.getData()[0]) == 3
    assert Path(tool.files["consistency_verdict.json"]).is_file()
    assert set(editable) <= set(live_inputs(page))  # every input unlocked again
    click(qtbot, tool.open_button)
    recordings = window.pages["recordings"]
    qtbot.waitUntil(lambda: recordings.view.info is not None, timeout=20_000)
    assert recordings.view.info.kind == "consistency" and recordings.view.info.channels == 4


def slider_handle(slider) -> QPoint:
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    rect = slider.style().subControlRect(
        QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, slider
    )
    return rect.center()


def held_between_frames(device: SpyDevice, first: int) -> None:
    """Every frame from `first` on starts where the one before ended: no return to 0 V."""
    for before, after in zip(device.sent[first:], device.sent[first + 1 :]):
        assert np.abs(after[:, 0] - before[:, -1]).max() <= STEP


def test_live_panel_slider_drag_spin_typing_record_and_leaving(qtbot, tmp_path, window, devices):
    page = open_page(qtbot, window, tmp_path, write_config(tmp_path))
    page.tools.setCurrentWidget(page.live)
    page.setup.realtime.setChecked(True)
    tool = page.live
    levels = tool.levels
    assert len(levels.sliders) == 7 and levels.spins[5].maximum() == 0.3
    type_into(qtbot, tool.slew.lineEdit(), "5")
    qtbot.keyClick(tool.slew, Qt.Key.Key_Return)
    click(qtbot, tool.controls.start_button)
    qtbot.waitUntil(lambda: tool.busy and tool.panel is not None, timeout=10_000)
    assert tool.panel.settings.slew_v_per_s == 5.0 and tool.panel.settings.frame_s == 0.1
    allowed = {
        tool.controls.cancel_button: "Stop ramps the outputs to 0 V",
        tool.pause: "Pause ramps to 0 V until pressed again",
        tool.record: "records the frames until pressed again",
        **{w: "steers the running panel" for w in (tool.slew, tool.amplitude, tool.frequency)},
        **{w: "a level the panel drives now" for w in (*levels.sliders, *levels.spins)},
        levels.zero_button: "sends every level to 0 V now",
    }
    assert live_inputs(page, allowed) == []  # the frame length and the wiring are locked

    slider = levels.sliders[0]  # [-1.2, 0.6] V: drag the handle to the far right
    start = slider_handle(slider)
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(slider, QPoint(slider.width() + 40, start.y()))
    qtbot.mouseRelease(
        slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.width() + 40, start.y())
    )
    assert slider.value() == 600 and levels.spins[0].value() == pytest.approx(0.6)
    qtbot.waitUntil(lambda: tool.panel.targets[0] == pytest.approx(0.6), timeout=5_000)

    spin = levels.spins[5]  # [-0.7, 0.3] V: typing beyond it is held at the end
    type_into(qtbot, spin.lineEdit(), "-0.95")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() >= -0.7
    type_into(qtbot, spin.lineEdit(), "-0.5")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert levels.sliders[5].value() == -500
    qtbot.waitUntil(lambda: tool.panel.targets[5] == pytest.approx(-0.5), timeout=5_000)
    qtbot.waitUntil(lambda: tool.panel.levels[5] == pytest.approx(-0.5), timeout=10_000)
    qtbot.waitUntil(lambda: tool.panel.levels[0] == pytest.approx(0.6), timeout=10_000)
    qtbot.waitUntil(lambda: "nA" in tool.readout.text(), timeout=5_000)
    qtbot.waitUntil(lambda: levels.reached[5].text() == "-0.500 V", timeout=5_000)

    # the levels are held: frame after frame at 0.6 V and -0.5 V, never back to 0 V between
    device = devices[-1]
    reached = len(device.sent)
    qtbot.waitUntil(lambda: len(device.sent) >= reached + 4, timeout=5_000)
    held_between_frames(device, 0)
    for frame in device.sent[reached:]:
        assert (frame[0] == 0.6).all() and (frame[5] == -0.5).all()
    assert not device.moves  # nothing but frames so far: no ramp to 0 V and back
    buffer = tool.buffer
    assert buffer.total >= 100 * len(device.sent[reached:])  # the current, read continuously

    click(qtbot, tool.record)
    qtbot.waitUntil(lambda: tool.panel.recording_path is not None, timeout=10_000)
    qtbot.wait(300)
    click(qtbot, tool.record)
    qtbot.waitUntil(lambda: tool.panel.recording_path is None, timeout=10_000)

    click(qtbot, tool.pause)  # pausing: ramped to 0 V, nothing sent until Resume
    qtbot.waitUntil(lambda: tool.panel.levels[5] == 0.0 and not device.output_voltages.any())
    ramp = device.moves[-1]
    assert ramp[0, 0] == pytest.approx(0.6, abs=STEP) and not ramp[:, -1].any()
    frames = len(device.sent)
    qtbot.wait(300)
    assert len(device.sent) == frames
    click(qtbot, tool.pause)
    qtbot.waitUntil(lambda: len(device.sent) > frames + 2, timeout=5_000)
    held_between_frames(device, frames)
    assert device.sent[frames][0, 0] == pytest.approx(0.005)  # slewing up from 0 V again

    scope = device.scope()
    ranges = device.ranges
    assert (scope >= ranges[:, :1] - 1e-9).all() and (scope <= ranges[:, 1:] + 1e-9).all()

    show_page(qtbot, window, "sampling")  # leaving the page: ramped to 0 V, device closed
    qtbot.waitUntil(lambda: not tool.busy, timeout=10_000)
    assert device.at_zero() and not device.moves[-1][:, -1].any()
    assert device.largest_step().max() <= STEP
    # The end reaches the GUI as a queued signal, after the worker stopped running.
    stopped = "Stopped; outputs ramped to 0 V"
    qtbot.waitUntil(lambda: tool.controls.state.text() == stopped, timeout=5_000)
    (path,) = tool.recordings
    with Recording(path) as rec:
        assert rec.status == "complete" and rec.batches_done == rec.batches_planned >= 1
        assert rec.config.data_name == "device_panel"
    assert tool.open_button.isEnabled()


def test_closing_the_window_while_live_ramps_the_held_levels_to_zero(
    qtbot, tmp_path, make_window, devices, monkeypatch
):
    window = make_window()
    page = open_page(qtbot, window, tmp_path, write_config(tmp_path))
    page.tools.setCurrentWidget(page.live)
    tool = page.live
    spin = tool.levels.spins[1]  # [-1.2, 0.6] V
    type_into(qtbot, spin.lineEdit(), "-0.8")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    type_into(qtbot, tool.slew.lineEdit(), "10")
    qtbot.keyClick(tool.slew, Qt.Key.Key_Return)
    click(qtbot, tool.controls.start_button)
    qtbot.waitUntil(lambda: tool.busy and tool.panel is not None, timeout=10_000)
    qtbot.waitUntil(lambda: tool.panel.levels[1] == pytest.approx(-0.8), timeout=10_000)
    device = devices[-1]
    monkeypatch.setattr("app.dialogs.confirm", lambda *args: True)  # "Stop and close?" Yes
    window.close()
    assert not tool.busy and device.at_zero()
    ramp = device.moves[-1]
    assert ramp[1, 0] == pytest.approx(-0.8, abs=STEP) and not ramp[:, -1].any()
    assert device.largest_step().max() <= STEP


def test_a_device_error_while_live_ramps_down_and_says_so(qtbot, tmp_path, window, monkeypatch):
    made: list[SpyDevice] = []

    def make(request, config):
        made.append(faulty(config, "timeout@8", realtime=True))
        return made[-1]

    monkeypatch.setattr(DeviceRequest, "make", make)
    page = open_page(qtbot, window, tmp_path, write_config(tmp_path))
    page.tools.setCurrentWidget(page.live)
    tool = page.live
    qtbot.mouseClick(tool.levels.sliders[3], Qt.MouseButton.LeftButton)  # a click on the track
    assert tool.levels.spins[3].value() != 0.0
    editable = live_inputs(page)
    click(qtbot, tool.controls.start_button)
    dialog = wait_for_dialog(qtbot)
    assert "timed out" in dialog.message and "ramped to 0 V" in dialog.hint
    qtbot.waitUntil(lambda: not tool.busy, timeout=10_000)
    device = made[-1]
    assert tool.controls.state.text() == "Failed; outputs ramped to 0 V"
    assert set(editable) <= set(live_inputs(page))  # a failed panel unlocks every input
    assert device.at_zero() and device.moves and not device.moves[-1][:, -1].any()
    assert device.largest_step().max() <= STEP
