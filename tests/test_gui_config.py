"""The config side of the Sampling page: presets, files, the form and its messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BSPYSMG_FIXTURES
from guitools import (
    click,
    make_window,
    open_cell_editor,
    settings_dir,
    type_into,
    wait_for_dialog,
    window,
    write_config,
    write_raw,
)
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QToolButton

import resources
from app.pages.sampling.page import schema_texts
from backend.config import SamplingConfig, load_config
from widgets.configform import ConfigForm

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name

SOURCES = [*resources.preset_paths().values(), BSPYSMG_FIXTURES / "small_sine"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: Path(p).stem or p.parent.name)
def test_form_shows_and_returns_every_config_unchanged(qtbot, source):
    cfg = load_config(source)
    form = ConfigForm(schema_texts())
    qtbot.addWidget(form)
    form.set_config(cfg.to_bspysmg())
    assert form.config_dict() == cfg.to_bspysmg()
    assert form.table.table.rowCount() == sum(
        len(b.activation_channels) for b in cfg.driver.instruments_setup.blocks().values()
    )


def test_form_edits_reach_the_dict_and_problems_land_next_to_fields(qtbot, window):
    page = window.pages["sampling"]
    form = page.form
    type_into(qtbot, form.editors["driver.amplification"], "39.17, 12")
    assert "number of readouts is 1" in form.problem("driver.amplification")
    assert not page.buttons["start"].isEnabled()
    type_into(qtbot, form.editors["driver.amplification"], "20")
    assert form.problem("driver.amplification") == ""
    assert page.config.driver.amplification == [20.0]

    type_into(qtbot, form.editors["input_data.number_batches"], "lots")
    assert form.problem("input_data.number_batches").startswith("Batches must be a whole number")
    assert "'lots'" in form.problem("input_data.number_batches")
    type_into(qtbot, form.editors["input_data.number_batches"], "12")
    assert page.config.number_batches == 12

    type_into(qtbot, form.editors[f"{'driver.instruments_setup'}.readout_sampling_frequency"], "7")
    path = "driver.instruments_setup.readout_sampling_frequency"
    assert "not an integer multiple" in form.problem(path)
    type_into(qtbot, form.editors[path], "10000")
    shape = form.editors["input_data.input_distribution"]
    shape.setCurrentText("sine")
    assert page.config.input_data.input_distribution == "sine"
    box = form.editors["driver.inverted_output"]
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert page.config.driver.inverted_output is False
    assert page.buttons["start"].isEnabled()


def edit_cell(qtbot, table, row: int, key: str, text: str) -> None:
    """Double-click-edit a cell as a user does: open the editor, type, press Enter."""
    from widgets.electrodetable import COLUMNS

    item = table.table.item(row, COLUMNS.index(key))
    table.table.setCurrentItem(item)
    table.table.editItem(item)
    editor = open_cell_editor(qtbot, table.table.viewport())
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # commits through a queued call
    qtbot.waitUntil(lambda: item.text() == text)


def test_electrode_table_cells_show_their_problems(qtbot, window):
    page = window.pages["sampling"]
    table = page.form.table
    edit_cell(qtbot, table, 2, "max", "1.9")
    assert table.table.item(2, 3).text() == "1.9"
    assert "Input 2" in table.problem_text() and "+-1.6 V" in table.problem_text()
    assert "global activation limit" in table.table.item(2, 3).toolTip()
    assert not page.buttons["start"].isEnabled()
    edit_cell(qtbot, table, 2, "max", "0.5")
    assert table.problem_text() == ""
    assert page.config.voltage_ranges()[2].tolist() == [-1.2, 0.5]
    assert table.table.item(2, 7).text() == "0.85"  # derived amplitude follows the range

    edit_cell(qtbot, table, 4, "phase", "abc")
    assert table.problem_text() == "Phase of Input 4 must be a number (got 'abc')"
    edit_cell(qtbot, table, 4, "phase", "0.5")
    assert page.config.input_data.phase[4] == 0.5

    click(qtbot, table.add_button)
    assert page.config is not None and page.config.n_inputs == 8
    assert page.config.layout().activation_channels[-1] == "cDAQ1Mod3/ao1"
    table.table.selectRow(7)
    click(qtbot, table.remove_button)
    assert page.config.n_inputs == 7

    # One device: no on/off (mask) column, as brains-py applies masks only to several.
    assert table.table.isColumnHidden(4) and not table.note.isVisible()


def test_preset_drop_down_loads_presets(qtbot, window):
    page = window.pages["sampling"]
    combo = page.files.presets
    combo.setFocus()
    for _ in range(combo.count()):  # the user steps through the closed drop-down with keys
        if combo.currentText() == "dnpu-7x1-sine":
            break
        key = (
            Qt.Key.Key_Down
            if combo.currentIndex() < combo.findText("dnpu-7x1-sine")
            else Qt.Key.Key_Up
        )
        qtbot.keyClick(combo, key)
    qtbot.waitUntil(lambda: page.files.path == resources.preset_path("dnpu-7x1-sine"))
    assert page.form.editors["input_data.input_distribution"].currentText() == "sine"
    assert "dnpu-7x1-sine.yaml" in window.windowTitle()
    # The next file dialog does not open in the install's presets folder.
    assert Path(window.settings.last_folder) != resources.preset_path("dnpu-7x1-sine").parent


def test_a_bad_config_file_says_what_is_wrong_once(qtbot, monkeypatch, tmp_path, window):
    page = window.pages["sampling"]
    before = page.form.config_dict()
    good = load_config(write_config(tmp_path)).to_bspysmg()
    good["input_data"]["batch_time"] = 0.0505
    good["driver"]["instruments_setup"]["activation_voltage_ranges"][1] = [0.5, -0.5]
    bad = write_raw(tmp_path / "bad.yaml", good)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad), ""))
    )
    click(qtbot, window.findChild(QToolButton, "button_open"))
    dialog = wait_for_dialog(qtbot)
    assert "invalid sampling config in" in dialog.message and "bad.yaml" in dialog.message
    assert "activation_voltage_ranges[1]" in dialog.message
    assert "unchanged" in dialog.hint
    assert dialog.details == "" and "Traceback" not in dialog.message
    assert page.form.config_dict() == before
    dialog.close()

    junk = tmp_path / "junk.yaml"
    junk.write_bytes(b"\x00\xff not yaml: [")
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(junk), ""))
    )
    page.open_action.trigger()
    dialog = wait_for_dialog(qtbot)
    assert "junk.yaml" in dialog.message and dialog.details == ""
    dialog.close()


def test_save_asks_before_overwriting_and_writes_both_flavours(
    qtbot, monkeypatch, tmp_path, window
):
    page = window.pages["sampling"]
    type_into(qtbot, page.form.editors["data_name"], "saved_here")
    target = tmp_path / "mine.yaml"
    target.write_text("old contents")
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    answers = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: answers.pop(0)))
    click(qtbot, window.findChild(QToolButton, "button_save"))
    assert target.read_text() == "old contents"  # refused

    answers.append(QMessageBox.StandardButton.Yes)
    click(qtbot, window.findChild(QToolButton, "button_save"))
    assert load_config(target).to_bspysmg() == page.config.to_bspysmg()
    assert page.files.path == target and "*" not in window.windowTitle()

    peer = tmp_path / "sampler_configs.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(peer), ""))
    )
    click(qtbot, window.findChild(QToolButton, "button_save_bspysmg"))
    assert "numpy" in peer.read_text()  # the peer's numpy-tagged layout
    assert load_config(peer).data_name == "saved_here"
    assert page.files.path == target  # the bspysmg copy is an export


def test_output_folder_browse_and_the_last_config_is_remembered(
    qtbot, monkeypatch, tmp_path, make_window
):
    config = write_config(tmp_path)
    window = make_window(str(config))
    page = window.pages["sampling"]
    chosen = tmp_path / "elsewhere"
    chosen.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(chosen))
    )
    click(qtbot, page.form.findChild(QToolButton, "save_directory:browse"))
    assert page.config.save_directory == str(chosen)
    window._closing = True
    window.close()

    again = make_window()  # no config named: the last one comes back
    assert again.pages["sampling"].files.path == config.resolve()


def test_masks_show_and_toggle_only_with_multiple_devices(qtbot):
    form = ConfigForm(schema_texts())
    qtbot.addWidget(form)
    form.show()
    form.set_config(load_config(resources.preset_path("two-devices")).to_bspysmg())
    table = form.table.table
    assert not table.isColumnHidden(4)
    item = table.item(1, 4)  # device A, second channel
    rect = table.visualItemRect(item)
    with qtbot.waitSignal(form.edited):
        qtbot.mouseClick(
            table.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(rect.left() + 10, rect.center().y()),
        )
    data = form.config_dict()
    assert data["driver"]["instruments_setup"]["A"]["activation_channel_mask"] == [1, 0, 1, 1]
    assert data["input_data"]["activation_electrode_no"] == 6

    single = load_config(resources.preset_path("dnpu-7x1-sawtooth")).to_bspysmg()
    single["driver"]["instruments_setup"]["activation_channel_mask"] = [1] * 6 + [0]
    form.set_config(single)
    assert table.isColumnHidden(4)
    assert "ignored for a single device" in form.table.note.text() and form.table.note.isVisible()
    assert form.config_dict() == single  # kept as loaded, all seven electrodes sampled
    assert SamplingConfig.model_validate(single).n_inputs == 7
