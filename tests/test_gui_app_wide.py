"""What every page shares: the dark theme's check boxes, the log file, crashes, Help."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest
from guitools import make_window, settings_dir, wait_for_dialog, window, write_config
from PySide6.QtCore import QPoint, Qt, QUrl, qCritical
from PySide6.QtGui import QColor, QDesktopServices, QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QListWidget, QRadioButton

from app import crashlog, dialogs, helpmenu
from app.main import run_gui
from backend import userdirs

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1: none, 21: black on white)."""

    def luminance(c: QColor) -> float:
        def channel(v: int) -> float:
            v = v / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def indicator_contrast(widget) -> float:
    """The best contrast between the indicator's pixels and the widget's background."""
    image = widget.grab().toImage()
    background = QColor(image.pixel(image.width() - 2, 1))
    size = widget.style().pixelMetric(widget.style().PixelMetric.PM_IndicatorWidth)
    return max(
        contrast(QColor(image.pixel(x, y)), background)
        for x in range(min(size + 4, image.width()))
        for y in range(image.height())
    )


def size_of_indicator(widget) -> int:
    return widget.style().pixelMetric(widget.style().PixelMetric.PM_IndicatorWidth)


# --- 13. dark theme: unchecked check boxes and radio buttons stand out --------------------
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_unchecked_check_boxes_and_radio_buttons_are_clearly_visible(qtbot, window, theme):
    if (theme == "dark") != window.dark_action.isChecked():
        QTest.keyClick(
            window,
            Qt.Key.Key_D,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert window.ctx.theme.name == theme
    page = window.pages["sampling"]
    expected = window.ctx.theme.window
    qtbot.waitUntil(lambda: page.palette().window().color().name() == expected)  # posted
    inverted = page.form.editors["driver.inverted_output"]
    if inverted.isChecked():
        qtbot.mouseClick(inverted, Qt.MouseButton.LeftButton, pos=QPoint(8, inverted.height() // 2))
    assert not inverted.isChecked()
    radios = window.pages["postprocess"].findChildren(QRadioButton)
    unchecked_radio = next(r for r in radios if not r.isChecked())
    plain = QCheckBox("plain")
    qtbot.addWidget(plain)
    plain.resize(plain.sizeHint())
    for widget in (inverted, unchecked_radio, plain):
        assert indicator_contrast(widget) >= 3.0, f"{type(widget).__name__} in {theme}"

    # The electrode table's On column (shown for several devices): a box clicked off.
    import resources
    from backend.config import load_config
    from widgets.electrodetable import COLUMNS

    page.form.set_config(load_config(resources.preset_path("two-devices")).to_bspysmg())
    table = page.form.table.table
    item = table.item(1, COLUMNS.index("active"))
    rect = table.visualItemRect(item)
    box = QPoint(rect.left() + 4 + size_of_indicator(table) // 2, rect.center().y())
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=box)
    qtbot.waitUntil(lambda: item.checkState() == Qt.CheckState.Unchecked)
    image = table.viewport().grab(rect).toImage()
    background = QColor(image.pixel(image.width() - 2, image.height() // 2))
    best = max(
        contrast(QColor(image.pixel(x, y)), background)
        for x in range(image.width())
        for y in range(image.height())
    )
    assert best >= 3.0, f"the table's unchecked box in {theme}"


# --- the log file and crashes -----------------------------------------------------------
def test_log_file_gets_every_thread_and_a_thread_crash_gets_a_dialog(qtbot, tmp_path, window):
    hooks = crashlog.install(window, tmp_path / "logs", native_crashes=False)
    try:
        threading.Thread(
            target=lambda: logging.getLogger("backend.test").warning("amplifier is warm")
        ).start()

        def crash() -> None:
            raise ZeroDivisionError("batch arithmetic went wrong")

        worker = threading.Thread(target=crash, name="samplelab-test-worker")
        worker.start()
        worker.join()
        dialog = wait_for_dialog(qtbot)
        assert dialog.text().startswith("An unexpected error occurred: ZeroDivisionError")
        assert "samplelab-test-worker" in dialog.informativeText()
        assert "Traceback" in dialog.detailedText()
        assert "log file" in dialog.informativeText()
        dialog.close()
        try:  # what PySide does with an exception escaping a slot
            {}["no such channel"]
        except KeyError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        slot_dialog = wait_for_dialog(qtbot)
        assert slot_dialog.text().startswith("An unexpected error occurred: KeyError")
        slot_dialog.close()
        qCritical("a Qt complaint")
        text = hooks.log_file.read_text(encoding="utf-8")
        assert "WARNING [Thread-" in text and "amplifier is warm" in text
        assert "CRITICAL [samplelab-test-worker]" in text
        assert "uncaught exception on thread 'samplelab-test-worker'" in text
        assert "Traceback" in text and "ZeroDivisionError: batch arithmetic" in text
        assert text.count("ZeroDivisionError: batch arithmetic") == 1  # logged once
        assert "ERROR" in text and "a Qt complaint" in text
        assert "KeyError: 'no such channel'" in text  # the slot's traceback too
    finally:
        hooks.uninstall()
    before = hooks.log_file.read_text(encoding="utf-8")
    logging.getLogger("backend.test").warning("after uninstall")
    assert hooks.log_file.read_text(encoding="utf-8") == before


def test_run_gui_logs_to_the_platform_log_folder(qtbot, tmp_path, settings_dir):
    config = write_config(tmp_path)
    assert run_gui(str(config), exit_after_ms=300) == 0
    log_file = userdirs.log_dir() / crashlog.LOG_NAME
    assert str(log_file).startswith(str(tmp_path))  # the test's SAMPLELAB_HOME, not the user's
    text = log_file.read_text(encoding="utf-8")
    assert "logging to" in text and "samplelab closed (exit code 0)" in text


def test_the_log_file_rotates(tmp_path):
    handler = crashlog.log_file_handler(tmp_path)
    logger = logging.getLogger("samplelab.rotation.test")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for _ in range(crashlog.MAX_BYTES // 1000 * (crashlog.BACKUPS + 2)):
            logger.warning("x" * 1000)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files[0] == crashlog.LOG_NAME and len(files) == crashlog.BACKUPS + 1
    assert all(p.stat().st_size <= crashlog.MAX_BYTES for p in tmp_path.iterdir())


# --- 16. Help ----------------------------------------------------------------------------
def test_f1_opens_the_docs_and_a_click_shows_a_page_with_its_screenshots(qtbot, window):
    QTest.keyClick(window, Qt.Key.Key_F1)
    help_window = window.help_window
    assert help_window is not None and help_window.isVisible()
    assert "What a user does" in help_window.text()  # the desktop application page first
    pages = help_window.findChild(QListWidget, "help_pages")
    titles = [pages.item(r).text() for r in range(pages.count())]
    assert "samplelab recording format (HDF5), version 1" in titles and len(titles) >= 6
    row = titles.index("samplelab recording format (HDF5), version 1")
    rect = pages.visualItemRect(pages.item(row))
    qtbot.mouseClick(pages.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: "Only complete batches count" in help_window.text())
    assert help_window.browser.source().toLocalFile().endswith("recording-format.md")

    help_window.show_page("gui")
    image = help_window.browser.loadResource(
        QTextDocument.ResourceType.ImageResource.value, QUrl("screenshots/sampling-light.png")
    )
    assert image is not None and len(image) > 10_000  # the PNG, read from the local docs


def test_help_menu_lists_the_shortcuts_the_window_really_has(qtbot, window):
    QTest.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    menu = window.menus["Help"]
    qtbot.waitUntil(menu.isVisible)
    QTest.keyClick(menu, Qt.Key.Key_K)  # &Keyboard shortcuts
    qtbot.waitUntil(lambda: window.findChild(helpmenu.ShortcutsDialog) is not None)
    rows = dict(window.findChild(helpmenu.ShortcutsDialog).rows())
    assert rows["Start"] == "F5" and rows["Stop"] == "Shift+F5"
    assert rows["Open config"] == "Ctrl+O" and rows["Quit"] == "Ctrl+Q"
    assert rows["Documentation"] == "F1" and rows["Dark theme"] == "Ctrl+Shift+D"


def test_open_log_folder_and_about(qtbot, monkeypatch, window):
    opened: list[QUrl] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True)
    )
    QTest.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    menu = window.menus["Help"]
    qtbot.waitUntil(menu.isVisible)
    QTest.keyClick(menu, Qt.Key.Key_L)  # Open &log folder
    qtbot.waitUntil(lambda: bool(opened))
    assert Path(opened[0].toLocalFile()) == userdirs.log_dir() and userdirs.log_dir().is_dir()

    box = window.show_about()
    assert str(userdirs.log_dir()) in box.informativeText()
    if helpmenu.app_icon_path() is not None:
        assert not box.iconPixmap().isNull()
    box.close()
    for dialog in dialogs.open_error_dialogs():
        dialog.close()
    QApplication.processEvents()
