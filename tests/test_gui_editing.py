"""Editing as a person does it: the wheel, unsaved edits, every problem at once.

Real input only: wheel events go through the window (QTest.wheelEvent on the
QWindow, as the platform delivers them, so Qt's own propagation and
focus-on-wheel rules apply), clicks and keys at widget positions, and the
Save / Discard / Cancel question is a real QMessageBox whose button is clicked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from guitools import (
    click,
    make_window,
    open_cell_editor,
    settings_dir,
    type_into,
    window,
    write_config,
)
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QDoubleSpinBox,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import resources
from backend.config import load_config

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name
Button = QMessageBox.StandardButton


def wheel(widget: QWidget, notches: int = -1) -> None:
    """Turn the wheel over `widget`'s centre, through its window as the platform would."""
    top = widget.window()
    pos = widget.mapTo(top, widget.rect().center())
    QTest.wheelEvent(top.windowHandle(), pos, QPoint(0, 120 * notches))


def scroll_area_of(widget: QWidget) -> QScrollArea:
    parent = widget.parentWidget()
    while not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent


def answer(monkeypatch, qtbot, choice: Button) -> list[tuple[str, list[Button]]]:
    """Make every question a real QMessageBox and click `choice` on it; returns what was asked."""
    asked: list[tuple[str, list[Button]]] = []

    def question(parent, title, text, buttons=Button.Yes | Button.No, default=Button.NoButton):
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, parent)
        box.setDefaultButton(default)
        offered = [b for b in (Button.Save, Button.Discard, Button.Cancel) if box.button(b)]
        asked.append((text, offered))
        QTimer.singleShot(
            0, lambda: qtbot.mouseClick(box.button(choice), Qt.MouseButton.LeftButton)
        )
        return Button(box.exec())

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


# --- 1. the wheel scrolls forms; it edits only the field the user is in ----------------
def test_wheel_over_a_combo_in_the_form_scrolls_and_keeps_the_wiring(qtbot, window):
    window.resize(1024, 700)
    page = window.pages["sampling"]
    wiring = page.form.editors["driver.instrument_type"]
    area = scroll_area_of(wiring)
    area.ensureWidgetVisible(wiring)
    qtbot.wait(50)
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0, "the form must be taller than its scroll area here"
    notches = -1 if bar.value() < bar.maximum() else 1
    before, text = bar.value(), wiring.currentText()
    wheel(wiring, notches)
    qtbot.wait(20)
    assert wiring.currentText() == text == "cdaq_to_cdaq"
    assert bar.value() != before  # the form scrolled instead
    assert not wiring.hasFocus()  # and the wheel did not focus the combo

    # Clicked into (the list opens; Escape closes it, the focus stays): now the wheel edits it.
    area.ensureWidgetVisible(wiring)
    click(qtbot, wiring)
    qtbot.waitUntil(lambda: wiring.view().isVisible())
    QTest.keyClick(wiring.view(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not wiring.view().isVisible())
    # Offscreen, the closed list's window stays active (no window manager); hand it back.
    window.activateWindow()
    qtbot.waitUntil(wiring.hasFocus)
    wheel(wiring, -1)
    assert wiring.currentText() == "cdaq_to_nidaq"


def test_focus_the_user_did_not_give_does_not_open_a_field_to_the_wheel(qtbot, window):
    presets = window.pages["sampling"].files.presets
    presets.setFocus(Qt.FocusReason.OtherFocusReason)  # as Qt focuses a window's first field
    text = presets.currentText()
    wheel(presets, -1)
    assert presets.currentText() == text
    # Tab into it: the user's choice.
    presets.clearFocus()
    previous = presets.previousInFocusChain()
    previous.setFocus(Qt.FocusReason.OtherFocusReason)
    for _ in range(10):
        if presets.hasFocus():
            break
        QTest.keyClick(window.focusWidget() or window, Qt.Key.Key_Tab)
    assert presets.hasFocus()
    wheel(presets, -1)
    assert presets.currentText() != text


def test_spin_boxes_of_other_pages_and_of_pages_written_later_are_covered(qtbot, window):
    page = window.pages["postprocess"]
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(page.isVisible)
    spins = [s for s in page.findChildren(QSpinBox) if s.isVisible()]
    assert spins
    spin = spins[0]
    value = spin.value()
    wheel(spin, 1)
    wheel(spin, -1)
    assert spin.value() == value

    # A widget made now, after the window: the same rule, with nothing to opt into.
    later = QScrollArea()
    body = QWidget()
    column = QVBoxLayout(body)
    fresh = QDoubleSpinBox()
    fresh.setValue(1.5)
    column.addSpacing(600)
    column.addWidget(fresh)
    column.addSpacing(600)
    later.setWidget(body)
    later.resize(300, 300)
    qtbot.addWidget(later)
    later.show()
    later.activateWindow()
    qtbot.waitUntil(later.isActiveWindow)
    later.ensureWidgetVisible(fresh)
    bar = later.verticalScrollBar()
    before = bar.value()
    wheel(fresh, -1)
    assert fresh.value() == 1.5 and bar.value() > before
    click(qtbot, fresh.findChild(QLineEdit))
    assert fresh.hasFocus()
    wheel(fresh, 1)
    assert fresh.value() == 2.5


# --- 2. unsaved edits: Save / Discard / Cancel --------------------------------------
def pick_preset(qtbot, combo, name: str) -> None:
    """Open the preset list with a click and click `name` in it."""
    click(qtbot, combo)
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    # The list ignores a release this soon after it opened (it would be the opening click's).
    qtbot.wait(QApplication.doubleClickInterval() + 50)
    index = combo.model().index(combo.findText(name), 0)
    view.scrollTo(index)
    pos = view.visualRect(index).center()
    qtbot.mouseMove(view.viewport(), pos)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: not view.isVisible())


