"""The Models page driven as a user does: datasets, settings typed, Train, Cancel, hand-over."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from guitools import (
    answer_questions,
    click,
    copy_fixture,
    live_inputs,
    make_window,
    settings_dir,
    show_page,
    type_into,
    window,
    write_config,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QToolButton
from test_gui_session import running_allowed

from backend.models import SurrogateModel
from backend.recording.reader import Recording

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def choose_files(monkeypatch, *paths) -> None:
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        staticmethod(lambda *a, **k: ([str(p) for p in paths], "")),
    )


def add_dataset(qtbot, monkeypatch, page, path) -> list[str]:
    """Add files… in the dataset list; the peer npz's pickle is trusted when asked."""
    asked = answer_questions(monkeypatch, yes=True)
    choose_files(monkeypatch, path)
    click(qtbot, page.source_list.add_files)
    qtbot.waitUntil(lambda: bool(page.sources.paths()) and not page.sources.pending, timeout=20_000)
    return asked


def set_spin(qtbot, spin, value: int) -> None:
    type_into(qtbot, spin.lineEdit(), str(value))
    qtbot.keyClick(spin, Qt.Key.Key_Tab)


def ready_to_train(qtbot, monkeypatch, tmp_path, window, epochs: int):
    page = show_page(qtbot, window, "models")
    data = copy_fixture(tmp_path, "small_sine") / "postprocessed_data.npz"
    asked = add_dataset(qtbot, monkeypatch, page, data)
    assert any("pickle" in text for text in asked)
    type_into(qtbot, page.form.hidden, "16,16")
    set_spin(qtbot, page.form.epochs, epochs)
    set_spin(qtbot, page.form.batch_size, 64)
    type_into(qtbot, page.form.seed, "4")
    type_into(qtbot, page.out_edit, str(tmp_path / "model"))
    qtbot.waitUntil(page.buttons["train"].isEnabled, timeout=5_000)
    return page


def test_settings_are_checked_as_typed(qtbot, window):
    page = show_page(qtbot, window, "models")
    form = page.form
    type_into(qtbot, form.hidden, "90,ninety")
    assert form.errors["hidden"].isVisible() and "not understood" in form.errors["hidden"].text()
    type_into(qtbot, form.learning_rate, "7")
    assert "at most 1" in form.errors["learning_rate"].text()
    type_into(qtbot, form.split, "0.7,0.2")
    assert "add up to 1" in form.errors["split"].text()
    assert not page.buttons["train"].isEnabled()
    type_into(qtbot, form.hidden, "32x3")
    type_into(qtbot, form.learning_rate, "0.002")
    type_into(qtbot, form.split, "0.7,0.2,0.1")
    assert not any(label.isVisible() for label in form.errors.values())
    settings = form.settings()
    assert settings.hidden == (32, 32, 32) and settings.learning_rate == 0.002
    assert not page.buttons["train"].isEnabled()  # still no dataset


def test_train_two_epochs_then_use_the_model_as_the_simulated_device(
    qtbot, monkeypatch, tmp_path, window
):
    page = ready_to_train(qtbot, monkeypatch, tmp_path, window, epochs=2)
    click(qtbot, page.buttons["train"])
    assert not page.form.hidden.isEnabled()  # locked while training
    qtbot.waitUntil(lambda: page.worker is None, timeout=60_000)
    result = page.results.result
    assert result is not None and result.status == "complete"
    train, val = page.results.curves.curves()
    assert len(train) == len(val) == 2
    assert "Test" in page.results.summary.text() and page.progress.format().startswith("Done")
    assert page.results.split.currentData() == "test"
    assert page.results.prediction.shown == result.scores["test"].rows == 68
    checkpoint = tmp_path / "model" / "training_data.pt"
    assert page.model_path == checkpoint and checkpoint.is_file()
    summary = json.loads((tmp_path / "model" / "training_summary.json").read_text())
    assert summary["seed"] == 4 and summary["structure"]["hidden_sizes"] == [16, 16]
    click(qtbot, page.results.log_scale)
    assert page.results.curves.log

    click(qtbot, page.results.use_button)
    sampling = window.pages["sampling"]
    assert window.tabs.currentWidget() is sampling
    assert sampling.run_options.device_key() == "surrogate"
    assert sampling.twin.row.isVisible() and "training_data.pt" in sampling.twin.label.text()
    config = write_config(tmp_path, number_batches=20)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(config), ""))
    )
    click(qtbot, window.findChild(QToolButton, "button_open"))
    click(qtbot, sampling.run_options.realtime)  # 70 ms a batch: seen running
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: sampling.runner.state == "running", timeout=30_000)
    assert live_inputs(sampling, running_allowed(sampling)) == []  # the model row too
    show_page(qtbot, window, "models")
    click(qtbot, page.results.use_button)  # while it runs: refused, the device stays
    assert window.tabs.currentWidget() is page
    assert window.statusBar().currentMessage().startswith("Not now: a sampling session")
    assert not sampling.run_options.realtime.isEnabled()
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=30_000)
    assert sampling.last_result.status == "complete"
    with Recording(sampling.last_result.path) as rec:
        assert rec.batches_done == 20
        model = rec.device["model"]
    assert model["model"] == "surrogate" and Path(model["source"]) == checkpoint
    assert model["sha256"] == SurrogateModel.load(checkpoint).sha256


