"""Feeding PyTorch from a recording, and chunked processing within a memory budget.

One recording of `--rows` rows (7 inputs + 1 output, float64, the quick-demo
preset's 2500-row batches, synthetic device-like data) is written with
RecordingWriter, and the same rows as a postprocessed npz. Then:

- ours: `RecordingDataset(recording)` + `recording_loader` (one HDF5 read per
  buffer of batches, whole batches as tensors), shuffled, batch 256;
- baseline: the peer's pattern, `ModelDataset(npz)` + `DataLoader(batch_size=256,
  shuffle=True)`: per-item __getitem__ and default collate, data in memory.
  Both iterate for at most `--seconds` (or one epoch) and report samples/s.
- rss: in a fresh subprocess, `ChunkProcessor(recording, max_memory=budget)
  .write(...)` with budget = recording bytes / 4; peak RSS (ru_maxrss).

Prints one JSON object. Targets: ours >= 10x baseline samples/s; peak RSS of
the chunked job <= budget + 100 MB. Full size: `--rows 10000000`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_IN, N_OUT = 7, 1
WEIGHTS = np.array([0.9, -1.3, 0.7, 1.1, -0.6, 1.6, -0.8])


def make_recording(path: Path, rows: int) -> tuple[Path, int]:
    """A recording of about `rows` rows (whole batches) on synthetic data; returns rows."""
    import resources
    from backend.config import load_config
    from backend.recording.writer import RecordingWriter

    cfg = load_config(resources.preset_paths()["quick-demo"])
    bp = cfg.batch_points
    cfg.input_data.number_batches = max(1, -(-rows // bp))
    rng = np.random.default_rng(0)
    writer = RecordingWriter.create(path, cfg, {"kind": "bench", "name": "synthetic"}, seed=0)
    try:
        for i in range(cfg.number_batches):
            x = rng.uniform(-1.2, 0.6, size=(bp, N_IN))
            y = (170 * np.tanh(1.5 * (x @ WEIGHTS)))[:, None]
            writer.append(i, x, y, np.zeros(N_IN), i * bp / cfg.fs, 0.0, 0.0)
    finally:
        writer.close()
    return path, cfg.number_batches * bp


def make_npz(recording: Path, path: Path) -> Path:
    """The same rows as the peer's postprocessed npz (pickled config, as the peer writes)."""
    from backend.datasets.export import export_dataset

    written = export_dataset([recording], path.parent, [1.0], overwrite=True)
    written["train"].rename(path)
    return path


def rate(loader, seconds: float) -> dict:
    """Samples/s over one epoch or `seconds`, whichever ends first (first batch excluded)."""
    it = iter(loader)
    first = next(it)
    samples, batches = 0, 0
    start = time.perf_counter()
    for x, _ in it:
        samples += len(x)
        batches += 1
        if time.perf_counter() - start > seconds:
            break
    elapsed = time.perf_counter() - start
    del first
    return {
        "samples": samples,
        "batches": batches,
        "seconds": round(elapsed, 3),
        "samples_per_s": round(samples / elapsed, 1),
    }


def loader_case(recording: Path, npz: Path, batch: int, seconds: float) -> dict:
    import torch
    from torch.utils.data import DataLoader

    from backend.datasets import ModelDataset, RecordingDataset, recording_loader

    torch.manual_seed(0)
    ours = RecordingDataset(recording)
    theirs = ModelDataset(npz)  # our npz carries its config as JSON too
    x_ours, y_ours = ours[np.arange(100)]
    assert torch.equal(x_ours, theirs.inputs[:100]) and torch.allclose(y_ours, theirs.targets[:100])
    ours_rate = rate(recording_loader(ours, batch, shuffle=True, buffer_batches=64), seconds)
    base_rate = rate(DataLoader(theirs, batch_size=batch, shuffle=True), seconds)
    return {
        "ours": ours_rate,
        "baseline": base_rate,
        "speedup": round(ours_rate["samples_per_s"] / base_rate["samples_per_s"], 2),
        "target_speedup": 10,
    }


# Peak RSS from VmHWM: ru_maxrss of an exec'd child can carry the parent's high-water mark.
RSS_CHILD = r"""
import json, resource, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from backend.data.chunks import ChunkProcessor

def hwm_kb():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def work(batch):
    return np.tanh(batch * 0.01)

before = hwm_kb()
with ChunkProcessor(sys.argv[2], max_memory=int(sys.argv[3])) as proc:
    proc.write(work, sys.argv[4], cast_dtype="<f4", if_exists="overwrite")
    batches, rows = proc.n_chunks, proc.chunk_rows
peak = hwm_kb()
print(json.dumps({"rss_before_kb": before, "peak_kb": peak, "batches": batches, "rows": rows}))
"""


def rss_case(recording: Path, rows: int, out: Path) -> dict:
    data_bytes = rows * (N_IN + N_OUT) * 8
    budget = data_bytes // 4
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RSS_CHILD, str(ROOT), str(recording), str(budget), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - t0
    child = json.loads(done.stdout.strip().splitlines()[-1])
    mb = 1 << 20
    peak = child["peak_kb"] * 1024
    return {
        "recording_mb": round(data_bytes / mb, 1),
        "budget_mb": round(budget / mb, 1),
        "batches": child["batches"],
        "batch_rows": child["rows"],
        "rss_after_imports_mb": round(child["rss_before_kb"] * 1024 / mb, 1),
        "peak_rss_mb": round(peak / mb, 1),
        "limit_mb": round((budget + 100 * mb) / mb, 1),
        "within_limit": peak <= budget + 100 * mb,
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="rows in the recording")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=10.0, help="time cap per loader case")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        recording, rows = make_recording(tmp / "bench.h5", args.rows)
        npz = make_npz(recording, tmp / "npz" / "postprocessed_data.npz")
        setup_s = time.perf_counter() - t0
        loaders = loader_case(recording, npz, args.batch_size, args.seconds)
        rss = rss_case(recording, rows, tmp / "processed.bin")
    result = {
        "rows": rows,
        "channels": N_IN + N_OUT,
        "batch_size": args.batch_size,
        "setup_s": round(setup_s, 2),
        "loader": loaders,
        "chunked_rss": rss,
        "parent_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
