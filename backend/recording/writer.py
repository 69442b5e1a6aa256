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

import contextlib
import json
import logging
import os
import time
from pathlib import Path

import h5py
import numpy as np

from backend.config import SamplingConfig
from backend.errors import DiskFullError, RecordingError
from backend.files import describe_bytes, discard, free_bytes, publish_new, replace_file, temp_path
from backend.recording.guard import (
    RESERVE_BYTES,
    Reserve,
    check_room,
    confined_target,
    disk_full,
    is_disk_full,
)
from backend.recording.h5clear import set_consistency_flags
from backend.recording.h5open import WRITER_ATTR, writer_stamp
from backend.recording.h5shared import no_readers
from backend.recording.h5write import append_rows, close_quietly, open_new, open_swmr_writer
from backend.recording.layout import lay_out
from backend.recording.reader import NOTES_ATTR, Recording

log = logging.getLogger(__name__)
STATUSES = ("running", "complete", "cancelled", "failed")


def _claim(f: h5py.File) -> None:
    f.attrs[WRITER_ATTR] = writer_stamp()


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
        self.rows = _complete_rows(self._batches)
        self._row = np.zeros(1, dtype=self._batches.dtype)
        # Building the compound memory type costs more than writing the row: do it once.
        self._row_type = h5py.h5t.py_create(self._row.dtype)
        self._row_bytes = self._inputs.dtype.itemsize * (
            self._inputs.shape[1] + self._outputs.shape[1]
        )
        self._failed = False  # a write failed: the file's state is HDF5's last flush
        self._reserve = Reserve(path)
        self._reserve.take()
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
        folder: str | os.PathLike | None = None,
    ) -> RecordingWriter:
        """A new recording directly in `folder` (default: `path`'s own folder).

        The file is laid out under a temporary name and only then given its name, so a
        crash never leaves a half-made recording; that name must be new (exclusive
        create: nothing existing is opened for writing) unless `overwrite`, which
        replaces the old file whole instead of truncating it. `notes` (sample ID,
        operator, free text...) go into its attributes.
        """
        path = confined_target(path, folder)
        if os.path.lexists(path) and not overwrite:
            raise RecordingError(
                f"{path} already exists", "Choose another output folder or file name."
            )
        tmp = temp_path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            discard(tmp)  # left by a crash during an earlier layout of this name
            f = open_new(tmp, "x")
        except (OSError, RuntimeError) as exc:
            raise RecordingError(f"cannot create the recording {path}: {exc}") from None
        try:
            try:
                lay_out(f, config, device, seed)
                if notes:
                    f.attrs[NOTES_ATTR] = json.dumps(dict(notes))
                _claim(f)
            finally:
                f.close()
            (replace_file if overwrite else publish_new)(tmp, path)
        except FileExistsError:
            raise RecordingError(
                f"{path} already exists", "Choose another output folder or file name."
            ) from None
        except (OSError, RuntimeError) as exc:
            discard(tmp)
            if is_disk_full(exc):
                free = describe_bytes(free_bytes(path.parent) or 0)
                raise DiskFullError(
                    f"cannot create the recording {path}: disk full ({free} free)",
                    "Free some space or choose another output folder.",
                ) from None
            raise RecordingError(f"cannot create the recording {path}: {exc}") from None
        except BaseException:
            discard(tmp)
            raise
        return cls._open_for_writing(path, config)

    @classmethod
    def _open_for_writing(cls, path: Path, config: SamplingConfig) -> RecordingWriter:
        """Open a laid-out recording (its writer_json already ours) as the SWMR writer."""
        try:
            f = open_swmr_writer(path)
        except (OSError, RuntimeError) as exc:
            raise RecordingError(f"cannot open {path} for writing: {exc}") from None
        return cls(path, f, config)

    @classmethod
    def resume(cls, path: str | os.PathLike) -> RecordingWriter:
        """Reopen an interrupted recording and drop any batch that did not complete.

        Refused before anything is touched when the disk lacks room for a batch; if
        reopening fails anyway, the file's consistency flags are put back as found,
        so it stays exactly as readable (and resumable) as before.
        """
        path = Path(path)
        with Recording(path) as rec:
            config = rec.config
            done, planned = rec.batches_done, rec.batches_planned
            if done >= planned:
                raise RecordingError(
                    f"{path} is already complete ({done} batches)",
                    "Nothing to resume; start a new recording instead.",
                )
            if rec.writer_alive():
                raise RecordingError(
                    f"{path} is still being written by another process",
                    "Stop that session first, or wait until it ends.",
                )
        with no_readers(path) as free:  # a folder scan finishing lets go within seconds
            if not free:  # readers here would see the file change under them
                raise RecordingError(
                    f"{path} is open for reading in this program",
                    "Close it in the other views (or windows) first, then resume.",
                )
            _check_resume_room(path, config, done, planned)
            try:
                flags = set_consistency_flags(path, 0)
            except (ValueError, OSError) as exc:
                raise RecordingError(f"cannot reopen {path} for writing: {exc}") from None
            try:
                f = open_swmr_writer(path)
            except (OSError, RuntimeError) as exc:
                _restore_flags(path, flags)
                raise RecordingError(f"cannot reopen {path} for writing: {exc}") from None
        # Changes made in SWMR mode: the file is readable (and resumable) at every instant.
        found = _session_state(f)
        try:
            _set_session_state(f, (np.bytes_("running"), np.bytes_(""), np.nan, writer_stamp()))
            rows = _complete_rows(f["batches"])  # drop the rows of the batch in flight
            for name in ("inputs", "outputs"):
                f[name].id.set_extent((rows, f[name].shape[1]))
            f.flush()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                _set_session_state(f, found)
            close_quietly(f)
            _restore_flags(path, flags)
            if isinstance(exc, (OSError, RuntimeError)):
                if is_disk_full(exc):
                    need = _batch_bytes(config) + 2 * RESERVE_BYTES
                    raise disk_full(
                        path, need, free_bytes(path.parent), done, planned, True
                    ) from None
                raise RecordingError(f"cannot reopen {path} for writing: {exc}") from None
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
        """Write one complete batch and flush, data first, then its table row.

        Stops with a DiskFullError before writing when the disk lacks room for the
        batch and the reserve; any write error leaves the earlier batches readable.
        """
        n = len(inputs)
        if len(outputs) != n:
            raise RecordingError(f"batch {index}: {n} input rows but {len(outputs)} output rows")
        needed = n * self._row_bytes + self._row.itemsize
        check_room(self.path, needed, self.batches_done, self.config.number_batches)
        start, stop = self.rows, self.rows + n
        try:
            append_rows(self._inputs, start, inputs, raw=self._raw)
            append_rows(self._outputs, start, outputs, raw=self._raw)
            row = self._row
            row["index"], row["first_row"], row["rows"] = index, start, n
            row["t0"], row["started"], row["duration"] = t0, started, duration
            row["phases"][0] = phases
            append_rows(self._batches, self.batches_done, row, self._row_type)
            self._f.flush()
        except (OSError, RuntimeError) as exc:
            self._failed = not (is_disk_full(exc) and self._flush_into_reserve())
            if is_disk_full(exc):
                raise disk_full(
                    self.path,
                    needed + RESERVE_BYTES,
                    free_bytes(self.path.parent),
                    self.batches_done,
                    self.config.number_batches,
                ) from None
            raise RecordingError(f"cannot write batch {index} to {self.path}: {exc}") from None
        self.rows = stop
        self.batches_done += 1

    def _flush_into_reserve(self) -> bool:
        """After HDF5 hit a full disk mid-batch: give back the reserve, take the batch in
        flight out of the table (HDF5 may have dropped its data while keeping its row),
        and flush again; True if the file is consistent now, up to the last batch."""
        if not self._reserve.release():
            return False
        try:
            self._batches.id.set_extent((self.batches_done,))
            self._f.flush()
        except (OSError, RuntimeError):
            return False
        return True

    def close(self, status: str = "complete", message: str = "") -> None:
        """Record how the session ended and close the file; safe to call twice.

        After a failed write (a full disk) the status is not written: the file keeps
        its last complete batch and reads as interrupted, ready to resume.
        """
        if self.closed:
            return
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        try:
            if not self._failed and self._f.id.valid:
                self._status[()] = np.bytes_(status)
                self._message[()] = np.bytes_(message.encode("utf-8")[:4096])
                self._ended[()] = time.time()
                self._f.flush()
        except (OSError, RuntimeError) as exc:
            raise RecordingError(f"could not record how {self.path} ended: {exc}") from None
        finally:
            close_quietly(self._f)
            self._reserve.release()
            self.closed = True

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close("complete" if exc_type is None else "failed", str(exc or ""))


