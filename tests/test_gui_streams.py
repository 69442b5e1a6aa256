"""The Streams page driven as a user does: pick a source and processing, Start, watch, Stop."""

from __future__ import annotations

import numpy as np
import torch
from guiinput import click_group_box_check
from guitools import (
    click,
    live_inputs,
    make_recording,
    make_window,
    settings_dir,
    show_page,
    type_into,
    window,
    write_config,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from scipy import signal

from backend.devices.models import SurrogateModel
from backend.recording.reader import Recording
from backend.streams import RandomStream

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def choose(page, source: str, speed: str | None = None) -> None:
    form = page.form
    form.source.setCurrentIndex(form.source.findData(source))
    if speed is not None:
        form.speed.setCurrentIndex(form.speed.findText(speed))


def shown_rows(page) -> np.ndarray:
    """Every row the display buffer holds (what the scope draws from)."""
    buffer = page.pipeline.buffer
    first, rows = buffer.read(buffer.first_available, buffer.total)
    assert first == 0, "the test streams fit the buffer"
    return rows


def recording_rows(path) -> np.ndarray:
    with Recording(path) as rec:
        return np.hstack(rec.read())


def run_to_the_end(qtbot, page) -> None:
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.status_label.text().startswith("Ended"), timeout=10_000)
    assert page.buttons["start"].isEnabled() and not page.buttons["stop"].isEnabled()


def save_surrogate(path) -> None:
    """A bspysmg-style training_data.pt: 7 inputs, 1 output, amplification 39.17."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(7, 20), torch.nn.ReLU(), torch.nn.Linear(20, 20), torch.nn.ReLU(),
        torch.nn.Linear(20, 1),
    )  # fmt: skip
    state = {f"raw_model.{k}": v for k, v in net.state_dict().items()}
    info = {
        "model_structure": {"hidden_sizes": [20, 20], "D_in": 7, "D_out": 1, "activation": "relu"},
        "electrode_info": {"output_electrodes": {"amplification": [39.17]}},
    }
    torch.save({"model_state_dict": state, "info": info}, path)


def running_allowed(page) -> dict:
    """The Streams page's inputs that stay live while a stream runs, and why."""
    form = page.form
    processing = (form.average, form.taps, form.model_box, form.model_path, form.factor)
    return {
        page.buttons["stop"]: "stops the stream",
        **{w: "the processing is rebuilt while it runs (docs/gui.md)" for w in processing},
        form.browse_model_button: "chooses a model for the processing",
        form.window_s: "the plots' time window; display only",
        **{w: "shows or hides a plotted channel" for w in page.picker.findChildren(QWidget)},
    }


def test_random_stream_shows_its_samples(qtbot, window):
    page = show_page(qtbot, window, "streams")
    choose(page, "random")
    type_into(qtbot, page.form.seed.lineEdit(), "5")
    type_into(qtbot, page.form.channels.lineEdit(), "3")
    type_into(qtbot, page.form.rate.lineEdit(), "2000")
    editable = live_inputs(page)
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.pipeline is not None and page.pipeline.buffer.total >= 1500)
    assert live_inputs(page, running_allowed(page)) == []
    qtbot.waitUntil(lambda: page.draws >= 2)
    lines = page.status_label.text().splitlines()
    assert lines[0] == "Streaming"
    assert lines[1].startswith("Source: ") and lines[1].endswith("rows/s (1× of 2,000 Hz)")
    assert lines[2] == "Display keeps up"
    assert not page.form.source.isEnabled()  # locked while streaming
    assert page.form.average.isEnabled()  # the processing may change while it runs
    click(qtbot, page.buttons["stop"])
    qtbot.waitUntil(lambda: page.status_label.text().startswith("Stopped"))
    assert set(editable) <= set(live_inputs(page))  # every input unlocked again
    rows = shown_rows(page)
    np.testing.assert_array_equal(rows, RandomStream(3, seed=5, fs=2000).get(len(rows)))
    assert page.picker.boxes[2].text() == "ch2"
    x, y = page.plot.curve_data(0)
    assert len(x) == len(y) > 0 and abs(x[-1]) < 0.01  # the newest samples at time 0
    assert page.plot.axis_label(0, "bottom") == "Time to now (s)"


