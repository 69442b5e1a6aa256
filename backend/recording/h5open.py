"""Opening HDF5 files for reading: one policy for every reader in the process.

Why one place: a recording may be complete, being written by another process
(SWMR), left by a writer that was killed, cut short by a copy, or damaged.
HDF5 alone handles these badly: a plain read-only open refuses a file whose
superblock says "open for write" (any live or killed writer), a SWMR-read open
skips the end-of-file check (a cut file then reads as zeros) and retries every
failed metadata checksum with back-off (a damaged file then "hangs" for
minutes). So, from the superblock read here first:

* flags clear (closed properly): the file's size must reach the stored end of
  file (EOA); then a plain read-only open, which fails fast on damage;
* flags set (being written, or its writer died): read through a view that
  shows the flags cleared, without touching the file; if the file names a
  writer (`writer_json`) that is still running, reopen in SWMR read mode so it
  can be followed. Only a resume clears the real flags (`backend.recording.h5clear`).

The superblock is read and its view built in `backend.recording.superblock`;
readers share one open file per process through `backend.recording.h5shared`.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import h5py

from backend.errors import FileFormatError
from backend.recording.superblock import (
    SWMR_WRITE_ACCESS,
    FlagsCleared,
    check_whole,
    read_superblock,
)

CACHE_BYTES = 4 << 20  # chunk cache per dataset: reads are slices, little is reused
#: How long a file being written may look torn (a flush in progress) before it is refused.
SETTLE_S = 3.0
#: How long a read of a live file may keep failing before it counts as damage: a writer
#: rewrites a partly filled chunk (or the batch table's chunk) in place as it grows.
LIVE_RETRY_S = 5.0
# --- who writes a file ------------------------------------------------------------
WRITER_ATTR = "writer_json"


def writer_stamp() -> str:
    """The `writer_json` attribute a writer stores: who writes the file, since when."""
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})


def writer_alive(stamp: Any, unknown: bool = True) -> bool:
    """Whether the process a `writer_stamp` names still runs; `unknown` when we cannot tell.

    The one proof both readers (status 'interrupted') and resume (may the flags
    be cleared?) use: they keep `unknown=True`, so a writer on another host, or
    a stamp that does not parse, counts as live. Opening in SWMR mode asks for
    proof (`unknown=False`): a damaged file must not reach HDF5's SWMR retries.
    A pid reused by a process started after the stamp is not the writer.
    """
    try:
        writer = json.loads(stamp.decode() if isinstance(stamp, bytes) else str(stamp or "{}"))
        pid, host = int(writer.get("pid", -1)), writer.get("host")
        since = float(writer.get("since", 0.0))
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError, RecursionError):
        return unknown
    if host != socket.gethostname():
        return unknown  # another machine: cannot tell
    if pid == os.getpid():
        return True
    import psutil  # on use: only to test a writer's pid

    try:
        started = psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, ValueError):
        return False
    except psutil.AccessDenied:
        return unknown
    return not (since and started > since + 1.0)


# --- opening -----------------------------------------------------------------------
def open_file(path: str | os.PathLike, **options: Any) -> h5py.File:
    """`path` opened read-only by the policy above; FileFormatError if it cannot be."""
    options.setdefault("rdcc_nbytes", CACHE_BYTES)
    sb = read_superblock(path)
    if not sb.writing:
        check_whole(path, sb)
        return _h5(path, lambda: h5py.File(path, "r", **options))
    try:  # this process writes it: HDF5 shares its own open file, consistent as is
        return h5py.File(path, "r", **options)
    except OSError:
        pass
    deadline = time.monotonic() + SETTLE_S
    while True:  # a live writer's flush can leave a torn view for a moment
        try:
            if sb.truncated:
                check_whole(path, sb)
            view = FlagsCleared(path, sb)
            f = _h5(path, lambda view=view: h5py.File(view, "r", **options))
            f._samplelab_view = view  # the view lives as long as the file
            break
        except (FileFormatError, OSError) as exc:
            if time.monotonic() > deadline or read_superblock(path) == sb:
                if isinstance(exc, FileFormatError):
                    raise
                raise FileFormatError(f"{path} is not a readable HDF5 file ({exc})") from None
            time.sleep(0.05)
            sb = read_superblock(path)
    try:
        with reading(path, "file's header"):
            stamp = f.attrs.get(WRITER_ATTR)
    except FileFormatError:
        close_file(f)
        raise
    if not (sb.flags & SWMR_WRITE_ACCESS) or not writer_alive(stamp, unknown=False):
        return f  # its writer is gone (or not provably live): the view is the file as left
    close_file(f)
    return _h5(path, lambda: h5py.File(path, "r", swmr=True, **options))


def close_file(f: h5py.File) -> None:
    """Close `f` and the view it reads through, if any."""
    view = getattr(f, "_samplelab_view", None)
    f.close()
    if view is not None:
        view.close()


def _h5(path: Any, opener: Any) -> h5py.File:
    try:
        return opener()
    except (OSError, RuntimeError, ValueError) as exc:
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise FileFormatError(f"{path} is not a readable HDF5 file ({text})") from None


def read_live(path: Any, what: str, live: bool, read: Any) -> Any:
    """`read()` with HDF5's failures said as `reading` says them.

    For a live file (SWMR), a failure is retried for up to LIVE_RETRY_S: a
    chunk the writer is rewriting reads torn (its checksum fails) for a moment.
    A file nobody writes gets no second try.
    """
    deadline = None
    while True:
        try:
            with reading(path, what):
                return read()
        except FileFormatError:
            now = time.monotonic()
            deadline = now + LIVE_RETRY_S if deadline is None else deadline
            if not live or now > deadline:
                raise
            time.sleep(0.02)


def settled(path: str | os.PathLike, load: Any) -> Any:
    """`load()`, retried for up to SETTLE_S while a writer's flush leaves the file torn.

    A reader of a live file can meet metadata half written (HDF5 then reports a
    bad header or checksum); the same read a moment later succeeds. A file that
    did not change while it was read gets no second try: its damage is real.
    """
    deadline = time.monotonic() + SETTLE_S
    while True:
        before = _changed(path)
        try:
            return load()
        except FileFormatError:
            time.sleep(0.05)
            if time.monotonic() > deadline or _changed(path) == before:
                raise


def _changed(path: str | os.PathLike) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return st.st_size, st.st_mtime_ns


def is_live(f: h5py.File) -> bool:
    """Whether `f` was opened to follow a live writer (SWMR read)."""
    return bool(f.swmr_mode)


@contextmanager
def reading(path: Any, what: str = "data") -> Iterator[None]:
    """Turn HDF5's read failures (checksum, damaged chunk index) into a clear error."""
    try:
        yield
    except (OSError, RuntimeError, KeyError) as exc:  # h5py's KeyError: a damaged object
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        checksum = "checksum" in text.lower() or "filter" in text.lower()
        cause = "fails its checksum" if checksum else f"cannot be read ({text})"
        raise FileFormatError(
            f"{path}: the {what} {cause}: the file is damaged",
            "Copy it again from its source or a backup; rows before the damage can be "
            "exported with --rows if the rest is lost.",
        ) from None