_SESSION_FIELDS = ("session/status", "session/message", "session/ended")


def _session_state(f: h5py.File) -> tuple:
    """(status, message, ended, writer_json): what a failed resume puts back."""
    return (*(f[name][()] for name in _SESSION_FIELDS), f.attrs.get(WRITER_ATTR))


def _set_session_state(f: h5py.File, state: tuple) -> None:
    for name, value in zip(_SESSION_FIELDS, state[:3]):
        f[name][()] = value
    if state[3] is not None:
        f.attrs.modify(WRITER_ATTR, state[3])  # in place: a SWMR writer adds no attributes


def _restore_flags(path: Path, flags: int) -> None:
    with contextlib.suppress(ValueError, OSError):
        set_consistency_flags(path, flags)


def _complete_rows(batches: h5py.Dataset) -> int:
    done = batches.shape[0]
    if not done:
        return 0
    last = batches[done - 1]
    return int(last["first_row"] + last["rows"])


def _batch_bytes(config: SamplingConfig) -> int:
    return 8 * (config.n_inputs + config.n_outputs) * config.batch_points


def _check_resume_room(path: Path, config: SamplingConfig, done: int, planned: int) -> None:
    """Refuse a resume that could not write one batch; warn when the rest will not fit.

    The writer holds a reserve of its own (see `Reserve`) besides the headroom
    every batch keeps, so a resume needs a batch and twice the reserve.
    """
    batch = _batch_bytes(config)
    check_room(path, batch + RESERVE_BYTES, done, planned, resuming=True)
    free, rest = free_bytes(path.parent), (planned - done) * batch + 2 * RESERVE_BYTES
    if free is not None and free < rest:
        log.warning(
            "%s free in %s, the %d remaining batches need %s: the session will stop "
            "when the disk is full",
            describe_bytes(free),
            path.parent,
            planned - done,
            describe_bytes(rest),
        )
