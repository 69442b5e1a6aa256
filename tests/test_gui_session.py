"""A whole sampling session driven through the window as a user clicks it."""

from __future__ import annotations

import numpy as np
import pytest
from guitools import (
    click,
    live_inputs,
    make_window,
    settings_dir,
    start_long_session,
    type_into,
    wait_for_dialog,
    window,
    write_config,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QToolButton

from backend.devices import FaultPlan, SimulatedDevice
from backend.recording.reader import Recording

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def open_via_dialog(qtbot, monkeypatch, window, path) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), ""))
    )
    click(qtbot, window.findChild(QToolButton, "button_open"))


def running_allowed(page) -> dict:
    """The Sampling page's inputs that stay live while a session runs, and why (the form,
    run options and notes are locked: they are the running session's, see docs/gui.md)."""
    return {
        page.buttons["pause"]: "pauses the session",
        page.buttons["resume"]: "resumes a paused session",
        page.buttons["stop"]: "stops the session",
        page.status.saturation.threshold: "when to warn about saturation; display only",
    }


def test_a_whole_session_by_clicking(qtbot, monkeypatch, tmp_path, window):
    page = window.pages["sampling"]
    config_path = write_config(tmp_path, number_batches=150)
    open_via_dialog(qtbot, monkeypatch, window, config_path)
    assert page.files.path == config_path
    assert page.form.editors["input_data.number_batches"].text() == "150"
    assert window.windowTitle().startswith("small.yaml")

    # A bad value: the message appears next to the field and Start is disabled.
    batch_time = page.form.editors["input_data.batch_time"]
    type_into(qtbot, batch_time, "0.0505")
    assert "not an integer" in page.form.problem("input_data.batch_time")
    assert page.form.errors["input_data.batch_time"].isVisible()
    assert not page.buttons["start"].isEnabled()
    assert "*" in window.windowTitle()
    type_into(qtbot, batch_time, "0.05")
    assert page.form.problem("input_data.batch_time") == ""
    assert page.buttons["start"].isEnabled()

    page.run_options.realtime.setChecked(True)  # 70 ms a batch: slow enough to pause
    type_into(qtbot, page.run_options.seed, "11")
    editable = live_inputs(page)
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.runner.state == "running", timeout=10_000)
    assert not page.form.editors["input_data.batch_time"].isEnabled()  # locked while running
    assert live_inputs(page, running_allowed(page)) == []
    qtbot.waitUntil(lambda: page.progress.bar.value() >= 3, timeout=10_000)

    click(qtbot, page.buttons["pause"])
    qtbot.waitUntil(lambda: page.runner.session.state == "paused", timeout=5_000)
    assert page.buttons["resume"].isEnabled() and not page.buttons["pause"].isEnabled()
    assert page.progress.state.text() == "Paused"
    assert live_inputs(page, running_allowed(page)) == []
    done = page.runner.session.writer.batches_done
    qtbot.wait(250)
    assert page.runner.session.writer.batches_done == done  # nothing sampled while paused

    click(qtbot, page.buttons["resume"])
    qtbot.waitUntil(lambda: page.runner.session.writer.batches_done >= done + 2, timeout=5_000)
    click(qtbot, page.buttons["stop"])
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=10_000)

    result = page.last_result
    assert result.status == "cancelled"
    assert page.progress.state.text() == "Stopped"
    assert page.buttons["start"].isEnabled()
    assert page.form.editors["input_data.batch_time"].isEnabled()
    assert set(editable) <= set(live_inputs(page))  # every input unlocked again
    assert "kept" in window.statusBar().currentMessage()
    with Recording(result.path) as rec:
        assert rec.status == "cancelled"
        assert rec.seed == 11
        assert rec.batches_done == result.batches_done >= done + 2
        assert rec.n_rows == rec.batches_done * 50
        inputs, outputs = rec.read()
        assert inputs.shape == (rec.n_rows, 7) and outputs.shape == (rec.n_rows, 1)
        last_outputs = outputs[-50:, 0]

    # The plots got the data: one curve per electrode, named, with units on the axes.
    plots = page.plots
    names = [f"Input {i}" for i in range(7)]
    assert plots.inputs_batch.legend_names() == names
    assert plots.inputs_history.legend_names() == names
    assert plots.outputs_batch.legend_names() == ["Output 0"]
    assert plots.inputs_batch.axis_label("left") == "Voltage (V)"
    assert plots.outputs_batch.axis_label("left") == "Current (nA)"
    assert plots.outputs_history.axis_label("bottom") == "Time to now (s)"
    for plot in plots.plots():
        for i in range(len(plot.curves)):
            x, y = plot.curve_data(i)
            assert len(x) == len(y) > 0
    x, y = plots.outputs_batch.curve_data(0)
    assert x[0] == 0 and x[-1] == pytest.approx(49 / 1000)
    np.testing.assert_allclose(y, last_outputs)  # 50 rows: drawn undecimated
    hx, hy = plots.inputs_history.curve_data(0)
    assert hx[-1] == 0 and hx[0] == pytest.approx(-(min(rec.n_rows, 16 * 50) - 1) / 1000)
    np.testing.assert_allclose(hy[-50:], inputs[-50:, 0])
    assert plots.draws >= 2


