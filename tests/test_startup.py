"""A fast first window: torch, scipy.signal, nidaqmx, h5py and dask load after the first paint.

Each check runs in a fresh interpreter, since this test process has long
imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT
from guitools import make_window, settings_dir
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from app.firstpaint import FirstPaint
from app.pages import Page
from app.settings import WINDOW_PAGE, AppSettings

__all__ = ["make_window", "settings_dir"]  # fixtures used by name

#: Nothing on the first view needs them (h5py: recordings are scanned and opened later).
HEAVY = ("torch", "scipy.signal", "nidaqmx", "h5py", "dask")

FIRST_PAINT = """
import json, sys
from app.main import run_gui

def painted(window):
    tabs = [window.tabs.widget(i) for i in range(window.tabs.count())]
    built = [tab.key for tab in tabs if hasattr(tab, "key")]
    page = window.pages["sampling"]
    print(json.dumps({
        "loaded": [m for m in %r if m in sys.modules],
        "built": built,
        "discovery_started": page.inventory is not None or bool(window.workers.running()),
    }), flush=True)
    window.close()

sys.exit(run_gui(on_first_paint=painted))
""" % (HEAVY,)  # noqa: UP031 (a literal tuple in a script)

MODULES_AT_EXIT = """
import atexit, sys
atexit.register(lambda: print("LOADED", *[m for m in %r if m in sys.modules], file=sys.stderr))
from app.cli import main
sys.exit(main(sys.argv[1:]))
""" % (HEAVY,)  # noqa: UP031


def _python(script: str, *args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": "offscreen",
        "SAMPLELAB_HOME": str(tmp_path / "home"),
    }
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_main_window_paints_before_any_heavy_module_loads(tmp_path):
    run = _python(FIRST_PAINT, tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    # Only the page shown is built before the first paint; the others right after it.
    assert report == {"loaded": [], "built": ["sampling"], "discovery_started": False}


def _loaded(run: subprocess.CompletedProcess) -> list[str]:
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("LOADED")]
    return line.split()[1:]


def test_help_presets_and_devices_load_nothing_heavy(tmp_path):
    run = _python(MODULES_AT_EXIT, "--help", tmp_path=tmp_path)
    assert run.returncode == 0 and _loaded(run) == []
    run = _python(MODULES_AT_EXIT, "presets", tmp_path=tmp_path)
    assert run.returncode == 0 and _loaded(run) == []
    run = _python(MODULES_AT_EXIT, "devices", tmp_path=tmp_path)
    assert "Traceback" not in run.stderr
    assert "torch" not in _loaded(run) and "scipy.signal" not in _loaded(run)


def test_info_on_a_recording_does_not_load_torch(tmp_path, recording):
    """Only a trained model's file needs torch to describe (it was 2-3 s of every `info`)."""
    run = _python(MODULES_AT_EXIT, "info", str(recording), tmp_path=tmp_path)
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert "torch" not in _loaded(run) and "scipy.signal" not in _loaded(run)


def test_deferred_work_runs_after_the_first_paint_listeners(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    first = FirstPaint(widget)
    order = []
    first.painted.connect(lambda: order.append("painted"))
    first.call_after(lambda: order.append("deferred"))
    assert order == []
    widget.show()
    qtbot.waitUntil(lambda: len(order) == 2, timeout=5000)
    assert order == ["painted", "deferred"]
    first.call_after(lambda: order.append("late"))  # after the paint: soon, not never
    qtbot.waitUntil(lambda: len(order) == 3, timeout=5000)


def test_the_sampling_page_discovers_devices_once_shown(make_window):
    window = make_window()  # waits until discovery has finished
    assert window.first_paint.done
    assert window.pages["sampling"].inventory is not None


def test_the_window_and_the_about_box_carry_the_icon(make_window):
    import resources

    assert resources.ICON.is_file()
    window = make_window()
    assert not window.windowIcon().isNull()
    box = window.show_about()
    assert not box.iconPixmap().isNull() and box.iconPixmap().width() == 64
    box.close()


def _tab_keys(window) -> list[str | None]:
    """Each tab's page key, None for a page not built yet."""
    tabs = [window.tabs.widget(i) for i in range(window.tabs.count())]
    return [tab.key if isinstance(tab, Page) else None for tab in tabs]


def _menu_texts(window) -> dict[str, list[str]]:
    return {title: [a.text() for a in menu.actions()] for title, menu in window.menus.items()}


def test_the_page_shown_last_time_comes_first_and_the_others_follow_the_paint(
    qtbot, settings_dir, make_window
):
    from app.mainwindow import MainWindow

    eager = make_window()  # every page built: the tabs and menus as they always were
    keys, menus = list(eager.pages), _menu_texts(eager)
    settings = AppSettings()
    WINDOW_PAGE.write(settings, "models")
    window = MainWindow(settings)
    qtbot.addWidget(window)
    assert _tab_keys(window) == [key if key == "models" else None for key in keys]
    assert window.tabs.currentWidget().key == "models"
    assert "Export &dataset…" not in _menu_texts(window)["File"]  # the Postprocess page's
    window.show()
    qtbot.waitUntil(lambda: None not in _tab_keys(window), timeout=10_000)
    assert _tab_keys(window) == keys and window.tabs.currentWidget().key == "models"
    assert _menu_texts(window) == menus
    assert window.windowTitle() == "samplelab"


def test_asking_for_the_pages_builds_them_at_once(settings_dir):
    from app.mainwindow import MainWindow

    window = MainWindow(AppSettings())  # a tool or a script: never shown
    try:
        assert list(window.pages) == [key for key in _tab_keys(window)]
        assert window.tabs.currentWidget() is window.pages["sampling"]
    finally:
        window.deleteLater()


class _Windows(QObject):
    """Every top-level widget shown while installed (a widget shown before it has a
    parent is a window of its own for a moment)."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and watched.isWidgetType() and watched.isWindow():
            self.shown.append(watched.objectName() or type(watched).__name__)
        return False


def test_pages_built_after_the_paint_open_no_window_and_leave_the_window_active(qtbot, make_window):
    windows = _Windows()
    QApplication.instance().installEventFilter(windows)
    try:
        window = make_window()
        qtbot.waitUntil(lambda: None not in _tab_keys(window), timeout=10_000)
        qtbot.wait(50)
    finally:
        QApplication.instance().removeEventFilter(windows)
    assert windows.shown == ["main_window"]
    assert QApplication.activeWindow() is window
