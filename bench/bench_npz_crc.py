"""The cost of checking a stored npz member's CRC-32 before a whole read, against the read.

`dataset`, `export`, `train` and `evaluate` open npz files with
`open_reader(..., verified=True)`: one streaming `zlib.crc32` pass over each
stored member (backend/data/formats/npzfile.py) before it is memory-mapped.
This writes an npz whose `inputs` member is `--mb` MB of float64 (7 columns,
plus a 1-column `outputs`), then times, warm (file in the page cache, after one
untimed pass), best of `--repeat`:

- crc: the check alone (`check_member_crc` on `inputs` and `outputs`);
- read: every row of the file read through the reader as training's data load
  does (`read_column_groups` in 2^17-row blocks, copied out of the map);
- open_verified / open_lazy: `open_reader` with and without `verified=True`;
- dataset / train_load (once each, the check included): `export_dataset` of
  the file (what `samplelab dataset` runs) and `load_training_data` (`train`
  and `evaluate`).

A bare copy out of a warm memory map runs at memory speed and is faster than
crc32; what the commands do with every row is not. Prints one JSON object.
Target: crc a small fraction (< 10%) of the dataset export and the training load.

    python bench/bench_npz_crc.py [--mb 1024] [--repeat 3] [--dir FOLDER]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.config import bspysmg_config_dict, load_config  # noqa: E402
from backend.data.formats.npz_write import config_to_json  # noqa: E402
from backend.data.formats.npzfile import _stored_start, check_member_crc  # noqa: E402
from backend.data.kinds import open_reader  # noqa: E402
from backend.datasets.export import export_dataset  # noqa: E402
from backend.models.data import load_training_data  # noqa: E402
from resources import preset_paths  # noqa: E402

N_IN = 7
BLOCK = 1 << 17


def write_npz(path: Path, mb: int) -> int:
    """An npz with a stored `inputs` member of about `mb` MB; returns its rows."""
    rows = mb * (1 << 20) // (8 * N_IN)
    inputs = np.lib.format.open_memmap(path.with_suffix(".in.npy"), "w+", np.float64, (rows, N_IN))
    for start in range(0, rows, 1 << 20):
        stop = min(rows, start + (1 << 20))
        inputs[start:stop] = np.random.default_rng(start).uniform(-1, 1, (stop - start, N_IN))
    config = config_to_json(bspysmg_config_dict(load_config(preset_paths()["quick-demo"])))
    outputs = np.asarray(inputs[:, :1]) * 2.0
    np.savez(path, inputs=inputs, outputs=outputs, sampling_configs_json=np.array(config))
    del inputs
    path.with_suffix(".in.npy").unlink()
    return rows


def best(fn, repeat: int) -> float:
    fn()  # warm: the file in the page cache
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def read_all(path: Path) -> None:
    with open_reader(path) as reader:
        for start in range(0, reader.n_rows, BLOCK):
            reader.read_column_groups(start, start + BLOCK, [N_IN, 1])


def once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=1024, help="size of the inputs member in MB")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", help="where to write the file (default: a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "big.npz"
        rows = write_npz(path, args.mb)
        with zipfile.ZipFile(path) as zf:
            members = [(zf.getinfo(f"{k}.npy"), 0) for k in ("inputs", "outputs")]
        members = [(info, _stored_start(path, info)) for info, _ in members]
        info = members[0][0]

        def check() -> None:
            for member, start in members:
                check_member_crc(path, member, start)

        crc = best(check, args.repeat)
        read = best(lambda: read_all(path), args.repeat)
        lazy = best(lambda: open_reader(path).close(), args.repeat)
        verified = best(lambda: open_reader(path, verified=True).close(), args.repeat)
        dataset = once(lambda: export_dataset([path], Path(tmp) / "ds"))
        train_load = once(lambda: load_training_data([path]))
    result = {
        "rows": rows,
        "member_mb": round(info.file_size / 2**20, 1),
        "crc_s": round(crc, 3),
        "crc_gb_per_s": round(sum(m.file_size for m, _ in members) / 2**30 / crc, 2),
        "read_all_rows_s": round(read, 3),
        "crc_ratio_to_read": round(crc / read, 3),
        "open_lazy_s": round(lazy, 4),
        "open_verified_s": round(verified, 3),
        "dataset_s": round(dataset, 2),
        "crc_ratio_to_dataset": round(crc / dataset, 3),
        "train_load_s": round(train_load, 2),
        "crc_ratio_to_train_load": round(crc / train_load, 3),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
