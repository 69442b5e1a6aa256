"""What a new recording holds: its datasets, batch table, attributes and file name.

The layout is specified in docs/recording-format.md; `lay_out` writes it into a
fresh file, and `RecordingWriter` (backend.recording.writer) then appends to it.
`provenance` is the "who wrote this" stamp every file samplelab writes carries.
"""

from __future__ import annotations

import json
import os
import platform
import socket
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np

from backend import __version__
from backend.config import SamplingConfig
from backend.recording.reader import FORMAT_NAME, FORMAT_VERSION

RECORDING_SUFFIX = ".h5"
_CHUNK_BYTES = 1 << 20


def batch_dtype(n_inputs: int) -> np.dtype:
    return np.dtype(
        [
            ("index", "<i8"),
            ("first_row", "<i8"),
            ("rows", "<i8"),
            ("t0", "<f8"),
            ("started", "<f8"),
            ("duration", "<f8"),
            ("phases", "<f8", (n_inputs,)),
        ]
    )


def chunk_rows(n_channels: int, batch_points: int) -> int:
    """Rows per chunk, aligned to whole batches.

    Each batch then fills whole chunks, so an append never rewrites a chunk and
    the flush after it writes only the new data. Small batches are grouped up
    to ~16 KiB per chunk; big ones are split into about 1 MiB pieces.
    """
    batch_bytes = 8 * n_channels * batch_points
    if batch_bytes <= _CHUNK_BYTES:
        return batch_points * max(1, (_CHUNK_BYTES // 64) // batch_bytes)
    pieces = -(-batch_bytes // _CHUNK_BYTES)
    return -(-batch_points // pieces)


def default_recording_path(out_dir: str | os.PathLike, data_name: str) -> Path:
    """`<out>/<data_name>_<YYYY_MM_DD_HHMMSS>.h5`, never an existing file."""
    stamp = datetime.now().strftime("%Y_%m_%d_%H%M%S")
    base = Path(out_dir) / f"{data_name}_{stamp}"
    path, n = base.with_suffix(RECORDING_SUFFIX), 1
    while path.exists():
        path = Path(f"{base}_{n}{RECORDING_SUFFIX}")
        n += 1
    return path


def provenance() -> dict[str, str]:
    """Who wrote a file: app, versions, host, time; stored with every file we write."""
    return {
        "app": "samplelab",
        "app_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "h5py": h5py.version.version,
        "hdf5": h5py.version.hdf5_version,
    }


def lay_out(f: h5py.File, config: SamplingConfig, device: dict, seed: int) -> None:
    """Write a new recording's attributes and its empty, growable datasets into `f`."""
    n_in, n_out, bp = config.n_inputs, config.n_outputs, config.batch_points
    layout = config.layout()
    f.attrs.update(
        {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "config_json": json.dumps(config.to_bspysmg()),
            "device_json": json.dumps(device),
            "seed": int(seed),
            "sampling_frequency": config.fs,
            "batch_points": bp,
            "ramp_points": config.ramp_points,
            "batches_planned": config.number_batches,
            "provenance_json": json.dumps(provenance()),
        }
    )
    for name, n, units, names, daq in (
        ("inputs", n_in, "V", config.input_names(), layout.activation_channels),
        ("outputs", n_out, "nA", config.output_names(), layout.readout_channels),
    ):
        ds = f.create_dataset(
            name,
            shape=(0, n),
            maxshape=(None, n),
            chunks=(chunk_rows(n, bp), n),
            dtype="<f8",
            fletcher32=True,  # a flipped byte fails the read instead of passing as data
        )
        ds.attrs["units"] = units
        ds.attrs["channel_names"] = json.dumps(names)
        ds.attrs["daq_channels"] = json.dumps(list(daq))
    f.create_dataset(
        "batches",
        shape=(0,),
        maxshape=(None,),
        chunks=(256,),
        dtype=batch_dtype(n_in),
        fletcher32=True,
    )
    session = f.create_group("session")
    session.create_dataset("status", data=np.bytes_("running"), dtype="S16")
    session.create_dataset("message", data=np.bytes_(""), dtype="S4096")
    session.create_dataset("ended", data=np.nan, dtype="<f8")
