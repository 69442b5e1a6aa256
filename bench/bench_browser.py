"""Recordings page: time to the first overview of a huge recording, against reading it all.

What a user waits for: from selecting a recording in the Recordings page (the
tree's `path_selected` -> `open_path`) to its curves drawn (the answer set on
the curves and the plot repainted), with the overview sidecar already built
(its build time is reported separately). The page runs for real, offscreen,
in the main window.

Baseline, in the same run: read every row with h5py and decimate with plain
numpy (reshape, min/max) to the same number of points: what a viewer without
an overview does. Reading 10^8 x 8 float64 rows (6.4 GB) takes minutes, so the
baseline is measured on the first --baseline-rows rows and scaled per row
(the JSON says so). Default --rows is CI-friendly (10^7); the figure that
matters is --rows 100000000 (needs ~7 GB of free disk, deleted afterwards).

    python bench/bench_browser.py [--rows N] [--repeat 5] [--dir FOLDER]

Prints one JSON object. Target: first overview < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHANNELS = 8  # 7 inputs (V) + 1 output (nA)
BATCH_ROWS = 1 << 20
TARGET_S = 1.0


def write_recording(path: Path, rows: int) -> float:
    """A 7-in/1-out recording of `rows` rows in 2^20-row batches; returns seconds."""
    from backend.config import load_config
    from backend.recording.writer import RecordingWriter
    from resources import preset_path

    config = load_config(preset_path("dnpu-7x1-sine")).model_copy(deep=True)
    config.input_data.batch_time = BATCH_ROWS / config.fs
    config.input_data.number_batches = -(-rows // BATCH_ROWS)
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(scale=0.01, size=(BATCH_ROWS, CHANNELS)), axis=0)
    start = time.perf_counter()
    with RecordingWriter.create(path, config, {"kind": "benchmark"}, seed=0) as writer:
        for index, first in enumerate(range(0, rows, BATCH_ROWS)):
            n = min(BATCH_ROWS, rows - first)
            block = walk[:n] + 0.001 * index
            block[rng.integers(0, n, 4)] += 5.0  # spikes the envelope must keep
            writer.append(index, block[:, :7], block[:, 7:], np.zeros(7), 0.0, 0.0, 0.0)
    return time.perf_counter() - start


def build_overview(path: Path) -> tuple[float, int]:
    from backend.display.pyramid import Pyramid

    start = time.perf_counter()
    with Pyramid.open(path) as pyramid:
        rows = pyramid.rows
    return time.perf_counter() - start, rows


def pump_until(app, condition, timeout_s: float = 120.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the page did not draw in time")
        app.processEvents()
        time.sleep(0.0005)


def time_first_overview(app, page, path: Path) -> tuple[float, int, int]:
    """Seconds from selecting `path` to its curves drawn; (seconds, step, points)."""
    view = page.view
    drawn = []
    view.drawn.connect(lambda: drawn.append(time.perf_counter()))
    start = time.perf_counter()
    page.open_path(str(path))  # what a click in the tree calls
    pump_until(app, lambda: bool(drawn))
    view.plot.viewport().repaint()  # the curves on screen, not just handed over
    seconds = time.perf_counter() - start
    view.drawn.disconnect()
    return seconds, view.window.envelope.step, view.points()


def time_zooms(app, page, rows: int, count: int = 10) -> float:
    """Median ms from a view change (as the wheel makes) to the new window drawn."""
    view = page.view
    rng = np.random.default_rng(4)
    times = []
    for _ in range(count):
        a = int(rng.integers(0, rows // 2))
        b = a + int(rng.integers(1000, rows // 2))
        seen = view.window
        start = time.perf_counter()
        view.show_rows(a, b)
        pump_until(app, lambda seen=seen: view.window is not seen)
        view.plot.viewport().repaint()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def baseline(path: Path, rows: int, points: int) -> tuple[float, int]:
    """h5py read of the first `rows` rows + numpy reshape min/max; (seconds, rows)."""
    import h5py

    start = time.perf_counter()
    with h5py.File(path, "r") as f:
        data = np.hstack([f["inputs"][:rows], f["outputs"][:rows]])
    step = -(-len(data) // (points // 2))
    full = len(data) // step
    bins = data[: full * step].reshape(full, step, CHANNELS)
    bins.min(axis=1), bins.max(axis=1)
    return time.perf_counter() - start, len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10**7)
    parser.add_argument("--baseline-rows", type=int, default=10**7)
    parser.add_argument("--repeat", type=int, default=5, help="opens timed after the first")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (needs disk)")
    args = parser.parse_args()
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = Path(tempfile.mkdtemp(prefix="bench_browser_", dir=args.dir))
    try:
        result = run(folder, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result, indent=2))


def run(folder: Path, args: argparse.Namespace) -> dict:
    path = folder / "big.h5"
    write_s = write_recording(path, args.rows)
    build_s, covered = build_overview(path)
    from app.main import ensure_app
    from app.settings import AppSettings, use_settings_dir

    use_settings_dir(folder / "settings")
    app = ensure_app()
    from app.mainwindow import MainWindow

    window = MainWindow(AppSettings())
    window.resize(1500, 950)
    window.show()
    page = window.pages["recordings"]
    window.tabs.setCurrentWidget(page)
    page.folder.set_root(str(folder))
    pump_until(app, lambda: page.view.plot.width() > 100)
    first_s, step, points = time_first_overview(app, page, path)
    again = [time_first_overview(app, page, path)[0] for _ in range(args.repeat)]
    pump_until(app, lambda: page.view.info is not None)
    zoom_ms = time_zooms(app, page, args.rows)
    window._closing = True
    window.close()
    base_s, measured = baseline(path, min(args.rows, args.baseline_rows), points)
    scaled = base_s * args.rows / measured
    return {
        "benchmark": "browser first overview",
        "rows": args.rows,
        "channels": CHANNELS,
        "recording_gb": round(path.stat().st_size / 1e9, 2),
        "write_recording_s": round(write_s, 1),
        "build_overview_s": round(build_s, 1),
        "overview_rows": covered,
        "points_per_channel": points,
        "first_overview_step_rows": step,
        "first_overview_s": round(first_s, 3),
        "reopen_overview_s_median": round(float(np.median(again)), 3),
        "zoom_to_drawn_ms_median": round(zoom_ms, 1),
        "baseline": "h5py read of every row + numpy reshape min/max",
        "baseline_measured_rows": measured,
        "baseline_s_measured": round(base_s, 2),
        "baseline_s_for_all_rows": round(scaled, 2),
        "baseline_scaled_per_row": measured < args.rows,
        "speedup_first_overview": round(scaled / first_s, 1),
        "machine": {"cpus": os.cpu_count(), "load_average_1_5_15min": os.getloadavg()},
        "target_first_overview_s_below": TARGET_S,
        "meets_target": first_s < TARGET_S,
    }


if __name__ == "__main__":
    main()
