"""Screenshots of the Device page (I-V curves, consistency check, live panel), as a user sees it.

Runs headless unless a display is set, with its own settings and output folder:

    python tools/shots_device.py [--out docs/screenshots]

device-iv-*.png: the `dnpu-7x1-sawtooth` wiring swept on the simulated device.
device-check-*.png: a short recording of the simulated device, postprocessed,
checked on the same device shifted by 12 nA (so the verdict reads "drifted"),
or unchanged (consistent). device-panel-*.png: the live panel with a few
levels set and a small wave, paced like hardware: the levels slew up and are
held, then one moves to a new level.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {"small": (1024, 700), "large": (1920, 1080)}
SHOTS = [  # (tool, size, theme)
    ("iv", "large", "light"),
    ("iv", "small", "light"),
    ("iv", "large", "dark"),
    ("iv", "small", "dark"),
    ("check", "large", "light"),
    ("check", "small", "dark"),
    ("panel", "large", "dark"),
    ("panel", "small", "light"),
]


def pump(seconds: float) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.005)


def wait(condition: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError("timed out waiting for the page")
        pump(0.05)


def checked_folder(work: Path) -> Path:
    """A postprocessed folder of a short simulated recording (what a lab checks later)."""
    from backend.config import load_config
    from backend.postprocess.job import postprocess
    from backend.sampling.session import start_session
    from resources import preset_path

    config = load_config(preset_path("quick-demo")).model_copy(deep=True)
    config.input_data.number_batches = 12
    session = start_session(config, "simulated", path=work / "demo.h5", seed=5)
    recording = session.run().path
    postprocess(recording, work / "demo_postprocessed", charging_batches=4, reference_batches=3)
    return work / "demo_postprocessed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="samplelab-device-shots-"))
    from app.main import ensure_app
    from app.settings import AppSettings, use_settings_dir

    use_settings_dir(work / "settings")
    ensure_app()
    from app.mainwindow import MainWindow
    from resources import preset_path

    folder = checked_folder(work)
    window = MainWindow(AppSettings())
    window.show()
    page = window.pages["device"]
    window.tabs.setCurrentWidget(page)
    page.setup.out_dir.setText(str(work / "results"))
    page.setup.load(str(preset_path("dnpu-7x1-sawtooth")))
    pump(1.0)
    written = []
    try:
        for tool, size, theme in SHOTS:
            window.set_theme(theme)
            window.resize(*SIZES[size])
            name = f"device-{tool}-{SIZES[size][0]}-{theme}.png"
            {"iv": _iv, "check": _check, "panel": _panel}[tool](page, folder, theme)
            pump(0.8)
            window.grab().save(str(out / name))
            written.append(name)
            page.live.stop()
            wait(lambda: not page.tools_running(), 60)  # a finished job's worker too
    finally:
        page.shutdown(30)
        window._closing = True
        window.close()
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(written))
    return 0


def _iv(page, folder: Path, theme: str) -> None:
    page.tools.setCurrentWidget(page.iv)
    page.setup.model.setText("")
    page.setup.realtime.setChecked(False)
    page.iv.points.setValue(400)
    page.iv.controls.start_button.click()
    wait(lambda: page.iv.result is not None, 60)


def _check(page, folder: Path, theme: str) -> None:
    page.tools.setCurrentWidget(page.check)
    page.setup.realtime.setChecked(False)
    page.check.folder.setText(str(folder))
    page.check.repetitions.setValue(8)
    drifted = theme == "dark"
    original = page.setup.request

    def shifted():  # the same simulated device, 12 nA off since it was sampled
        request = original()
        return _Shifted(request, 12.0) if drifted else request

    page.setup.request = shifted
    try:
        page.check.controls.start_button.click()
        wait(lambda: page.check.result is not None or not page.check.busy, 60)
    finally:
        page.setup.request = original


class _Shifted:
    """A device request whose simulated device reads `shift` nA more (as --shift does)."""

    def __init__(self, request, shift: float) -> None:
        self.request, self.shift = request, shift

    def make(self, config):
        from backend.characterise.device import characterisation_device

        return characterisation_device("simulated", config, shift_nA=self.shift)


def _panel(page, folder: Path, theme: str) -> None:
    import numpy as np

    page.tools.setCurrentWidget(page.live)
    page.setup.realtime.setChecked(True)
    live = page.live
    live.amplitude.setValue(0.05)
    live.frequency.setValue(3.0)
    live.controls.start_button.click()
    try:
        wait(lambda: live.busy and live.panel is not None, 20)
    except RuntimeError:
        raise RuntimeError(
            f"the live panel did not start: {live.controls.state.text()!r} "
            f"{page.window().statusBar().currentMessage()!r}"
        ) from None
    levels = np.array([0.4, -0.6, 0.0, -1.0, 0.2, -0.3, 0.25])
    live.levels.set_levels(levels)
    for k, v in enumerate(levels):
        live.panel.set_level(k, v)
    pump(4.0)  # the levels slew there and are held
    levels[3] = -0.4  # then one level moves: a ramp at the slew rate to a new held level
    live.levels.set_levels(levels)
    live.panel.set_level(3, levels[3])
    pump(2.5)


if __name__ == "__main__":
    sys.exit(main())
