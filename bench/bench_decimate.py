"""Min/max decimation speed: live buffer, row-major arrays, and the overview pyramid.

Each figure runs our code and a plain-numpy baseline in the same run:

- live: 8 channels x 10^6 rows in a LiveBuffer, decimated to 4000 points.
  Ours decimates straight from the ring; the baseline copies the window out
  (`read_channels`) and then reduces it (what the buffer did before).
- row-major: a (10^6, 8) C-ordered array to 4000 points. Ours transposes
  cache-sized blocks; the baseline is `data.reshape(bins, step, 8).min(axis=1)`
  (and max), the obvious numpy code.
- pyramid: a recording of --rows rows x 8 channels (7 inputs + 1 output,
  float64) is written, its overview built, and the full-extent window
  decimated to 4000 points from the overview. The baseline reads the rows from
  the file and reduces them with plain numpy; above --baseline-rows it is
  measured on the first --baseline-rows rows and scaled per row (the JSON says
  which). At 10^8 rows the recording is 6.4 GB: default --rows is 10^7.

Prints one JSON object. Targets: live and row-major < 10 ms, pyramid < 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from backend.acquisition.livebuffer import LiveBuffer
from backend.config import load_config
from backend.display.decimate import bin_step, minmax
from backend.display.pyramid import Pyramid
from backend.recording.reader import Recording
from backend.recording.writer import RecordingWriter
from resources import preset_path

CHANNELS = 8
POINTS = 4000


def timed(fn, repeat: int) -> tuple[float, float]:
    """(best, median) milliseconds of `repeat` calls, after one untimed warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), float(np.median(times))


