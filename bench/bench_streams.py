"""Does a device-stream consumer slow the sampler? Session rows/s with and without one.

The same plan (the standard 7-in/1-out sawtooth preset, analytic simulated
device, fast mode) runs as a plain session (the baseline) and as a session
with a DeviceStream: unread (only the listener's copy on the sampling
thread), with a consumer thread reading it in chunks, or with a consumer
filtering it (a 4th-order IIR through a ProcessingStream). Runs are
interleaved and repeated; medians are compared. Consumers check they received
every row. On a 2-core machine a busy consumer competes with the sampler for
CPU and the GIL (the filter is real work: an IIR over every row); the sampler
never waits for it. Runs of 1000 batches: shorter ones are too noisy here.

Prints one JSON object. Target: rows/s with a consumer >= 90% of without.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from scipy import signal

from backend.config import load_config
from backend.sampling.session import start_session
from backend.streams import DeviceStream, LFilter, ProcessingStream
from resources import preset_path


def run(config, folder: Path, consumer: str | None, chunk: int) -> tuple[float, int]:
    """(rows per second of the session, rows the consumer received)."""
    for leftover in folder.iterdir():
        leftover.unlink()
    session = start_session(config, "simulated", path=folder / "r.h5", seed=1, model="analytic")
    received = [0]
    thread = None
    if consumer is not None:
        stream = DeviceStream(session)
        if consumer == "unread":  # only the listener's cost on the sampling thread
            consumer = None
        elif consumer == "filter":
            b, a = signal.butter(4, 0.01)
            stream = ProcessingStream(stream, LFilter(b, a, stream.channels))

        def consume() -> None:
            for block in stream.chunks(chunk):
                received[0] += len(block)

        if consumer is not None:
            thread = threading.Thread(target=consume)
            thread.start()
    start = time.perf_counter()
    result = session.run()
    elapsed = time.perf_counter() - start
    if thread is not None:
        thread.join(timeout=120)
    assert result.status == "complete", result
    return result.rows / elapsed, received[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--chunk", type=int, default=4096)
    args = parser.parse_args()
    config = load_config(preset_path("dnpu-7x1-sawtooth")).model_copy(deep=True)
    config.input_data.number_batches = args.batches
    kinds = {
        "without_consumer": None,
        "with_stream_unread": "unread",
        "with_consumer": "collect",
        "with_filter": "filter",
    }
    rates: dict[str, list[float]] = {name: [] for name in kinds}
    complete = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run(config, folder, "collect", args.chunk)  # warm-up, untimed
        for _ in range(args.repeat):
            for name, consumer in kinds.items():
                rate, received = run(config, folder, consumer, args.chunk)
                rates[name].append(rate)
                if consumer in ("collect", "filter"):
                    complete = complete and received == config.total_rows
    median = {name: float(np.median(v)) for name, v in rates.items()}
    result = {
        "benchmark": "device_stream_consumer",
        "rows": config.total_rows,
        "batches": args.batches,
        "batch_points": config.batch_points,
        "channels": config.n_inputs + config.n_outputs,
        "chunk": args.chunk,
        "repeats": args.repeat,
        "rows_per_s_median": {k: round(v) for k, v in median.items()},
        "rows_per_s_best": {k: round(max(v)) for k, v in rates.items()},
        "ratio_with_stream_unread": round(
            median["with_stream_unread"] / median["without_consumer"], 3
        ),
        "ratio_with_consumer": round(median["with_consumer"] / median["without_consumer"], 3),
        "ratio_with_filter": round(median["with_filter"] / median["without_consumer"], 3),
        "consumers_received_every_row": complete,
        "machine": {"cpus": os.cpu_count(), "load_average_1_5_15min": os.getloadavg()},
        "target_ratio_at_least": 0.9,
    }
    result["meets_target"] = result["ratio_with_consumer"] >= 0.9 and complete
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
