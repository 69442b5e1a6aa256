"""The HDF5 recording: one file per session, written while sampling.

Layout (spec in docs/recording-format.md):
  /inputs   float64 (rows, n_inputs)  V,  chunked, resizable
  /outputs  float64 (rows, n_outputs) nA, chunked, resizable
  /batches  table: index, first_row, rows, t0, started, duration, phases[n_inputs]
  /session/status, /session/message, /session/ended  (written in place)
  root attrs: format, format_version, config_json, device_json, seed, provenance,
              run_notes_json (optional: sample ID, operator, notes)

A batch is complete once its row is in /batches; data rows past the last
complete batch belong to a batch in flight and are ignored by readers and
dropped on resume. The file is flushed after every batch and written in SWMR
mode, so a reader can follow it live and a crash loses at most one batch.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from backend import __version__
from backend.config import SamplingConfig
from backend.errors import RecordingError
from backend.h5clear import clear_consistency_flags
from backend.h5open import WRITER_ATTR, open_count, writer_stamp

FORMAT_NAME = "samplelab-recording"
FORMAT_VERSION = 1
RECORDING_SUFFIX = ".h5"
_CHUNK_BYTES = 1 << 20
_CACHE_BYTES = 4 << 20  # per dataset; chunks are one batch (~140 kB)
STATUSES = ("running", "complete", "cancelled", "failed")
#: Root attribute: the run's notes as JSON ({"sample_id": ..., "operator": ..., "notes": ...}).
NOTES_ATTR = "run_notes_json"


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


def _open_h5(path: str | os.PathLike, mode: str) -> h5py.File:
    """Open for writing; every read goes through `backend.h5open` (see `Recording`)."""
    return h5py.File(path, mode, libver="latest", rdcc_nbytes=_CACHE_BYTES)


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


class RecordingWriter:
    """Appends complete batches to a recording; create() a new one or resume() one."""

    def __init__(self, path: Path, file: h5py.File, config: SamplingConfig) -> None:
        self.path = path
        self.config = config
        self._f = file
        self._inputs = file["inputs"]
        self._outputs = file["outputs"]
        self._batches = file["batches"]
        self._status = file["session/status"]
        self._message = file["session/message"]
        self._ended = file["session/ended"]
        self.batches_done = int(self._batches.shape[0])
        self.rows = int(self._inputs.shape[0])
        self._row = np.zeros(1, dtype=self._batches.dtype)
        # Building the compound memory type costs more than writing the row: do it once.
        self._row_type = h5py.h5t.py_create(self._row.dtype)
        # Raw chunks skip HDF5's filters: only files without checksums (older ones) take them.
        self._raw = not (self._inputs.fletcher32 or self._outputs.fletcher32)
        self.closed = False

    # --- opening ------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        config: SamplingConfig,
        device: dict,
        seed: int,
        overwrite: bool = False,
        notes: dict[str, str] | None = None,
    ) -> RecordingWriter:
        """A new recording; `notes` (sample ID, operator, free text...) go into its attributes."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise RecordingError(
                f"{path} already exists", "Choose another output folder or file name."
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            f = _open_h5(path, "w")
        except OSError as exc:
            raise RecordingError(f"cannot create the recording {path}: {exc}") from None
        try:
            cls._lay_out(f, config, device, seed)
            if notes:
                f.attrs[NOTES_ATTR] = json.dumps(dict(notes))
            cls._start_writing(f)
        except BaseException:
            f.close()
            path.unlink(missing_ok=True)
            raise
        return cls(path, f, config)

    @staticmethod
    def _lay_out(f: h5py.File, config: SamplingConfig, device: dict, seed: int) -> None:
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

    @staticmethod
    def _start_writing(f: h5py.File) -> None:
        f.attrs[WRITER_ATTR] = writer_stamp()
        f.flush()
        f.swmr_mode = True

    @classmethod
    def resume(cls, path: str | os.PathLike) -> RecordingWriter:
        """Reopen an interrupted recording and drop any batch that did not complete."""
        path = Path(path)
        with Recording(path) as rec:
            config, status = rec.config, rec.status
            if rec.batches_done >= rec.batches_planned:
                raise RecordingError(
                    f"{path} is already complete ({rec.batches_done} batches)",
                    "Nothing to resume; start a new recording instead.",
                )
            if rec.writer_alive():
                raise RecordingError(
                    f"{path} is still being written by another process",
                    "Stop that session first, or wait until it ends.",
                )
        del status
        end = time.monotonic() + 5  # a reader finishing a job (a folder scan) lets go soon
        while open_count(path) and time.monotonic() < end:
            time.sleep(0.05)
        if open_count(path):  # readers here would see the file change under them
            raise RecordingError(
                f"{path} is open for reading in this program",
                "Close it in the other views (or windows) first, then resume.",
            )
        try:
            clear_consistency_flags(path)
        except (ValueError, OSError) as exc:
            raise RecordingError(f"cannot reopen {path} for writing: {exc}") from None
        try:
            f = _open_h5(path, "r+")
        except OSError as exc:
            raise RecordingError(f"cannot reopen {path} for writing: {exc}") from None
        try:
            done = f["batches"].shape[0]
            rows = (
                int(f["batches"][done - 1]["first_row"] + f["batches"][done - 1]["rows"])
                if done
                else 0
            )
            f["inputs"].resize(rows, axis=0)
            f["outputs"].resize(rows, axis=0)
            f["session/status"][()] = np.bytes_("running")
            f["session/message"][()] = np.bytes_("")
            f["session/ended"][()] = np.nan
            cls._start_writing(f)
        except BaseException:
            f.close()
            raise
        return cls(path, f, config)

    # --- writing ------------------------------------------------------------
    def append(
        self,
        index: int,
        inputs: np.ndarray,
        outputs: np.ndarray,
        phases: np.ndarray,
        t0: float,
        started: float,
        duration: float,
    ) -> None:
        """Write one complete batch and flush, data first, then its table row."""
        n = len(inputs)
        if len(outputs) != n:
            raise RecordingError(f"batch {index}: {n} input rows but {len(outputs)} output rows")
        start, stop = self.rows, self.rows + n
        _append_rows(self._inputs, start, inputs, raw=self._raw)
        _append_rows(self._outputs, start, outputs, raw=self._raw)
        row = self._row
        row["index"], row["first_row"], row["rows"] = index, start, n
        row["t0"], row["started"], row["duration"] = t0, started, duration
        row["phases"][0] = phases
        _append_rows(self._batches, self.batches_done, row, self._row_type)
        self._f.flush()
        self.rows = stop
        self.batches_done += 1

    def close(self, status: str = "complete", message: str = "") -> None:
        """Record how the session ended and close the file; safe to call twice."""
        if self.closed:
            return
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        try:
            self._status[()] = np.bytes_(status)
            self._message[()] = np.bytes_(message.encode("utf-8")[:4096])
            self._ended[()] = time.time()
            self._f.flush()
        finally:
            self._f.close()
            self.closed = True

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close("complete" if exc_type is None else "failed", str(exc or ""))


