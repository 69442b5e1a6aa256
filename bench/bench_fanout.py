"""Many recordings postprocessed: one after another in one process vs a 2-worker Dask cluster.

`--recordings` recordings (default 8) of `--rows` rows each (default 1,000,000; the
7x1 sawtooth preset on the analytic device model) are written with RecordingWriter.
Then, in rounds (--repeat, best time kept):

- serial: `postprocess_each(sources)` in this process, one job after another (what
  `samplelab postprocess A B C ...` does without --workers);
- cluster: the same jobs through `--workers 2`: a LocalCluster of 2 worker processes
  started and shut inside the timing, as the command line does;
- cluster_warm: the same jobs on a cluster that is already running (`--scheduler`).

Every run's outputs are checked equal to the serial run's. The per-job overhead of
the cluster path is measured with empty jobs on the warm cluster (submit, run,
gather) and reported with the cluster's start-up time. Prints one JSON object.
Note that one postprocess job already overlaps its reading with a background
writer thread, so on a 2-core machine two workers cannot reach 2x.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BATCH_POINTS = 2500


def make_recording(path: Path, rows: int, seed: int) -> Path:
    from backend.acquisition.waves import BatchPlan
    from backend.config import load_config
    from backend.devices.models import AnalyticModel
    from backend.recording.writer import RecordingWriter
    from resources import preset_path

    config = load_config(preset_path("dnpu-7x1-sawtooth")).model_copy(deep=True)
    config.input_data.number_batches = max(1, rows // BATCH_POINTS)
    plan = BatchPlan(config, seed=seed)
    model = AnalyticModel(config.voltage_ranges(), config.n_outputs, seed=0, scale_nA=175.0)
    with RecordingWriter.create(path, config, {"kind": "bench"}, seed=seed) as writer:
        for i in range(len(plan)):
            batch = plan.batch(i)
            writer.append(i, batch.inputs, model(batch.inputs), batch.phases, batch.t0, 0.0, 0.0)
    return path


def _same(a: Path, b: Path) -> bool:
    for name in ("postprocessed_data.npz", "charging_signal.npz", "reference_batch.npz"):
        with np.load(a / name) as x, np.load(b / name) as y:
            if not all(np.array_equal(x[k], y[k]) for k in ("inputs", "outputs")):
                return False
    return True


def _empty_job(i: int) -> int:
    return i


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recordings", type=int, default=8)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--dir", default="/dev/shm" if Path("/dev/shm").is_dir() else None, help="file location"
    )
    args = parser.parse_args()

    import dask.distributed as distributed

    from backend.fanout import JobSpec, run_jobs
    from backend.postprocess.many import PostprocessOptions, output_folders, postprocess_each

    logging.getLogger("distributed").setLevel(logging.ERROR)
    options = PostprocessOptions(figure=False)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    with tempfile.TemporaryDirectory(prefix="bench-fanout-", dir=args.dir) as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        sources = [
            make_recording(folder / f"rec{i}.h5", args.rows, seed=i) for i in range(args.recordings)
        ]
        setup = time.perf_counter() - t0
        times: dict[str, list[float]] = {"serial": [], "cluster": [], "cluster_warm": []}
        same: dict[str, bool] = {}
        start_up = []
        per_job_overhead_ms = []
        for r in range(args.repeat):
            for case in times:
                outs = output_folders(sources, folder / f"{case}-{r}")
                if case == "cluster_warm":
                    t = time.perf_counter()
                    cluster = distributed.LocalCluster(
                        n_workers=args.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                    )
                    start_up.append(time.perf_counter() - t)
                    with cluster, distributed.Client(cluster) as client:
                        # warm: the workers have imported the postprocessing code already
                        client.run(importlib.import_module, "backend.postprocess.job")
                        t = time.perf_counter()
                        got = postprocess_each(
                            sources, outs, options, scheduler=cluster.scheduler_address
                        )
                        times[case].append(time.perf_counter() - t)
                        n = 64
                        specs = [
                            JobSpec(f"empty-{r}-{i}", str(i), _empty_job, (i,)) for i in range(n)
                        ]
                        t = time.perf_counter()
                        run_jobs(specs, scheduler=cluster.scheduler_address)
                        per_job_overhead_ms.append((time.perf_counter() - t) / n * 1000)
                else:
                    t = time.perf_counter()
                    got = postprocess_each(
                        sources,
                        outs,
                        options,
                        workers=args.workers if case == "cluster" else None,
                    )
                    times[case].append(time.perf_counter() - t)
                assert all(o.ok for o in got), [o.error for o in got if not o.ok]
                if r == 0:
                    same[case] = all(_same(o, folder / "serial-0" / o.name) for o in outs)
                if r:
                    shutil.rmtree(folder / f"{case}-{r}")
    best = {case: min(v) for case, v in times.items()}
    out = {
        "benchmark": "fanout",
        "recordings": args.recordings,
        "rows_each": (args.rows // BATCH_POINTS) * BATCH_POINTS,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "setup_seconds": round(setup, 1),
        "load_average_at_start": [round(v, 2) for v in load],
        "seconds": {case: round(v, 3) for case, v in best.items()},
        "seconds_per_job": {case: round(v / args.recordings, 3) for case, v in best.items()},
        "ratios_vs_serial": {
            case: round(best["serial"] / v, 2) for case, v in best.items() if case != "serial"
        },
        "cluster_start_seconds": round(min(start_up), 3),
        "cluster_overhead_ms_per_empty_job": round(min(per_job_overhead_ms), 2),
        "same_outputs_as_serial": same,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
