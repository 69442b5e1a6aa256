"""Screenshots of the real application, mid-session on the simulated device.

Runs headless (QT_QPA_PLATFORM=offscreen unless a display is set) with its own
temporary settings and output folder, drives the window as a user would
(preset, Start, theme toggle, a bad value typed into the form) and saves PNGs:

    python tools/screenshots.py [--out docs/screenshots] [--seconds 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pump(seconds: float) -> None:
    """Let the event loop run (timers, queued signals, painting) for `seconds`."""
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.005)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--seconds", type=float, default=4.0, help="session time before the shot")
    parser.add_argument("--preset", default="quick-demo")
    args = parser.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="samplelab-shots-"))

    from app.main import ensure_app
    from app.settings import AppSettings, use_settings_dir

    use_settings_dir(work / "settings")
    app = ensure_app()
    from app.mainwindow import MainWindow
    from resources import preset_path

    window = MainWindow(AppSettings(), config_path=str(preset_path(args.preset)))
    window.resize(1500, 950)
    window.show()
    page = window.pages["sampling"]
    page.form.set_value("save_directory", str(work / "recordings"))
    page.run_options.realtime.setChecked(True)
    page.run_options.seed.setText("7")
    pump(1.0)  # device discovery finishes
    shots = []

    page.start_action.trigger()
    pump(args.seconds)
    shots.append(("sampling-light.png", window))
    window.grab().save(str(out / "sampling-light.png"))

    window.dark_action.trigger()
    pump(1.5)
    window.grab().save(str(out / "sampling-dark.png"))
    shots.append(("sampling-dark.png", window))

    page.pause_action.trigger()
    pump(1.0)
    window.grab().save(str(out / "sampling-paused-dark.png"))
    shots.append(("sampling-paused-dark.png", window))
    page.stop_action.trigger()
    page.runner.wait(30)
    pump(0.5)

    window.dark_action.trigger()
    page.form.editors["input_data.batch_time"].setText("0.0505")
    page.form.table.table.item(2, 3).setText("1.9")  # Input 2's maximum, past the 1.6 V limit
    pump(0.5)
    window.grab().save(str(out / "sampling-validation.png"))
    shots.append(("sampling-validation.png", window))

    from tools.shots_postprocess import shoot as shoot_postprocess

    shots += [(name, window) for name in shoot_postprocess(window, out, work, pump)]

    from tools.shots_browser import shoot as shoot_browser

    shots += [(name, window) for name in shoot_browser(window, out, work, pump)]

    window.close()
    pump(0.2)
    shutil.rmtree(work, ignore_errors=True)
    for name, _ in shots:
        print(out / name)
    return 0 if app is not None else 1


if __name__ == "__main__":
    sys.exit(main())