def naive_minmax(data: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain numpy: reshape full bins, reduce over the bin axis, then the partial tail."""
    step = bin_step(len(data), points)
    full = len(data) // step
    head = data[: full * step].reshape(full, step, data.shape[1])
    mins, maxs = head.min(axis=1), head.max(axis=1)
    if full * step < len(data):
        tail = data[full * step :]
        mins = np.vstack([mins, tail.min(axis=0)])
        maxs = np.vstack([maxs, tail.max(axis=0)])
    return mins, maxs


def bench_live(rows: int, repeat: int) -> dict:
    buf = LiveBuffer(CHANNELS, rows)
    data = np.random.default_rng(0).normal(size=(rows + rows // 3, CHANNELS))
    for start in range(0, len(data), 50_000):  # wraps once, like a running session
        buf.append(data[start : start + 50_000])
    first = buf.first_available

    def baseline() -> None:
        _, window = buf.read_channels(first, buf.total)
        step = bin_step(window.shape[1], POINTS)
        full = window.shape[1] // step
        bins = window[:, : full * step].reshape(CHANNELS, full, step)
        bins.min(axis=2), bins.max(axis=2)

    ours = timed(lambda: buf.envelope(first, buf.total, POINTS), repeat)
    base = timed(baseline, repeat)
    env = buf.envelope(first, buf.total, POINTS)
    return {
        "rows": rows,
        "channels": CHANNELS,
        "points": POINTS,
        "output_bins": env.bins,
        "ours_ms_best": round(ours[0], 2),
        "ours_ms_median": round(ours[1], 2),
        "baseline_copy_then_reduce_ms_best": round(base[0], 2),
        "speedup": round(base[0] / ours[0], 2),
    }


def bench_row_major(rows: int, repeat: int) -> dict:
    data = np.random.default_rng(1).normal(size=(rows, CHANNELS))
    ours = timed(lambda: minmax(data, POINTS), repeat)
    base = timed(lambda: naive_minmax(data, POINTS), repeat)
    env = minmax(data, POINTS)
    mins, maxs = naive_minmax(data, POINTS)
    assert np.array_equal(env.mins, mins) and np.array_equal(env.maxs, maxs)
    return {
        "rows": rows,
        "channels": CHANNELS,
        "points": POINTS,
        "ours_ms_best": round(ours[0], 2),
        "ours_ms_median": round(ours[1], 2),
        "baseline_numpy_reshape_ms_best": round(base[0], 2),
        "speedup": round(base[0] / ours[0], 2),
    }


def write_recording(path: Path, rows: int) -> float:
    """A 7-in/1-out recording of `rows` rows, written in 2^20-row batches; returns seconds."""
    batch = 1 << 20
    config = load_config(preset_path("dnpu-7x1-sine")).model_copy(deep=True)
    config.input_data.batch_time = batch / config.fs
    config.input_data.number_batches = -(-rows // batch)
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(scale=0.01, size=(batch, CHANNELS)), axis=0)
    start = time.perf_counter()
    with RecordingWriter.create(path, config, {"kind": "benchmark"}, seed=0) as writer:
        for index, first in enumerate(range(0, rows, batch)):
            n = min(batch, rows - first)
            block = walk[:n] + 0.001 * index
            block[rng.integers(0, n, 4)] += 5.0  # spikes the envelope must keep
            writer.append(index, block[:, :7], block[:, 7:], np.zeros(7), 0.0, 0.0, 0.0)
    return time.perf_counter() - start


def equals_raw(rec: Recording, env) -> bool:
    """The overview's full-window envelope against min/max of every raw row, read in chunks."""
    block = env.step * max(1, (1 << 22) // env.step)
    mins, maxs = [], []
    for start in range(0, rec.n_rows, block):
        inputs, outputs = rec.read(start, start + block)
        part = minmax(np.hstack([inputs, outputs]), 0, start, env.step)
        mins.append(part.mins)
        maxs.append(part.maxs)
    return bool(
        np.array_equal(np.concatenate(mins), env.mins)
        and np.array_equal(np.concatenate(maxs), env.maxs)
    )


def bench_pyramid(folder: Path, rows: int, baseline_rows: int, repeat: int) -> dict:
    path = folder / "big.h5"
    write_s = write_recording(path, rows)
    start = time.perf_counter()
    pyramid = Pyramid.open(path, cache_dir=folder / "cache")
    build_s = time.perf_counter() - start
    try:
        full = timed(lambda: pyramid.envelope(0, rows, POINTS), repeat)
        rng = np.random.default_rng(3)
        windows = [(int(a), int(a + rng.integers(rows // 100, rows - a))) for a in
                   rng.integers(0, rows // 2, 20)]  # fmt: skip
        start = time.perf_counter()
        for a, b in windows:
            pyramid.envelope(a, b, POINTS)
        random_ms = (time.perf_counter() - start) * 1000 / len(windows)
        env = pyramid.envelope(0, rows, POINTS)
        measured = min(rows, baseline_rows)
        with Recording(path) as rec:

            def baseline() -> tuple[np.ndarray, np.ndarray]:
                inputs, outputs = rec.read(0, measured)
                return naive_minmax(np.hstack([inputs, outputs]), POINTS)

            base = timed(baseline, max(1, min(repeat, 3)))
            same = equals_raw(rec, env)
        sidecar_mb = pyramid.path.stat().st_size / 1e6
        steps = pyramid.steps
    finally:
        pyramid.close()
    scale = rows / measured
    return {
        "rows": rows,
        "channels": CHANNELS,
        "recording_gb": round(path.stat().st_size / 1e9, 2),
        "write_recording_s": round(write_s, 1),
        "build_overview_s": round(build_s, 1),
        "overview_mb": round(sidecar_mb, 1),
        "overview_steps": steps,
        "points": POINTS,
        "output_bins": env.bins,
        "output_step": env.step,
        "full_window_ms_best": round(full[0], 2),
        "full_window_ms_median": round(full[1], 2),
        "random_windows_ms_mean": round(random_ms, 2),
        "baseline": "h5py read of the rows + numpy reshape min/max",
        "baseline_measured_rows": measured,
        "baseline_ms_measured": round(base[0], 1),
        "baseline_ms_for_all_rows": round(base[0] * scale, 1),
        "baseline_scaled_per_row": measured < rows,
        "speedup": round(base[0] * scale / full[0], 1),
        "overview_equals_raw_minmax": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10**7, help="rows of the pyramid recording")
    parser.add_argument("--live-rows", type=int, default=10**6)
    parser.add_argument("--baseline-rows", type=int, default=2 * 10**7)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (needs disk)")
    args = parser.parse_args()
    live = bench_live(args.live_rows, args.repeat)
    row_major = bench_row_major(args.live_rows, args.repeat)
    folder = Path(tempfile.mkdtemp(prefix="bench_decimate_", dir=args.dir))
    try:
        pyramid = bench_pyramid(folder, args.rows, args.baseline_rows, args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    targets = {"live_ms_below": 10, "row_major_ms_below": 10, "pyramid_full_window_ms_below": 200}
    result = {
        "benchmark": "decimate",
        "live_buffer": live,
        "row_major": row_major,
        "pyramid": pyramid,
        "machine": {"cpus": os.cpu_count(), "load_average_1_5_15min": os.getloadavg()},
        "targets": targets,
        "meets_targets": {
            "live": live["ours_ms_best"] < targets["live_ms_below"],
            "row_major": row_major["ours_ms_best"] < targets["row_major_ms_below"],
            "pyramid": pyramid["full_window_ms_best"] < targets["pyramid_full_window_ms_below"],
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