def test_file_stream_with_moving_average_and_downsampling(qtbot, tmp_path, window):
    rec = make_recording(tmp_path / "rec.h5")  # 300 rows at 1000 Hz
    raw = recording_rows(rec)
    page = show_page(qtbot, window, "streams")
    choose(page, "file", "10×")
    type_into(qtbot, page.form.path, str(rec))
    page.form.average.setChecked(True)
    type_into(qtbot, page.form.taps.lineEdit(), "5")
    run_to_the_end(qtbot, page)
    rows = shown_rows(page)
    assert rows.shape == (300, 16)
    np.testing.assert_array_equal(rows[:, :8], raw)  # the file's rows, in order
    average = np.stack([np.convolve(raw[:, c], np.ones(5) / 5)[:300] for c in range(8)], axis=1)
    np.testing.assert_allclose(rows[:, 8:], average, rtol=0, atol=1e-12)
    assert page.layout_.names[8] == "Input 0 avg5"
    assert [page.plot.axis_label(r) for r in range(4)] == [
        "Voltage (V)", "Current (nA)", "Voltage (V)", "Current (nA)",
    ]  # fmt: skip
    _, y = page.plot.curve_data(15)
    np.testing.assert_allclose(y, average[:, 7])  # 300 rows: drawn undecimated

    # Downsampled by 3 (anti-aliased): scipy's resample_poly of the same rows.
    page.form.average.setChecked(False)
    type_into(qtbot, page.form.factor.lineEdit(), "3")
    run_to_the_end(qtbot, page)
    rows = shown_rows(page)
    expected = signal.resample_poly(raw, 1, 3, axis=0)
    assert rows.shape == expected.shape == (100, 8)
    np.testing.assert_allclose(rows, expected, atol=1e-9)
    assert page.status_label.text().endswith("shows 1 row in 3 (333.333 Hz)")


def test_surrogate_prediction_beside_the_measured_output(qtbot, tmp_path, window):
    rec = make_recording(tmp_path / "rec.h5")
    raw = recording_rows(rec)
    model_path = tmp_path / "training_data.pt"
    save_surrogate(model_path)
    page = show_page(qtbot, window, "streams")
    choose(page, "file", "As fast as possible")
    type_into(qtbot, page.form.path, str(rec))
    page.form.model_box.setChecked(True)
    type_into(qtbot, page.form.model_path, str(model_path))
    run_to_the_end(qtbot, page)
    rows = shown_rows(page)
    assert page.layout_.names[8:] == ["Measured Output 0", "Predicted Output 0"]
    np.testing.assert_array_equal(rows[:, 8], raw[:, 7])
    expected = SurrogateModel.load(model_path)(raw[:, :7])
    np.testing.assert_allclose(rows[:, 9], expected[:, 0], rtol=1e-5, atol=1e-4)
    assert page.plot.groups[-1].title.startswith("Surrogate model")
    assert page.plot.axis_label(len(page.plot.groups) - 1) == "Current (nA)"


def test_a_model_that_does_not_fit_is_refused_clearly(qtbot, tmp_path, window, monkeypatch):
    model_path = tmp_path / "training_data.pt"
    save_surrogate(model_path)
    page = show_page(qtbot, window, "streams")
    choose(page, "random")
    page.form.model_box.setChecked(True)
    type_into(qtbot, page.form.model_path, str(model_path))
    shown = []
    monkeypatch.setattr(page.ctx, "show_error", lambda exc, context="": shown.append(exc))
    editable = live_inputs(page)
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: bool(shown))
    assert "takes 7 inputs" in shown[0].message
    assert page.status_label.text().startswith("Failed")
    assert page.buttons["start"].isEnabled()
    assert set(editable) <= set(live_inputs(page))  # a failed start unlocks every input


def test_session_stream_gets_every_batch_in_order(qtbot, tmp_path, make_window):
    window = make_window(str(write_config(tmp_path, number_batches=40)))
    sampling = window.pages["sampling"]
    sampling.run_options.realtime.setChecked(True)  # about 70 ms a batch
    page = show_page(qtbot, window, "streams")
    choose(page, "session")
    click(qtbot, page.buttons["start"])  # no session yet: it waits for one
    assert page.status_label.text().startswith("Waiting for a session")
    assert live_inputs(page, running_allowed(page)) == []  # waiting is running
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: page.pipeline is not None and page.stats.rows >= 250, timeout=10_000)
    qtbot.waitUntil(lambda: "rows/s on average" in page.status_label.text(), timeout=5_000)
    head, source, display = page.status_label.text().splitlines()
    assert head == "Following the session from recording row 0"
    assert source.endswith("(sampled at 1,000 Hz, in 50-row batches)")
    assert display == "Display keeps up: every row shown, none dropped"
    click(qtbot, sampling.buttons["stop"])
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=10_000)
    qtbot.waitUntil(lambda: page.status_label.text().startswith("Ended"), timeout=10_000)
    result = sampling.last_result
    assert result.status == "cancelled"
    rows = shown_rows(page)
    assert page.stats.dropped == 0 and page.stats.first_row == 0  # attached before batch 0
    assert len(rows) == result.rows
    np.testing.assert_array_equal(rows, recording_rows(result.path))