def test_session_shortcuts_and_completion(qtbot, tmp_path, make_window):
    window = make_window(str(write_config(tmp_path, number_batches=4)))
    page = window.pages["sampling"]
    page.run_options.realtime.setChecked(False)
    assert "F5" in page.start_action.toolTip() and "Shift+F5" in page.stop_action.toolTip()
    session_menu = window.menus["Session"]
    assert [a.text() for a in session_menu.actions()] == ["Start", "Pause", "Resume", "Stop"]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=10_000)
    assert page.last_result.status == "complete"
    assert page.progress.bar.text() == "batch 4 / 4"
    assert page.progress.state.text() == "Complete"
    with Recording(page.last_result.path) as rec:
        assert (rec.status, rec.batches_done, rec.n_rows) == ("complete", 4, 200)


def test_device_fault_mid_run_stops_safely_and_keeps_data(qtbot, tmp_path, make_window):
    window = make_window(str(write_config(tmp_path, number_batches=8)))
    page = window.pages["sampling"]
    made = []

    def faulty(kind, config, seed, options):
        device = SimulatedDevice(config, model="analytic", faults=FaultPlan(timeout_at=3))
        made.append(device)
        return device

    page.device_factory = faulty
    editable = live_inputs(page)
    click(qtbot, page.buttons["start"])
    dialog = wait_for_dialog(qtbot)
    assert "batch 3 timed out" in dialog.message
    assert "check the connection" in dialog.hint
    assert "0 V" in dialog.hint and "3 batches" in dialog.hint
    assert dialog.details == ""  # a user error: no traceback
    assert "Traceback" not in dialog.text() + dialog.informativeText()
    device = made[0]
    assert np.all(device.output_voltages == 0) and device.zeroed > 0
    assert page.last_result.status == "failed"
    assert page.progress.state.text() == "Failed"
    with Recording(page.last_result.path) as rec:
        assert (rec.status, rec.batches_done, rec.n_rows) == ("failed", 3, 150)
        assert "timed out" in rec.message
    assert any("timed out" in line for line in window.log_dock.lines())
    dialog.close()
    assert set(editable) <= set(live_inputs(page))  # a failed session unlocks every input


def test_closing_during_a_session_stops_it_and_keeps_the_data(
    qtbot, monkeypatch, tmp_path, make_window
):
    window, page, session = start_long_session(qtbot, make_window, tmp_path)
    asked = []

    def yes(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(yes))
    assert window.close()
    assert asked and "0 V" in asked[0]
    assert not page.runner.worker.running
    assert session.state == "cancelled"
    assert np.all(session.device.output_voltages == 0) and session.device.zeroed > 0
    with Recording(session.writer.path) as rec:
        assert rec.status == "cancelled"
        assert 2 <= rec.batches_done < 500
        assert rec.n_rows == rec.batches_done * 50


def test_closing_can_be_refused(qtbot, monkeypatch, tmp_path, make_window):
    window = make_window(str(write_config(tmp_path, number_batches=500)))
    page = window.pages["sampling"]
    page.run_options.realtime.setChecked(True)
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.runner.state == "running", timeout=10_000)
    no = QMessageBox.StandardButton.No
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: no))
    assert not window.close()
    assert window.isVisible() and page.runner.state == "running"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)  # Stop
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=10_000)
    assert page.last_result.status == "cancelled"
