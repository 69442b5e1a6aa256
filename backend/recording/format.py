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
from backend.config import SamplingConfig, parse_config
from backend.errors import ConfigError, RecordingError
from backend.recording.h5clear import clear_consistency_flags
from backend.recording.runnotes import notes_from_json

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
    kwargs: dict[str, Any] = {"rdcc_nbytes": _CACHE_BYTES}
    if mode == "r":
        try:
            return h5py.File(path, "r", swmr=True, **kwargs)
        except OSError:
            return h5py.File(path, "r", **kwargs)
    return h5py.File(path, mode, libver="latest", **kwargs)


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
            )
            ds.attrs["units"] = units
            ds.attrs["channel_names"] = json.dumps(names)
            ds.attrs["daq_channels"] = json.dumps(list(daq))
        f.create_dataset(
            "batches", shape=(0,), maxshape=(None,), chunks=(256,), dtype=batch_dtype(n_in)
        )
        session = f.create_group("session")
        session.create_dataset("status", data=np.bytes_("running"), dtype="S16")
        session.create_dataset("message", data=np.bytes_(""), dtype="S4096")
        session.create_dataset("ended", data=np.nan, dtype="<f8")

    @staticmethod
    def _start_writing(f: h5py.File) -> None:
        f.attrs["writer_json"] = json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        )
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
        _append_rows(self._inputs, start, inputs)
        _append_rows(self._outputs, start, outputs)
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
    ds: h5py.Dataset, start: int, rows: np.ndarray, memory_type: h5py.h5t.TypeID | None = None
) -> None:
    """Grow `ds` and write `rows` at `start` through h5py's low-level API.

    The high-level `resize` + slice assignment costs ~0.2 ms of Python per call;
    this path is a handful of C calls, which matters once per batch per dataset.
    Rows that fill whole chunks (a batch is one chunk, see `chunk_rows`) are
    written as raw chunks, skipping HDF5's selection and conversion machinery.
    """
    rows = np.ascontiguousarray(rows, dtype=ds.dtype)
    shape = rows.shape
    ds.id.set_extent((start + shape[0], *shape[1:]))
    chunk = ds.chunks[0]
    if memory_type is None and start % chunk == 0 and shape[0] % chunk == 0:
        for first in range(0, shape[0], chunk):
            offset = (start + first,) + (0,) * (len(shape) - 1)
            ds.id.write_direct_chunk(offset, rows[first : first + chunk].tobytes())
        return
    file_space = ds.id.get_space()
    file_space.select_hyperslab((start,) + (0,) * (len(shape) - 1), shape)
    ds.id.write(h5py.h5s.create_simple(shape), file_space, rows, mtype=memory_type)


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def is_recording(path: str | os.PathLike) -> bool:
    """True for an HDF5 file that carries our format marker."""
    try:
        with _open_h5(path, "r") as f:
            return _decode(f.attrs.get("format", "")) == FORMAT_NAME
    except Exception:  # any damaged or foreign file simply is not a recording
        return False