def test_stopping_while_waiting_leaves_the_next_session_alone(qtbot, tmp_path, make_window):
    window = make_window(str(write_config(tmp_path, number_batches=4)))
    sampling = window.pages["sampling"]
    page = show_page(qtbot, window, "streams")
    choose(page, "session")
    editable = live_inputs(page)
    click(qtbot, page.buttons["start"])
    click(qtbot, page.buttons["stop"])
    assert page.status_label.text() == "Stopped"
    assert set(editable) <= set(live_inputs(page))  # unlocked again
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=10_000)
    assert sampling.last_result.status == "complete"
    assert page.pipeline is None and page.status_label.text() == "Stopped"
    assert not sampling.runner._watchers  # nothing left to attach to a later session


def test_a_missing_file_says_so(qtbot, tmp_path, window, monkeypatch):
    page = show_page(qtbot, window, "streams")
    choose(page, "file")
    type_into(qtbot, page.form.path, str(tmp_path / "nothing.h5"))
    shown = []
    monkeypatch.setattr(page.ctx, "show_error", lambda exc, context="": shown.append(exc))
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: bool(shown))
    assert "nothing.h5" in shown[0].message


def test_a_paced_session_reads_as_paced_and_its_processing_changes_while_running(
    qtbot, tmp_path, make_window
):
    """A paced session delivers fewer rows a second than it samples (a batch, then a pause):
    that is said of the source, while the display keeps up. Processing changes mid-stream
    with no row lost."""
    window = make_window(str(write_config(tmp_path, number_batches=60)))
    sampling = window.pages["sampling"]
    sampling.run_options.realtime.setChecked(True)
    page = show_page(qtbot, window, "streams")
    choose(page, "session")
    click(qtbot, page.buttons["start"])
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: page.stats.source_rate > 0 and page.stats.rows >= 600, timeout=15_000)
    assert page.stats.source_rate < 1000  # a batch of 50 ms, then the next one's set-up
    _, source, display = page.status_label.text().splitlines()
    assert "rows/s on average (sampled at 1,000 Hz, in 50-row batches)" in source
    assert display == "Display keeps up: every row shown, none dropped"
    assert "behind" not in page.status_label.text()

    # Tick the moving average on its group box's check box and type the taps, running.
    assert page.form.average.isEnabled() and not page.form.source.isEnabled()
    click_group_box_check(qtbot, page.form.average)
    type_into(qtbot, page.form.taps.lineEdit(), "4")
    qtbot.waitUntil(lambda: page.layout_.names[-1] == "Output 0 avg4", timeout=5_000)
    assert len(page.plot.groups) == 4 and page.picker.boxes[15].text() == "Output 0 avg4 (nA)"
    switched_at = page.stats.source_rows
    qtbot.waitUntil(lambda: page.stats.source_rows > switched_at + 200, timeout=10_000)
    click(qtbot, sampling.buttons["stop"])
    qtbot.waitUntil(lambda: page.status_label.text().startswith("Ended"), timeout=10_000)
    assert page.stats.dropped == 0
    recorded = recording_rows(sampling.last_result.path)
    rows = shown_rows(page)
    # The new buffer holds the recording's last rows, without a gap, and their average
    # from the row the change took effect (the filter starts afresh there).
    raw = recorded[len(recorded) - len(rows) :]
    np.testing.assert_array_equal(rows[:, :8], raw)
    average = np.stack([np.convolve(raw[:, c], np.ones(4) / 4)[: len(raw)] for c in range(8)], 1)
    np.testing.assert_allclose(rows[:, 8:], average, rtol=0, atol=1e-9)
    assert page.form.source.isEnabled()  # unlocked once the stream ended


def test_a_processing_change_that_fails_keeps_the_stream_going(
    qtbot, tmp_path, window, monkeypatch
):
    model_path = tmp_path / "training_data.pt"
    save_surrogate(model_path)  # 7 inputs; a 3-channel random signal cannot feed it
    page = show_page(qtbot, window, "streams")
    choose(page, "random")
    type_into(qtbot, page.form.channels.lineEdit(), "3")
    shown = []
    monkeypatch.setattr(page.ctx, "show_error", lambda exc, context="": shown.append(exc))
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.stats.rows >= 200)
    click_group_box_check(qtbot, page.form.model_box)
    type_into(qtbot, page.form.model_path, str(model_path))
    qtbot.keyClick(page.form.model_path, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert "takes 7 inputs" in shown[0].message
    rows = page.stats.rows
    qtbot.waitUntil(lambda: page.stats.rows > rows + 100)  # still streaming, as before
    assert page.layout_.names == ["ch0", "ch1", "ch2"]
    click(qtbot, page.buttons["stop"])
