"""Reading a recording (format in `backend.recording.writer`), complete, live, killed or damaged.

Every recording is opened through `backend.recording.h5open`: one shared open file per
process, the superblock's end of file checked against the real size, a file
whose writer died read as it was left (its flags untouched), a live one in
SWMR mode. What the file claims is checked before it is believed: the layout
(/inputs, /outputs, /batches, /session), its JSON attributes, and that the
batch table does not promise more rows than the data holds. Reads that fail a
chunk's checksum say so. Each problem is one `RecordingError`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from backend.channels import channel_ranges
from backend.config import parse_config
from backend.errors import ConfigError, FileFormatError, RecordingError
from backend.jobs import CancelToken, ProgressFn
from backend.recording.h5open import WRITER_ATTR, read_live, reading, settled, writer_alive
from backend.recording.h5shared import SharedFile, acquire
from backend.recording.runnotes import notes_from_json

_LAYOUT = ("inputs", "outputs", "batches", "session/status", "session/message")
_FIELDS = ("first_row", "rows")

FORMAT_NAME = "samplelab-recording"
FORMAT_VERSION = 1
NOTES_ATTR = "run_notes_json"


def is_recording(path: str | os.PathLike) -> bool:
    """True for an HDF5 file that carries our format marker (never blocks on a damaged one)."""
    try:
        share = acquire(path)
    except FileFormatError:
        return False
    try:
        return _decode(share.file.attrs.get("format", "")) == FORMAT_NAME
    except Exception:  # any damaged or foreign file simply is not a recording
        return False
    finally:
        share.release()


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
            self._share = settled(self.path, self._open)
        except FileFormatError as exc:
            hint = exc.hint or "Choose a samplelab recording (.h5)."
            raise RecordingError(exc.message, hint) from None

    def _open(self) -> SharedFile:
        share = acquire(self.path)
        try:
            with reading(self.path, "file's header"):
                self._load(share)
        except BaseException:
            share.release()
            raise
        return share

    def _load(self, share: SharedFile) -> None:
        self._share = share
        self._f = self._share.file
        attrs = self._f.attrs
        if _decode(attrs.get("format", "")) != FORMAT_NAME:
            raise RecordingError(
                f"{self.path} is an HDF5 file but not a samplelab recording",
                "Open it with the data browser instead, or choose a recording.",
            )
        version = _int(attrs.get("format_version", 0), self.path, "format_version")
        if version > FORMAT_VERSION:
            raise RecordingError(
                f"{self.path} uses recording format {version}, newer "
                f"than this samplelab understands ({FORMAT_VERSION})",
                "Update samplelab to read it.",
            )
        missing = [name for name in _LAYOUT if name not in self._f]
        if missing:
            raise RecordingError(
                f"{self.path} is damaged: it has no {', '.join('/' + m for m in missing)}",
                "It cannot be read as a recording; its datasets can still be opened one by "
                "one with --key.",
            )
        try:
            self.config = parse_config(json.loads(_decode(attrs["config_json"])), str(self.path))
        except (KeyError, json.JSONDecodeError, ConfigError, TypeError) as exc:
            raise RecordingError(f"{self.path}: the stored config is unreadable ({exc})") from None
        self.device = self._json("device_json")
        self.provenance = self._json("provenance_json")
        self.notes = notes_from_json(_decode(attrs.get(NOTES_ATTR, "{}")))
        self.seed = _int(attrs.get("seed", 0), self.path, "seed")
        planned = attrs.get("batches_planned", self.config.number_batches)
        self.batches_planned = _int(planned, self.path, "batches_planned")
        bp = attrs.get("batch_points", self.config.batch_points)
        self.batch_points = _int(bp, self.path, "batch_points")
        self.fs = float(attrs.get("sampling_frequency", self.config.fs))
        self.inputs = self._share.dataset("inputs")
        self.outputs = self._share.dataset("outputs")
        self._batches = self._share.dataset("batches")
        self._status_ds = self._share.dataset("session/status")
        self._message_ds = self._share.dataset("session/message")
        if self._batches.dtype.names is None or not set(_FIELDS) <= set(self._batches.dtype.names):
            raise RecordingError(f"{self.path} is damaged: /batches is not a batch table")
        self.input_names = self._names(self.inputs)
        self.output_names = self._names(self.outputs)
        self.input_units = _decode(self.inputs.attrs.get("units", "V"))
        self.output_units = _decode(self.outputs.attrs.get("units", "nA"))
        self.batches_done_seen = 0
        with share.lock:
            self._count()

    def _json(self, name: str) -> dict:
        """A JSON attribute that must hold an object; a clear error when it does not."""
        text = _decode(self._f.attrs.get(name, "{}"))
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise RecordingError(
                f"{self.path}: the attribute {name} is not valid JSON ({exc})",
                "The file was altered or damaged; its data may still be exported with --key.",
            ) from None
        if not isinstance(value, dict):
            raise RecordingError(
                f"{self.path}: the attribute {name} holds {type(value).__name__}, not an object"
            )
        return value

    def _names(self, ds: h5py.Dataset) -> list[str]:
        n = ds.shape[1] if ds.ndim == 2 else 0
        try:
            names = json.loads(_decode(ds.attrs["channel_names"]))
        except (KeyError, json.JSONDecodeError, RecursionError):
            names = None
        if not isinstance(names, list) or len(names) != n or ds.ndim != 2:
            raise RecordingError(
                f"{self.path}: {ds.name} has shape {ds.shape} and channel names {names!r}; "
                "they do not match",
                "The file was altered or damaged.",
            )
        return [str(name) for name in names]

    def _count(self) -> None:
        done = int(self._batches.shape[0])
        held = min(int(self.inputs.shape[0]), int(self.outputs.shape[0]))
        rows = self._end(done)
        # A live file's datasets become visible one by one: a new batch-table row can
        # show before its data's extent does. Such batches are counted next time.
        while self.live and done and rows > held and done > self.batches_done_seen:
            done -= 1
            rows = self._end(done)
        if rows < 0 or rows > held:
            raise RecordingError(
                f"{self.path} is damaged: its batch table claims {rows:,} rows but the file "
                f"holds {held:,}",
                "Export the rows it holds with --key inputs / --key outputs.",
            )
        self.batches_done, self.n_rows = done, rows
        self.batches_done_seen = done

    def _end(self, done: int) -> int:
        """The row after the first `done` batches, as the table says."""
        if not done:
            return 0
        last = self._batches[done - 1]
        first, rows = int(last["first_row"]), int(last["rows"])
        return first + rows if rows >= 0 and first >= 0 else -1

    def refresh(self) -> int:
        """Pick up batches a live writer appended; returns the new row count."""

        def again() -> None:
            with self._share.lock:
                if self._f.swmr_mode:
                    for ds in (self._batches, self.inputs, self.outputs, self._status_ds):
                        ds.refresh()
                self._count()

        try:
            read_live(self.path, "batch table", self.live, again)
        except FileFormatError as exc:
            raise RecordingError(exc.message, exc.hint) from None
        return self.n_rows

    # --- metadata -------------------------------------------------------------
    @property
    def status(self) -> str:
        """How the session ended; 'interrupted' if its writer died mid-run."""
        status = _decode(self._status_ds[()])
        if status == "running" and not self.writer_alive():
            return "interrupted"
        return status

    @property
    def message(self) -> str:
        return _decode(self._message_ds[()])

    @property
    def live(self) -> bool:
        """Whether this handle follows a live writer (opened in SWMR mode)."""
        return bool(self._f.swmr_mode)

    def writer_alive(self) -> bool:
        """Whether the process that writes this file is still running (`h5open.writer_alive`)."""
        if _decode(self._status_ds[()]) != "running":
            return False
        return writer_alive(self._f.attrs.get(WRITER_ATTR, "{}"))

    @property
    def batches(self) -> np.ndarray:
        """The batch table of complete batches (a structured array)."""
        done = self.batches_done
        return read_live(self.path, "batch table", self.live, lambda: self._batches[:done])

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
        return read_live(
            self.path,
            f"data of rows {start:,} to {stop:,}",
            self.live,
            lambda: (self.inputs[start:stop], self.outputs[start:stop]),
        )

    def iter_chunks(self, rows: int = 1 << 18):
        """Yield (first_row, inputs, outputs) in blocks of `rows`; bounded memory."""
        for start in range(0, self.n_rows, rows):
            yield (start, *self.read(start, start + rows))

    def batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, outputs) of one complete batch by its position in the table."""
        entry = read_live(self.path, "batch table", self.live, lambda: self._batches[index])
        first, rows = int(entry["first_row"]), int(entry["rows"])
        return self.read(first, first + rows)

    def channel_ranges(
        self, progress: ProgressFn | None = None, cancel: CancelToken | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel (min, max) over inputs then outputs, read in chunks, by
        `backend.channels.channel_ranges`'s NaN rule (the data layer's, so `info`
        and the browser agree). A job.
        """
        blocks = ((first, np.hstack([x, y])) for first, x, y in self.iter_chunks())
        return channel_ranges(blocks, len(self.channel_names), self.n_rows, progress, cancel)

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
        self._share.release()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _int(value: Any, path: Path, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise RecordingError(f"{path}: the attribute {name} is not a whole number") from None


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
