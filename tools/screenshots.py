"""Screenshots of the real application, mid-session on the simulated device.

Runs headless (QT_QPA_PLATFORM=offscreen unless a display is set) with its own
temporary settings and output folder, drives the window as a user would
(preset, Start, theme toggle, bad values typed into the form; the Sampling
page at 1024x700 and 1920x1080 too, see shots_sampling.py) and saves PNGs:

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
    from tools.shots_sampling import shoot as shoot_sampling

    shots = [(name, window) for name in shoot_sampling(window, out, work, pump, args.seconds)]

    from tools.shots_postprocess import shoot as shoot_postprocess

    shots += [(name, window) for name in shoot_postprocess(window, out, work, pump)]

    from tools.shots_browser import shoot as shoot_browser

    shots += [(name, window) for name in shoot_browser(window, out, work, pump)]

    window._closing = True  # nothing runs now; a question here would hang a headless run
    window.close()
    pump(0.2)
    shutil.rmtree(work, ignore_errors=True)
    for name, _ in shots:
        print(out / name)
    return 0 if app is not None else 1


if __name__ == "__main__":
    sys.exit(main())
