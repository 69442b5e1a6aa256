"""The Streams page driven as a user does: pick a source and processing, Start, watch, Stop."""

from __future__ import annotations

import numpy as np
import torch
from guitools import (
    click,
    make_recording,
    make_window,
    settings_dir,
    show_page,
    type_into,
    window,
    write_config,
)
from scipy import signal

from backend.devices.models import SurrogateModel
from backend.recording import Recording
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


def test_random_stream_shows_its_samples(qtbot, window):
    page = show_page(qtbot, window, "streams")
    choose(page, "random")
    type_into(qtbot, page.form.seed.lineEdit(), "5")
    type_into(qtbot, page.form.channels.lineEdit(), "3")
    type_into(qtbot, page.form.rate.lineEdit(), "2000")
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.pipeline is not None and page.pipeline.buffer.total >= 1500)
    qtbot.waitUntil(lambda: page.draws >= 2)
    assert "rows/s (stream 2,000 Hz)" in page.status_label.text()
    assert not page.form.source.isEnabled()  # locked while streaming
    click(qtbot, page.buttons["stop"])
    qtbot.waitUntil(lambda: page.status_label.text().startswith("Stopped"))
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
    assert "stream 333.333 Hz" in page.status_label.text()


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
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: bool(shown))
    assert "takes 7 inputs" in shown[0].message
    assert page.status_label.text().startswith("Failed")
    assert page.buttons["start"].isEnabled()


def test_session_stream_gets_every_batch_in_order(qtbot, tmp_path, make_window):
    window = make_window(str(write_config(tmp_path, number_batches=40)))
    sampling = window.pages["sampling"]
    sampling.run_options.realtime.setChecked(True)  # about 70 ms a batch
    page = show_page(qtbot, window, "streams")
    choose(page, "session")
    click(qtbot, page.buttons["start"])  # no session yet: it waits for one
    assert page.status_label.text().startswith("Waiting for a session")
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: page.pipeline is not None and page.stats.rows >= 250, timeout=10_000)
    assert "Following the session" in page.status_label.text()
    assert "dropped 0 rows" in page.status_label.text()
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
    click(qtbot, page.buttons["start"])
    click(qtbot, page.buttons["stop"])
    assert page.status_label.text() == "Stopped"
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