def test_switching_preset_with_unsaved_edits_asks_and_cancel_keeps_them(qtbot, monkeypatch, window):
    page = window.pages["sampling"]
    batches = page.form.editors["input_data.number_batches"]
    type_into(qtbot, batches, "77")
    assert window.windowTitle().startswith("quick-demo.yaml*")
    asked = answer(monkeypatch, qtbot, Button.Cancel)
    pick_preset(qtbot, page.files.presets, "dnpu-7x1-sine")
    assert len(asked) == 1 and "quick-demo.yaml has unsaved changes" in asked[0][0]
    assert asked[0][1] == [Button.Save, Button.Discard, Button.Cancel]
    assert batches.text() == "77" and page.files.presets.currentText() == "quick-demo"

    answer(monkeypatch, qtbot, Button.Discard)
    pick_preset(qtbot, page.files.presets, "dnpu-7x1-sine")
    assert page.files.path == resources.preset_path("dnpu-7x1-sine")
    assert page.form.editors["input_data.input_distribution"].currentText() == "sine"
    assert "*" not in window.windowTitle()

    # Typing the value back is no edit at all: no question.
    type_into(qtbot, batches, "5")
    type_into(
        qtbot,
        batches,
        load_config(page.files.path).to_bspysmg()["input_data"]["number_batches"].__str__(),
    )
    assert not page.files.modified


def test_open_with_unsaved_edits_saves_them_in_place_first(qtbot, monkeypatch, tmp_path, window):
    page = window.pages["sampling"]
    mine, other = write_config(tmp_path, "mine.yaml"), write_config(tmp_path, "other.yaml")
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(mine), ""))
    )
    QTest.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert page.files.path == mine
    type_into(qtbot, page.form.editors["data_name"], "edited_name")
    asked = answer(monkeypatch, qtbot, Button.Save)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(other), ""))
    )
    QTest.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert len(asked) == 1 and "before opening another config" in asked[0][0]
    assert load_config(mine).data_name == "edited_name"  # saved where it came from
    assert page.files.path == other and page.form.editors["data_name"].text() == "gui_test"


def test_quit_with_unsaved_edits_asks_cancel_stays_save_writes_and_closes(
    qtbot, monkeypatch, tmp_path, make_window
):
    window = make_window()  # the quick-demo preset: Save has to ask where
    page = window.pages["sampling"]
    type_into(qtbot, page.form.editors["input_data.number_batches"], "42")
    asked = answer(monkeypatch, qtbot, Button.Cancel)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert asked and "before closing samplelab" in asked[0][0]
    assert window.isVisible()

    target = tmp_path / "kept.yaml"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    answer(monkeypatch, qtbot, Button.Save)
    window.activateWindow()  # offscreen, the closed question's window stays the active one
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert load_config(target).number_batches == 42
    assert Path(resources.preset_path("quick-demo")).read_text() != target.read_text()


def test_edits_that_do_not_validate_can_only_be_discarded_or_kept(qtbot, monkeypatch, make_window):
    window = make_window()
    page = window.pages["sampling"]
    type_into(qtbot, page.form.editors["input_data.batch_time"], "0")
    asked = answer(monkeypatch, qtbot, Button.Discard)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert asked[0][1] == [Button.Discard, Button.Cancel]
    assert "cannot be saved" in asked[0][0]
    qtbot.waitUntil(lambda: not window.isVisible())


# --- 3. every problem at once, each named by its label --------------------------------
@pytest.mark.parametrize("order", ["range first", "batch time first"])
def test_every_problem_shows_at_once_named_by_its_label(qtbot, window, order):
    from widgets.electrodetable import COLUMNS

    page = window.pages["sampling"]
    table = page.form.table

    def range_max_5v() -> None:
        item = table.table.item(2, COLUMNS.index("max"))
        rect = table.table.visualItemRect(item)
        for send in (qtbot.mouseClick, qtbot.mouseDClick):  # a double click, event by event
            send(table.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        editor = open_cell_editor(qtbot, table.table.viewport())
        editor.selectAll()
        qtbot.keyClicks(editor, "5")
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: item.text() == "5")  # the view commits it queued

    def batch_time_0() -> None:
        type_into(qtbot, page.form.editors["input_data.batch_time"], "0")

    steps = [range_max_5v, batch_time_0] if order == "range first" else [batch_time_0, range_max_5v]
    for step in steps:
        step()
    assert page.form.problem("input_data.batch_time") == "Batch time must be greater than 0 (got 0)"
    assert table.problem_text().startswith("Voltage range of Input 2: [-1.2, 5.0] V exceeds")
    assert "Input should" not in page.form.problem("input_data.batch_time") + table.problem_text()
    assert not page.buttons["start"].isEnabled()
    assert page.form.label("input_data.batch_time") == "Batch time (s)"
