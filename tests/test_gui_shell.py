"""The window around the pages: menus, theme, log console, error dialogs, settings, devices."""

from __future__ import annotations

import logging
import sys
import threading

import pytest
from guiinput import wheel
from guitools import click, make_window, settings_dir, wait_for_dialog, window, write_config
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

import app.pages.sampling.page as sampling_module
from app import crashlog, dialogs
from app.commands.common import EXIT_FAILED
from app.main import display_problem, run_gui
from app.theme import DARK, LIGHT
from backend import __version__
from backend.devices.discovery import NIDeviceInfo, NIInventory
from backend.errors import DeviceTimeoutError

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def menu_texts(window, title: str) -> list[str]:
    return [a.text() for a in window.menus[title].actions() if not a.isSeparator()]


def test_menus_hold_every_command(window):
    assert menu_texts(window, "File") == [
        "&Open config…",
        "&Save config…",
        "Save as &bspysmg…",
        "Export &dataset…",
        "&Quit",
    ]
    assert menu_texts(window, "Session") == ["Start", "Pause", "Resume", "Stop"]
    assert menu_texts(window, "View") == ["&Dark theme", "&Log console"]
    assert menu_texts(window, "Help") == [
        "&Documentation",
        "&Keyboard shortcuts",
        "Open &log folder",
        "&About samplelab",
    ]
    box = window.show_about()
    assert __version__ in box.text()
    box.close()


def test_theme_toggle_is_applied_to_plots_and_remembered(qtbot, make_window):
    window = make_window()
    page = window.pages["sampling"]
    window.dark_action.trigger()
    palette = QApplication.instance().palette()
    assert palette.color(QPalette.ColorRole.Window).name() == DARK.window
    for plot in page.plots.plots():
        assert plot.backgroundBrush().color().name() == DARK.plot_background
    window._closing = True
    window.close()

    again = make_window()
    assert again.dark_action.isChecked()
    assert again.settings.theme == "dark"
    again.dark_action.trigger()
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).name() == LIGHT.window
    plot = again.pages["sampling"].plots.inputs_batch
    assert plot.backgroundBrush().color().name() == LIGHT.plot_background


def test_window_layout_is_remembered(qtbot, make_window):
    window = make_window()
    window.resize(760, 700)
    window.log_dock.hide()
    assert (window.width(), window.height()) == (760, 700)
    window._closing = True
    window.close()
    again = make_window()
    assert (again.width(), again.height()) == (760, 700)
    assert not again.log_dock.isVisible()


def test_log_console_shows_records_from_any_thread_with_colours(qtbot, window):
    dock = window.log_dock
    worker_log = logging.getLogger("backend.test")
    thread = threading.Thread(target=lambda: worker_log.warning("amplifier is warm"))
    thread.start()
    thread.join()
    logging.getLogger("app.test").error("something broke")
    qtbot.waitUntil(lambda: any("something broke" in line for line in dock.lines()))
    lines = dock.lines()
    assert any("WARNING backend.test: amplifier is warm" in line for line in lines)
    html = dock.text.document().toHtml()
    assert "#d08000" in html and "#e53935" in html  # warning and error colours
    assert window.findChild(type(dock), "log_dock") is dock


def test_log_console_follows_new_lines_unless_the_user_scrolled_back(qtbot, window):
    dock, log = window.log_dock, logging.getLogger("app.test")
    for i in range(60):
        log.warning("line %d %s", i, "a long message that runs past the console's width " * 4)
    qtbot.waitUntil(lambda: any("line 59" in line for line in dock.lines()))
    down, across = dock.text.verticalScrollBar(), dock.text.horizontalScrollBar()
    assert down.value() == down.maximum() > 0
    assert across.value() == 0  # the start of each line stays in view
    viewport = dock.text.viewport()
    wheel(viewport, viewport.rect().center(), notches=3)  # the user scrolls back to read
    qtbot.waitUntil(lambda: down.value() < down.maximum())
    reading = down.value()
    log.warning("one more")
    qtbot.waitUntil(lambda: "one more" in dock.lines()[-1])
    assert down.value() == reading


def test_error_dialogs_for_user_errors_and_for_bugs(qtbot, tmp_path, window):
    error = DeviceTimeoutError("batch 5 timed out", "Check the cable, then resume.")
    dialog = dialogs.show_error(window, error, "Your data is kept.")
    assert dialog.text() == "batch 5 timed out"
    assert dialog.informativeText() == "Check the cable, then resume.\n\nYour data is kept."
    assert dialog.detailedText() == ""
    dialog.close()

    full = OSError(28, "No space left on device", "/data/out/postprocessed_data.npz")
    dialog = dialogs.show_error(window, full)
    assert dialog.text() == "/data/out/postprocessed_data.npz: No space left on device"
    assert "free disk space" in dialog.informativeText()
    assert "bug" not in dialog.informativeText() and "Errno 28" in dialog.detailedText()
    assert dialog.icon() == QMessageBox.Icon.Warning
    dialog.close()

    try:
        {}["missing"]
    except KeyError as exc:
        bug = exc
    hooks = crashlog.install(window, tmp_path, native_crashes=False)
    try:
        sys.excepthook(type(bug), bug, bug.__traceback__)  # what Qt does for a slot's exception
    finally:
        hooks.uninstall()
    dialog = wait_for_dialog(qtbot)
    assert dialog.text().startswith("An unexpected error occurred: KeyError")
    assert "bug in samplelab" in dialog.informativeText()
    assert "Traceback" in dialog.detailedText() and "missing" in dialog.detailedText()
    assert dialog.icon() == QMessageBox.Icon.Critical
    dialog.close()


