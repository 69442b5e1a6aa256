"""Screenshots of the Recordings and Streams pages (called by tools/screenshots.py).

recordings.png: a 20 s recording of the `dnpu-7x1-sine` preset (simulated
device) open in the browser, zoomed in, with the cursor and its readout and
the metadata tree. streams.png: the Streams page following a session running
on the Sampling page (paced like hardware), with a moving average.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def _wait(pump: Callable[[float], None], condition: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        pump(0.05)
    if not condition():
        raise RuntimeError("timed out waiting for the page")


def make_recording(folder: Path) -> Path:
    from backend.config import load_config
    from backend.sampling.session import start_session
    from resources import preset_path

    config = load_config(preset_path("dnpu-7x1-sine")).model_copy(deep=True)
    config.input_data.number_batches = 40
    session = start_session(config, "simulated", path=folder / "dnpu_sine.h5", seed=11)
    return Path(session.run().path)


def shoot_recordings(window, out: Path, work: Path, pump: Callable[[float], None]) -> str:
    folder = work / "browse"
    folder.mkdir(parents=True, exist_ok=True)
    path = make_recording(folder)
    page = window.pages["recordings"]
    window.tabs.setCurrentWidget(page)
    page.folder.set_root(str(folder))
    _wait(pump, lambda: page.tree.select(path), 10)
    view = page.view
    _wait(pump, lambda: view.info is not None and view.window is not None, 20)
    _wait(pump, lambda: page.ranges is not None, 20)
    view.show_rows(45_000, 48_000)  # 0.6 s of the 20 s
    pump(0.5)
    view.show_cursor_at(9.32)
    _wait(pump, lambda: view.values is not None, 10)
    page.meta.collapseItem(page.meta.item_at(["Batches"]))
    page.meta.expand_section("Channels")
    page.meta.scrollToTop()
    pump(0.5)
    window.grab().save(str(out / "recordings.png"))
    return "recordings.png"


def shoot_streams(window, out: Path, work: Path, pump: Callable[[float], None]) -> str:
    from resources import preset_path

    sampling = window.pages["sampling"]
    page = window.pages["streams"]
    sampling.files.load(preset_path("quick-demo"), quiet=True)  # earlier shots broke the form
    sampling.form.set_value("save_directory", str(work / "recordings"))
    sampling.run_options.realtime.setChecked(True)
    _wait(pump, sampling.start_action.isEnabled, 10)
    sampling.start_action.trigger()
    _wait(pump, lambda: sampling.runner.state == "running", 20)
    window.tabs.setCurrentWidget(page)
    form = page.form
    form.select_source("session")
    form.average.setChecked(True)
    form.taps.setValue(200)  # 40 ms at 5 kHz: the sawtooth corners round off
    form.window_s.setValue(1.0)
    page.start_action.trigger()
    _wait(pump, lambda: page.stats.rows >= 6000, 30)
    pump(0.5)
    window.grab().save(str(out / "streams.png"))
    page.stop_action.trigger()
    sampling.stop_action.trigger()
    sampling.runner.wait(30)
    pump(0.5)
    return "streams.png"


def shoot(window, out: Path, work: Path, pump: Callable[[float], None]) -> list[str]:
    """Write recordings.png and streams.png into `out`; returns their names."""
    return [
        shoot_recordings(window, out, work, pump),
        shoot_streams(window, out, work, pump),
    ]
