"""Sampling throughput: our session against the peer's write-a-text-file-per-batch loop.

Both sides sample the same plan (the standard preset: 7 inputs, 1 output,
2500-row batches with 2500-point ramps) on the same cheap analytic device model,
in the same process and run, so machine noise hits both alike.

- ours: `SamplingSession` in fast mode: plan, safety check, device, HDF5 append
  and flush after every batch.
- baseline: what brainspy-smg's Sampler does per batch minus its plot (which
  alone costs the peer ~0.25 s per batch): its wave generation, per-channel
  ramps, the device, then `numpy.savetxt` appended to IO.dat.
- overhead: our session on a device that returns instantly, i.e. everything the
  sampler itself costs per 2500-row batch.

Prints one JSON object. Targets: ratio >= 20, overhead < 2 ms per batch.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from backend.config import load_config
from backend.devices.base import Device
from backend.devices.models import AnalyticModel
from backend.sampling.session import start_session
from resources import preset_path


class InstantDevice(Device):
    """Returns zeros at once: isolates the sampler's own cost."""

    kind = "instant"

    def describe(self) -> dict:
        return {"kind": self.kind}

    def _set_zero(self) -> None:
        pass

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def _sample(self, batch):
        return np.zeros((batch.batch_points, self.n_outputs))


def run_ours(config, folder: Path, seed: int = 1) -> float:
    session = start_session(
        config, "simulated", path=folder / "ours.h5", seed=seed, model="analytic"
    )
    start = time.perf_counter()
    result = session.run()
    assert result.status == "complete", result
    return time.perf_counter() - start


def run_overhead(config, folder: Path) -> float:
    session = start_session(config, InstantDevice(config), path=folder / "instant.h5", seed=1)
    start = time.perf_counter()
    assert session.run().status == "complete"
    return time.perf_counter() - start


def run_baseline(config, folder: Path) -> float:
    """The peer's Sampler.sample loop, minus its per-batch plot and print.

    Index lists from a grouper, fancy indexing into one time axis, scipy's
    sawtooth, a per-channel ramp loop, the device on the ramped batch with a
    boolean filter for the batch part, and `numpy.savetxt` appended per batch.
    The device is the same analytic model our session uses.
    """
    from itertools import zip_longest

    from scipy import signal

    model = AnalyticModel(config.voltage_ranges(), config.n_outputs, seed=0)
    fs, bp, ramp = config.fs, config.batch_points, config.ramp_points
    total = config.total_rows
    freq = config.frequencies()[:, None]
    phase = np.asarray(config.input_data.phase)[:, None]
    amp, off = config.amplitude()[:, None], config.offset()[:, None]
    keep = np.zeros(bp + 2 * ramp, dtype=bool)
    keep[ramp : ramp + bp] = True
    path = folder / "IO.dat"
    header = ", ".join(config.input_names() + config.output_names())
    start = time.perf_counter()
    with open(path, "wb") as f:
        np.savetxt(f, [], header=header)
    all_time_points = np.arange(total) / fs
    groups = zip_longest(*[iter(np.arange(total))] * bp)
    for indices in groups:
        indices = [i for i in indices if i is not None]
        t = all_time_points[indices]
        rads = 2 * np.pi * freq * t + phase
        x = amp * signal.sawtooth(rads + np.pi / 2, width=0.5) + np.outer(off, np.ones(len(t)))
        ramped = np.zeros((x.shape[0], bp + 2 * ramp))
        for j in range(x.shape[0]):
            ramped[j, :ramp] = np.linspace(0, x[j, 0], ramp)
            ramped[j, ramp : ramp + bp] = x[j]
            ramped[j, ramp + bp :] = np.linspace(x[j, -1], 0, ramp)
        outputs = np.zeros((bp + 2 * ramp, config.n_outputs))
        outputs[keep] = model(ramped.T[keep])
        with open(path, "+a") as f:
            np.savetxt(f, np.column_stack((x.T, outputs[keep])))
            f.flush()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs; best is reported")
    args = parser.parse_args()
    config = load_config(preset_path("dnpu-7x1-sawtooth")).model_copy(deep=True)
    config.input_data.number_batches = args.batches
    rows = config.total_rows
    times: dict[str, list[float]] = {"ours": [], "baseline": [], "overhead": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_ours(config, folder, seed=99)  # warm caches and imports once, untimed
        for _ in range(args.repeat):
            for name, run in (
                ("ours", run_ours),
                ("baseline", run_baseline),
                ("overhead", run_overhead),
            ):
                for leftover in folder.iterdir():
                    leftover.unlink()
                times[name].append(run(config, folder))
    best = {name: min(values) for name, values in times.items()}
    median = {name: float(np.median(values)) for name, values in times.items()}
    result = {
        "benchmark": "sampling_throughput",
        "rows": rows,
        "batches": args.batches,
        "batch_points": config.batch_points,
        "channels": f"{config.n_inputs} inputs + {config.n_outputs} output",
        "device_model": "analytic",
        "repeats": args.repeat,
        "ours_seconds_best": round(best["ours"], 3),
        "ours_rows_per_s": round(rows / best["ours"]),
        "baseline_seconds_best": round(best["baseline"], 3),
        "baseline_rows_per_s": round(rows / best["baseline"]),
        "ratio_ours_over_baseline": round(best["baseline"] / best["ours"], 1),
        "ratio_of_medians": round(median["baseline"] / median["ours"], 1),
        "sampler_overhead_ms_per_batch": round(best["overhead"] / args.batches * 1000, 3),
        "sampler_overhead_ms_per_batch_median": round(median["overhead"] / args.batches * 1000, 3),
        "targets": {"ratio_at_least": 20, "overhead_ms_per_batch_below": 2.0},
    }
    result["meets_targets"] = (
        result["ratio_ours_over_baseline"] >= 20 and result["sampler_overhead_ms_per_batch"] < 2.0
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
