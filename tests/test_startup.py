"""A fast first window: torch, scipy.signal and the NI driver load only after the first paint.

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
from PySide6.QtWidgets import QWidget

from app.firstpaint import FirstPaint

__all__ = ["make_window", "settings_dir"]  # fixtures used by name

HEAVY = ("torch", "scipy.signal", "nidaqmx")

FIRST_PAINT = """
import json, sys
from app.main import run_gui

def painted(window):
    page = window.pages["sampling"]
    print(json.dumps({
        "loaded": [m for m in %r if m in sys.modules],
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


def test_the_main_window_paints_before_torch_scipy_signal_or_nidaqmx_load(tmp_path):
    run = _python(FIRST_PAINT, tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report == {"loaded": [], "discovery_started": False}


def _loaded(run: subprocess.CompletedProcess) -> list[str]:
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("LOADED")]
    return line.split()[1:]


def test_help_presets_and_devices_do_not_load_torch(tmp_path):
    run = _python(MODULES_AT_EXIT, "--help", tmp_path=tmp_path)
    assert run.returncode == 0 and _loaded(run) == []
    run = _python(MODULES_AT_EXIT, "presets", tmp_path=tmp_path)
    assert run.returncode == 0 and _loaded(run) == []
    run = _python(MODULES_AT_EXIT, "devices", tmp_path=tmp_path)
    assert "Traceback" not in run.stderr
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