class Recording:
    """Read access to a recording, complete or still being written.

    Only complete batches are visible; call `refresh()` to see batches a live
    writer has added since.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise RecordingError(f"recording not found: {self.path}")
        try:
            self._f = _open_h5(self.path, "r")
        except (OSError, RuntimeError, ValueError) as exc:
            raise RecordingError(
                f"{self.path} is not a readable HDF5 file ({exc})",
                "Choose a samplelab recording (.h5).",
            ) from None
        attrs = self._f.attrs
        if _decode(attrs.get("format", "")) != FORMAT_NAME:
            self._f.close()
            raise RecordingError(
                f"{self.path} is an HDF5 file but not a samplelab recording",
                "Open it with the data browser instead, or choose a recording.",
            )
        version = int(attrs.get("format_version", 0))
        if version > FORMAT_VERSION:
            self._f.close()
            raise RecordingError(
                f"{self.path} uses recording format {version}, newer "
                f"than this samplelab understands ({FORMAT_VERSION})",
                "Update samplelab to read it.",
            )
        try:
            self.config = parse_config(json.loads(_decode(attrs["config_json"])), str(self.path))
        except (KeyError, json.JSONDecodeError, ConfigError) as exc:
            self._f.close()
            raise RecordingError(f"{self.path}: the stored config is unreadable ({exc})") from None
        self.device = json.loads(_decode(attrs.get("device_json", "{}")))
        self.provenance = json.loads(_decode(attrs.get("provenance_json", "{}")))
        self.notes = notes_from_json(_decode(attrs.get(NOTES_ATTR, "{}")))
        self.seed = int(attrs.get("seed", 0))
        self.batches_planned = int(attrs.get("batches_planned", self.config.number_batches))
        self.batch_points = int(attrs.get("batch_points", self.config.batch_points))
        self.fs = float(attrs.get("sampling_frequency", self.config.fs))
        self.inputs = self._f["inputs"]
        self.outputs = self._f["outputs"]
        self._batches = self._f["batches"]
        self.input_names = json.loads(_decode(self.inputs.attrs["channel_names"]))
        self.output_names = json.loads(_decode(self.outputs.attrs["channel_names"]))
        self.input_units = _decode(self.inputs.attrs.get("units", "V"))
        self.output_units = _decode(self.outputs.attrs.get("units", "nA"))
        self._count()

    def _count(self) -> None:
        self.batches_done = int(self._batches.shape[0])
        if self.batches_done:
            last = self._batches[self.batches_done - 1]
            self.n_rows = int(last["first_row"] + last["rows"])
        else:
            self.n_rows = 0

    def refresh(self) -> int:
        """Pick up batches a live writer appended; returns the new row count."""
        for ds in (self._batches, self.inputs, self.outputs, self._f["session/status"]):
            if self._f.swmr_mode:
                ds.refresh()
        self._count()
        return self.n_rows

    # --- metadata -------------------------------------------------------------
    @property
    def status(self) -> str:
        """How the session ended; 'interrupted' if its writer died mid-run."""
        status = _decode(self._f["session/status"][()])
        if status == "running" and not self.writer_alive():
            return "interrupted"
        return status

    @property
    def message(self) -> str:
        return _decode(self._f["session/message"][()])

    def writer_alive(self) -> bool:
        """Whether the process that writes this file is still running here."""
        if _decode(self._f["session/status"][()]) != "running":
            return False
        writer = json.loads(_decode(self._f.attrs.get("writer_json", "{}")))
        if writer.get("host") != socket.gethostname():
            return True  # cannot tell for another machine; assume it is live
        pid = int(writer.get("pid", -1))
        if pid == os.getpid():
            return True
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil is a dependency
            return True
        return psutil.pid_exists(pid)

    @property
    def batches(self) -> np.ndarray:
        """The batch table of complete batches (a structured array)."""
        return self._batches[: self.batches_done]

    @property
    def channel_names(self) -> list[str]:
        return self.input_names + self.output_names

    @property
    def units(self) -> list[str]:
        return [self.input_units] * len(self.input_names) + [self.output_units] * len(
            self.output_names
        )

    def duration_s(self) -> float:
        return self.n_rows / self.fs

    # --- data -----------------------------------------------------------------
    def read(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, outputs) rows [start, stop) of complete batches."""
        stop = self.n_rows if stop is None else min(stop, self.n_rows)
        start = max(0, min(start, stop))
        return self.inputs[start:stop], self.outputs[start:stop]

    def iter_chunks(self, rows: int = 1 << 18):
        """Yield (first_row, inputs, outputs) in blocks of `rows`; bounded memory."""
        for start in range(0, self.n_rows, rows):
            yield (start, *self.read(start, start + rows))

    def batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, outputs) of one complete batch by its position in the table."""
        entry = self._batches[index]
        first, rows = int(entry["first_row"]), int(entry["rows"])
        return self.read(first, first + rows)

    def channel_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel (min, max) over inputs then outputs, read in chunks."""
        n = len(self.channel_names)
        lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
        for _, x, y in self.iter_chunks():
            both = np.hstack([x, y])
            lo = np.minimum(lo, both.min(axis=0))
            hi = np.maximum(hi, both.max(axis=0))
        if not self.n_rows:
            lo[:] = hi[:] = np.nan
        return lo, hi

    def summary(self) -> dict:
        """Plain-JSON facts for `samplelab info` and the browser's metadata tree."""
        lo, hi = self.channel_ranges()
        return {
            "path": str(self.path),
            "format": f"{FORMAT_NAME} v{int(self._f.attrs.get('format_version', 0))}",
            "status": self.status,
            "message": self.message,
            "device": self.device,
            "seed": self.seed,
            "batches_done": self.batches_done,
            "batches_planned": self.batches_planned,
            "batch_points": self.batch_points,
            "rows": self.n_rows,
            "sampling_frequency_hz": self.fs,
            "duration_s": self.duration_s(),
            "channels": [
                {"name": name, "units": unit, "min": _finite(a), "max": _finite(b)}
                for name, unit, a, b in zip(self.channel_names, self.units, lo, hi)
            ],
            "provenance": self.provenance,
            "notes": self.notes,
            "config": self.config.to_bspysmg(),
        }

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
