"""Start-up: time to samplelab's first painted window, against a bare PySide6 + pyqtgraph window.

Each figure is one fresh process, timed from its launch to the moment it says
so on stdout: for the windows, right after the first paint of the main window
(samplelab: `run_gui(on_first_paint=...)`, the real start path; the baseline:
a QMainWindow holding one pyqtgraph PlotWidget, its first paint caught the
same way). The command line is timed to process exit: `samplelab --help`
against a bare `python -c pass`, and `samplelab info RECORDING` against a bare
process that opens the same recording with h5py. Cases alternate in rounds,
so a slow spell of a shared machine hits them alike; medians are reported.
Python's bytecode is cached for every case (a warm-up round writes it into a
temporary PYTHONPYCACHEPREFIX), as on a user's machine after the first start.

    python bench/bench_startup.py [--rounds 7] [--platform offscreen|xcb]

Prints one JSON object. Target: first window within 2x the bare window.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.0

OURS = """
from app.main import run_gui

def painted(window):
    print("painted", flush=True)
    window.close()

raise SystemExit(run_gui(on_first_paint=painted))
"""

BARE = """
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
import pyqtgraph as pg

app = QApplication([])
window = QMainWindow()
window.setCentralWidget(pg.PlotWidget())
window.resize(1400, 900)  # the size of samplelab's first window

class Painted(QObject):  # caught as app.firstpaint does: any widget of the window
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and watched.isWidgetType():
            if watched.window() is window:
                app.removeEventFilter(self)
                QTimer.singleShot(0, done)
        return False

def done():
    print("painted", flush=True)
    window.close()

watch = Painted()
app.installEventFilter(watch)
window.show()
raise SystemExit(app.exec())
"""


def time_to_marker(command: list[str], env: dict[str, str]) -> float:
    """Seconds from launching `command` to its 'painted' line on stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for line in proc.stdout:
        if line.strip() == "painted":
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError(f"{command[:3]} never painted: {proc.stderr.read()[-2000:]}")
    proc.communicate(timeout=120)
    return elapsed


def time_to_exit(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def make_recording(folder: Path, env: dict[str, str]) -> Path:
    """A small recording to `info` (the quick-demo preset, 4 batches)."""
    sample = ["sample", "quick-demo", "--batches", "4", "--seed", "1", "--model", "analytic"]
    done = subprocess.run(
        [sys.executable, "-m", "app", *sample, "--out", str(folder), "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return Path(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of every case")
    parser.add_argument(
        "--platform", default="offscreen", help="QT_QPA_PLATFORM (xcb needs a display)"
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="samplelab-bench-startup-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": args.platform,
        "SAMPLELAB_HOME": str(work / "home"),  # fresh settings: the default window
        # Bytecode cached as after a user's first start (the warm-up round writes it),
        # for every case alike and outside the repository.
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    recording = make_recording(work / "recordings", env)
    py = sys.executable
    cases = {
        "first_window": lambda: time_to_marker([py, "-c", OURS], env),
        "bare_window": lambda: time_to_marker([py, "-c", BARE], env),
        "help": lambda: time_to_exit([py, "-m", "app", "--help"], env),
        "python": lambda: time_to_exit([py, "-c", "pass"], env),
        "info": lambda: time_to_exit([py, "-m", "app", "info", str(recording)], env),
        "h5py_open": lambda: time_to_exit(
            [py, "-c", f"import h5py; h5py.File({str(recording)!r}, 'r').close()"], env
        ),
    }
    for run in cases.values():  # warm the file cache; not counted
        run()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, run in cases.items():
            samples[name].append(run())
    median = {name: statistics.median(values) for name, values in samples.items()}
    ratio = median["first_window"] / median["bare_window"]
    report = {
        "benchmark": "startup",
        "platform": args.platform,
        "rounds": args.rounds,
        "bytecode": "cached",
        "first_window_s": round(median["first_window"], 3),
        "bare_window_s": round(median["bare_window"], 3),
        "first_window_ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
        "help_s": round(median["help"], 3),
        "python_s": round(median["python"], 3),
        "help_ratio": round(median["help"] / median["python"], 2),
        "info_s": round(median["info"], 3),
        "h5py_open_s": round(median["h5py_open"], 3),
        "info_ratio": round(median["info"] / median["h5py_open"], 2),
        "samples_s": {name: [round(v, 3) for v in values] for name, values in samples.items()},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
