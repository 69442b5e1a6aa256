"""Screenshots of the Models page after a real training run (light and dark, two sizes).

    python tools/shots_models.py [--out docs/screenshots]

Trains a small model on a copy of the small_sine fixture through the page
(as Train does), then saves models-<size>-<theme>.png for 1024x700 and
1920x1080. Runs headless unless a display is set; settings and outputs go
to a temporary folder.
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

SIZES = ((1024, 700), (1920, 1080))


def pump(seconds: float) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.005)


def shoot(window, out: Path, work: Path, wait) -> list[str]:
    """Drive the Models page of `window` and save its shots; returns the file names."""
    page = window.pages["models"]
    window.tabs.setCurrentWidget(page)
    data = work / "small_sine"
    shutil.copytree(ROOT / "tests" / "data" / "bspysmg-1.0.7" / "small_sine", data)
    npz = str(data / "postprocessed_data.npz")
    page.sources.trusted.add(npz)  # our own fixture: its pickled config is trusted
    page.sources.add([npz])
    deadline = time.monotonic() + 60
    while (page.sources.pending or not page.sources.paths()) and time.monotonic() < deadline:
        wait(0.05)
    page.form.hidden.setText("64,64,64")
    page.form.epochs.setValue(120)
    page.form.batch_size.setValue(64)
    page.form.seed.setText("1")
    page.out_edit.setText(str(work / "model"))
    page.results.log_scale.setChecked(True)
    page.train()
    deadline = time.monotonic() + 300
    while page.worker is not None and time.monotonic() < deadline:
        wait(0.05)
    names = []
    for theme in ("light", "dark"):
        if window.ctx.theme.name != theme:
            window.dark_action.trigger()
        for width, height in SIZES:
            window.resize(width, height)
            wait(0.8)
            name = f"models-{width}x{height}-{theme}.png"
            window.grab().save(str(out / name))
            names.append(name)
    if window.ctx.theme.name != "light":
        window.dark_action.trigger()
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="samplelab-shots-models-"))
    from app.main import ensure_app
    from app.settings import AppSettings, use_settings_dir

    use_settings_dir(work / "settings")
    app = ensure_app()
    from app.mainwindow import MainWindow

    window = MainWindow(AppSettings())
    window.show()
    pump(1.0)
    names = shoot(window, out, work, pump)
    window.pages["sampling"].shutdown(10)
    window._closing = True
    window.close()
    pump(0.2)
    shutil.rmtree(work, ignore_errors=True)
    for name in names:
        print(out / name)
    return 0 if app is not None else 1


if __name__ == "__main__":
    sys.exit(main())