def test_cancel_keeps_the_best_epoch_and_compare_on_streams(qtbot, monkeypatch, tmp_path, window):
    page = ready_to_train(qtbot, monkeypatch, tmp_path, window, epochs=100_000)
    editable = live_inputs(page)
    click(qtbot, page.buttons["train"])
    qtbot.waitUntil(lambda: len(page.results.curves.curves()[0]) >= 3, timeout=60_000)
    assert page.progress.format().startswith("Epoch ")
    assert page.buttons["cancel"].isEnabled()
    allowed = {
        page.buttons["cancel"]: "stops training; the best epoch is kept",
        page.results.log_scale: "the loss plot's scale; display only",
        page.results.split: "which split the result plots show; display only",
    }
    assert live_inputs(page, allowed) == []
    click(qtbot, page.buttons["cancel"])
    qtbot.waitUntil(lambda: page.worker is None, timeout=60_000)
    assert set(editable) <= set(live_inputs(page))  # every input unlocked again
    result = page.results.result
    assert result.status == "cancelled" and page.progress.format().startswith("Stopped")
    saved = torch.load(tmp_path / "model" / "training_data.pt", weights_only=True)
    assert saved["epoch"] == result.best_epoch
    assert page.buttons["train"].isEnabled() and page.form.hidden.isEnabled()

    click(qtbot, page.results.streams_button)
    streams = window.pages["streams"]
    assert window.tabs.currentWidget() is streams
    assert streams.form.model_box.isChecked()
    assert streams.form.model_path.text() == str(tmp_path / "model" / "training_data.pt")


def test_existing_results_are_replaced_only_after_asking(qtbot, monkeypatch, tmp_path, window):
    page = ready_to_train(qtbot, monkeypatch, tmp_path, window, epochs=1)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "training_data.pt").write_bytes(b"old")
    asked = answer_questions(monkeypatch, yes=False)
    click(qtbot, page.buttons["train"])
    assert asked and "already holds" in asked[0] and page.worker is None
    assert (tmp_path / "model" / "training_data.pt").read_bytes() == b"old"


def test_recent_results_and_a_peer_config(qtbot, monkeypatch, tmp_path, window):
    from app.recent import remember_result

    folder = copy_fixture(tmp_path, "small_sawtooth")
    remember_result(window.settings, folder)
    page = show_page(qtbot, window, "models")
    suggested = page.source_list.suggestion_paths()
    assert suggested == [str(folder / "postprocessed_data.npz")]
    answer_questions(monkeypatch, yes=True)
    click(qtbot, page.source_list.add_suggestion)
    qtbot.waitUntil(lambda: bool(page.sources.paths()) and not page.sources.pending, timeout=20_000)
    assert page.sources.paths() == suggested

    lifecycle = copy_fixture(tmp_path, "lifecycle_small_sawtooth")
    config = lifecycle / "smg_configs.yaml"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(config), ""))
    )
    click(qtbot, page.load_config)
    qtbot.waitUntil(lambda: bool(page.sources.paths()) and not page.sources.pending, timeout=20_000)
    assert page.form.epochs.value() == 150 and page.form.batch_size.value() == 128
    assert page.form.seed.text() == "1"
    assert page.sources.paths() == [str(folder / "postprocessed_data.npz")]


def test_surrogate_entry_of_the_device_chooser_asks_for_a_model(
    qtbot, monkeypatch, tmp_path, window
):
    from conftest import BSPYSMG_FIXTURES

    sampling = window.pages["sampling"]
    model = BSPYSMG_FIXTURES / "lifecycle_small_sine" / "training_data.pt"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(model), ""))
    )
    combo = sampling.run_options.device
    combo.setFocus()
    index = combo.findData("surrogate")
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # Simulated DNPU -> Surrogate model…
    assert combo.currentIndex() == index
    qtbot.waitUntil(lambda: "training_data.pt" in sampling.twin.label.text(), timeout=5_000)
    assert sampling.twin.options_for("surrogate") == {"model": str(model.resolve())}
    set_spin(qtbot, sampling.twin.noise, 2)
    assert sampling.twin.options_for("surrogate")["point_noise_nA"] == 2.0
    assert sampling.twin.options_for("simulated") == {}