def test_missing_ni_driver_is_explained_and_nidaq_cannot_be_chosen(window):
    page = window.pages["sampling"]
    options = page.run_options
    ni = next(c for c in options.choices() if c.kind == "nidaq")
    assert not ni.enabled
    assert "driver not installed" in ni.label
    index = options.device.findData("nidaq")
    model = options.device.model()
    assert not model.flags(model.index(index, 0)) & Qt.ItemFlag.ItemIsEnabled  # greyed out
    assert "NI-DAQmx driver not found" in options.device.itemData(index, 3)  # ToolTipRole
    assert "install" in options.device_note.text().lower()
    assert not options.select_device("nidaq")
    assert options.device_key() == "simulated"


def test_ni_listed_but_driver_unusable_gives_one_clear_dialog(
    qtbot, monkeypatch, tmp_path, make_window
):
    fake = NIInventory(
        True,
        "NI-DAQmx 24.0.0: 1 device",
        "24.0.0",
        (NIDeviceInfo("cDAQ1", "cDAQ-9178", "COMPACT_DAQ_CHASSIS"),),
    )
    monkeypatch.setattr("backend.devices.discovery.ni_inventory", lambda: fake)
    window = make_window(str(write_config(tmp_path)))
    page = window.pages["sampling"]
    assert page.run_options.select_device("nidaq")
    assert "cDAQ1" in page.run_options.device.currentText()
    assert not page.run_options.realtime.isEnabled()  # pacing is for the simulated device
    click(qtbot, page.buttons["start"])
    dialog = wait_for_dialog(qtbot)
    assert dialog.message.startswith("NI-DAQmx driver not found")
    assert "Install NI-DAQmx" in dialog.hint and "No session was started" in dialog.hint
    assert "Traceback" not in dialog.detailedText()
    assert page.runner.state == "idle" and page.buttons["start"].isEnabled()
    dialog.close()


def test_device_choices_cover_every_inventory():
    choices, note = sampling_module.device_choices(None)
    assert [c.key for c in choices] == ["simulated", "surrogate", "nidaq"]
    assert not choices[-1].enabled
    empty = NIInventory(True, "NI-DAQmx 24.0.0 found no devices", "24.0.0")
    choices, note = sampling_module.device_choices(empty)
    assert "no devices" in choices[-1].label and not choices[-1].enabled
    assert note == empty.message


def test_run_gui_opens_the_window_and_returns_an_exit_code(qtbot, tmp_path, settings_dir):
    config = write_config(tmp_path)
    assert run_gui(str(config), exit_after_ms=300) == 0
    from app.settings import AppSettings

    assert AppSettings().last_config == str(config.resolve())


def test_without_a_display_run_gui_says_so(monkeypatch, capsys):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert "no display found" in display_problem()
    assert run_gui() == EXIT_FAILED
    assert "QT_QPA_PLATFORM=offscreen" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["start", "pause", "resume", "stop"])
def test_session_buttons_show_their_shortcuts(window, key):
    page = window.pages["sampling"]
    action = getattr(page, f"{key}_action")
    assert action.shortcut().toString() in page.buttons[key].toolTip()


def test_a_failing_discovery_keeps_the_simulated_device(qtbot, monkeypatch, make_window):
    def broken():
        raise RuntimeError("bus error")

    monkeypatch.setattr("backend.devices.discovery.ni_inventory", broken)
    window = make_window()
    page = window.pages["sampling"]
    ni = next(c for c in page.run_options.choices() if c.kind == "nidaq")
    assert not ni.enabled and "bus error" in ni.tip
    assert page.run_options.device_key() == "simulated"
    assert page.buttons["start"].isEnabled()
    assert not dialogs.open_error_dialogs()


def test_live_curves_report_the_bounds_pyqtgraph_would(qtbot):
    """The curve that skips pyqtgraph's per-paint bounds scan reports the same bounds."""
    import numpy as np
    import pyqtgraph as pg

    from widgets.waveplot import BoundedCurve

    ours, theirs = BoundedCurve(), pg.PlotCurveItem()
    wide_ours = BoundedCurve(pen=pg.mkPen(width=3, cosmetic=False))
    wide_theirs = pg.PlotCurveItem(pen=pg.mkPen(width=3, cosmetic=False))
    rng = np.random.default_rng(0)
    for x, y in [
        (np.arange(50.0), rng.normal(size=50)),
        (np.linspace(-3, 0, 7), rng.normal(size=7) * 1e3),
        (np.arange(4.0), np.array([1.0, np.nan, -2.0, 5.0])),  # NaN: pyqtgraph's own rules
        (np.empty(0), np.empty(0)),
    ]:
        for a, b in ((ours, theirs), (wide_ours, wide_theirs)):
            a.setData(x, y)
            b.setData(x, y)
            for ax in (0, 1):
                assert a.dataBounds(ax) == b.dataBounds(ax)
            assert a.boundingRect() == b.boundingRect()