def _append_rows(
    ds: h5py.Dataset,
    start: int,
    rows: np.ndarray,
    memory_type: h5py.h5t.TypeID | None = None,
    raw: bool = False,
) -> None:
    """Grow `ds` and write `rows` at `start` through h5py's low-level API.

    The high-level `resize` + slice assignment costs ~0.2 ms of Python per call;
    this path is a handful of C calls, which matters once per batch per dataset.
    With `raw` (a dataset without filters), rows that fill whole chunks (a batch
    is one chunk, see `chunk_rows`) are written as raw chunks, skipping HDF5's
    selection and conversion machinery; checksummed datasets go through HDF5,
    which computes each chunk's Fletcher-32 in C.
    """
    rows = np.ascontiguousarray(rows, dtype=ds.dtype)
    shape = rows.shape
    ds.id.set_extent((start + shape[0], *shape[1:]))
    chunk = ds.chunks[0]
    if raw and memory_type is None and start % chunk == 0 and shape[0] % chunk == 0:
        for first in range(0, shape[0], chunk):
            offset = (start + first,) + (0,) * (len(shape) - 1)
            ds.id.write_direct_chunk(offset, rows[first : first + chunk].tobytes())
        return
    file_space = ds.id.get_space()
    file_space.select_hyperslab((start,) + (0,) * (len(shape) - 1), shape)
    ds.id.write(h5py.h5s.create_simple(shape), file_space, rows, mtype=memory_type)


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# The reader lives in its own module; importable from here as it always was.
from backend.recording_read import Recording, is_recording  # noqa: E402, F401
