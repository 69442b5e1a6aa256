"""The Sampling page around a session: run notes, the full path, saturation flags, the way on.

Everything is typed and clicked; sessions run on the analytic simulated device.
"""

from __future__ import annotations

import os
from pathlib import Path

from guitools import click, make_window, settings_dir, type_into, write_config
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from backend.config import load_config, save_config
from backend.devices import SimulatedDevice
from backend.recording.reader import Recording

__all__ = ["make_window", "settings_dir"]  # fixtures used by name


def analytic(kind, config, seed, options):
    return SimulatedDevice(config, model="analytic", seed=seed or 0, **options)


def run_session(qtbot, page) -> None:
    page.device_factory = analytic
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=20_000)


def test_run_notes_are_typed_stored_locked_and_the_operator_remembered(
    qtbot, tmp_path, make_window
):
    window = make_window(str(write_config(tmp_path, number_batches=40)))
    page = window.pages["sampling"]
    notes = page.notes
    type_into(qtbot, notes.sample_id, "D-17 (chip 4)")
    type_into(qtbot, notes.operator, "Ada")
    notes.notes.setFocus()
    qtbot.keyClicks(notes.notes, "after annealing")
    qtbot.keyClick(notes.notes, Qt.Key.Key_Return)
    qtbot.keyClicks(notes.notes, "second run")
    page.run_options.realtime.setChecked(True)
    page.device_factory = analytic
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.runner.state == "running", timeout=10_000)
    assert notes.sample_id.isReadOnly() and notes.notes.isReadOnly()
    qtbot.keyClicks(notes.sample_id, "zzz")
    assert notes.sample_id.text() == "D-17 (chip 4)"  # stored at Start: no edits meanwhile
    click(qtbot, page.buttons["stop"])
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=20_000)
    assert not notes.sample_id.isReadOnly()
    with Recording(page.last_result.path) as rec:
        assert rec.notes == {
            "sample_id": "D-17 (chip 4)",
            "operator": "Ada",
            "notes": "after annealing\nsecond run",
        }
    window._closing = True
    window.close()
    again = make_window(str(write_config(tmp_path, number_batches=40)))
    assert again.pages["sampling"].notes.operator.text() == "Ada"
    assert again.pages["sampling"].notes.sample_id.text() == ""


def test_full_path_shown_and_the_new_recording_opens_in_recordings(
    qtbot, monkeypatch, tmp_path, make_window
):
    monkeypatch.chdir(tmp_path)
    config = load_config(write_config(tmp_path, number_batches=3))
    config.save_directory = "relative_out"  # as presets have it
    path = save_config(config, tmp_path / "relative.yaml")
    window = make_window(str(path))
    page = window.pages["sampling"]
    label = page.status.recording_label
    assert label.text() == f"Records into {tmp_path.resolve() / 'relative_out'}"
    assert not page.status.show_button.isVisible()
    run_session(qtbot, page)
    recording = Path(page.last_result.path).resolve()
    assert recording.parent == tmp_path.resolve() / "relative_out"
    assert label.text() == f"Recording: {recording}" and os.path.isabs(label.text()[11:])
    assert str(recording) in window.statusBar().currentMessage()

    button = page.status.show_button
    qtbot.waitUntil(button.isVisible)
    click(qtbot, button)
    recordings = window.pages["recordings"]
    assert window.tabs.currentWidget() is recordings
    assert Path(recordings.path) == recording
    assert Path(recordings.tree.root).resolve() == recording.parent


def test_saturation_is_counted_live_and_a_threshold_makes_it_a_warning(
    qtbot, tmp_path, make_window
):
    config = load_config(write_config(tmp_path, number_batches=6))
    config.driver.amplification = [0.05]  # 0.2 nA full scale: the device saturates
    saturating = save_config(config, tmp_path / "saturating.yaml")
    window = make_window(str(saturating))
    page = window.pages["sampling"]
    view = page.status.saturation
    assert view.text.text() == "Saturated samples: none yet" and not view.warning
    run_session(qtbot, page)
    qtbot.waitUntil(lambda: view.warning)
    assert view.text.text().startswith("⚠ Saturated samples:")
    assert "above 1.00%" in view.text.text()
    assert window.ctx.theme.warning in view.text.styleSheet()
    assert any("outputs saturate" in line for line in window.log_dock.lines())
    with Recording(page.last_result.path) as rec:
        _, outputs = rec.read()
        per_batch = [(abs(rec.batch(i)[1]) >= 0.2 * (1 - 1e-4)).mean() for i in range(6)]
    assert f"{(abs(outputs) >= 0.2 * (1 - 1e-4)).sum():,} in " in view.text.text()
    worst = max(per_batch)
    assert f"Batch {per_batch.index(worst)} had {worst:.2%}" in view.text.text()

    # The threshold is typed; 100 % means only a batch saturated throughout warns.
    spin = view.threshold
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "100")
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert view.threshold_pct() == 100.0
    assert view.warning == (worst >= 1.0) and view.text.text().startswith("⚠") == view.warning
    assert window.settings.value("sampling/saturation_threshold_pct", 0.0, float) == 100.0


def test_an_unsaturated_session_shows_zero_and_no_warning(qtbot, tmp_path, make_window):
    config = load_config(write_config(tmp_path, number_batches=4))
    config.driver.amplification = [1000.0]  # 4000 nA full scale: far above the device
    window = make_window(str(save_config(config, tmp_path / "roomy.yaml")))
    page = window.pages["sampling"]
    run_session(qtbot, page)
    view = page.status.saturation
    qtbot.waitUntil(lambda: "in 0 of 4 batches" in view.text.text())
    assert not view.warning and not view.text.text().startswith("⚠")
