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

Readers of one file in one process share one open file and one handle per
dataset (`acquire`): HDF5 fails reads ("can't insert duplicate key") when a
SWMR dataset is refreshed through one handle while another handle of it is open.
"""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py

from backend.errors import FileFormatError
from backend.recording.h5clear import lookup3

SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Superblock status flags (v3): open for write, open for SWMR write.
WRITE_ACCESS, SWMR_WRITE_ACCESS = 0x1, 0x4
CACHE_BYTES = 4 << 20  # chunk cache per dataset: reads are slices, little is reused
#: How long a file being written may look torn (a flush in progress) before it is refused.
SETTLE_S = 3.0
#: How long a read of a live file may keep failing before it counts as damage: a writer
#: rewrites a partly filled chunk (or the batch table's chunk) in place as it grows.
LIVE_RETRY_S = 5.0
_UNDEFINED = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True)
class Superblock:
    """What the start of an HDF5 file says about it."""

    offset: int  # where the superblock sits (after a user block)
    version: int
    flags: int  # status flags; only v3 superblocks have them
    eoa: int  # the stored end of file: the size the file must have
    size: int  # the file's real size when it was read
    checksum_at: int | None  # v2/v3: where the superblock's checksum is

    @property
    def writing(self) -> bool:
        """Marked open for write: being written now, or its writer died."""
        return self.version >= 3 and bool(self.flags & (WRITE_ACCESS | SWMR_WRITE_ACCESS))

    @property
    def truncated(self) -> bool:
        return self.size < self.eoa


def read_superblock(path: str | os.PathLike) -> Superblock:
    """The superblock of `path`; FileFormatError when there is none to read."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            offset = 0
            while offset < size:
                fh.seek(offset)
                if fh.read(8) == SIGNATURE:
                    return _parse(fh.read(200), offset, size, path)
                offset = 512 if offset == 0 else offset * 2
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    raise FileFormatError(f"{path} is not a readable HDF5 file (no HDF5 signature)")


def _parse(head: bytes, offset: int, size: int, path: Any) -> Superblock:
    def number(at: int, n: int) -> int:
        if at + n > len(head):
            raise FileFormatError(f"{path}: the HDF5 superblock is cut short")
        return int.from_bytes(head[at : at + n], "little")

    version = number(0, 1)
    if version in (0, 1):
        n_off = number(5, 1)
        at = 16 + (4 if version == 1 else 0)  # v1 adds the indexed-storage K
        eoa_at, flags, checksum_at = at + 2 * n_off, 0, None
    elif version in (2, 3):
        n_off = number(1, 1)
        eoa_at, flags = 4 + 2 * n_off, number(3, 1)
        checksum_at = offset + 8 + 4 + 4 * n_off
    else:
        raise FileFormatError(f"{path}: unknown HDF5 superblock version {version}")
    if n_off not in (2, 4, 8):
        raise FileFormatError(f"{path}: the HDF5 superblock is damaged (offset size {n_off})")
    eoa = number(eoa_at, n_off)  # the whole file's size, user block included (as HDF5 checks)
    if eoa == _UNDEFINED >> (64 - 8 * n_off):
        raise FileFormatError(f"{path}: the HDF5 superblock has no end of file")
    return Superblock(offset, version, flags, eoa, size, checksum_at)


def check_whole(path: str | os.PathLike, sb: Superblock) -> None:
    """Refuse a file shorter than its stored end: its missing part would read as zeros."""
    if sb.truncated:
        raise FileFormatError(
            f"{path} is truncated: it holds {sb.size:,} bytes but its HDF5 header says "
            f"{sb.eoa:,} (an incomplete copy or download, or a full disk)",
            "Copy the file again from where it came from; samplelab does not read a cut "
            "file (the missing rows would read as zeros).",
        )


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
    import psutil

    try:
        started = psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, ValueError):
        return False
    except psutil.AccessDenied:
        return unknown
    return not (since and started > since + 1.0)


# --- opening -----------------------------------------------------------------------
class _FlagsCleared(io.RawIOBase):
    """A read-only view of an HDF5 file whose superblock shows the write flags cleared."""

    def __init__(self, path: str | os.PathLike, sb: Superblock) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 - closed with the view
        assert sb.checksum_at is not None
        start = sb.offset
        self._fh.seek(start)
        body = bytearray(self._fh.read(sb.checksum_at - start))
        body[11] = 0
        self._patch = bytes(body) + lookup3(bytes(body)).to_bytes(4, "little")
        self._start = start
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 1:
            pos += self._pos
        elif whence == 2:
            pos += os.fstat(self._fh.fileno()).st_size
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        self._fh.seek(self._pos)
        n = self._fh.readinto(buffer)
        a, b = self._start, self._start + len(self._patch)
        lo, hi = max(a, self._pos), min(b, self._pos + n)
        if lo < hi:
            memoryview(buffer)[lo - self._pos : hi - self._pos] = self._patch[lo - a : hi - a]
        self._pos += n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


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
            view = _FlagsCleared(path, sb)
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
        _close(f)
        raise
    if not (sb.flags & SWMR_WRITE_ACCESS) or not writer_alive(stamp, unknown=False):
        return f  # its writer is gone (or not provably live): the view is the file as left
    _close(f)
    return _h5(path, lambda: h5py.File(path, "r", swmr=True, **options))


def _close(f: h5py.File) -> None:
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


# --- one open file per process -------------------------------------------------------
class SharedFile:
    """One reader's share of an open file; `release()` when done (the last one closes it)."""

    def __init__(self, entry: _Entry) -> None:
        self._entry = entry
        self.file = entry.file
        self.lock = entry.lock  # held while refreshing and counting: one view of the file
        self.released = False

    def dataset(self, name: str) -> h5py.Dataset:
        """The one handle of dataset `name` every reader of this file uses."""
        return self._entry.dataset(name)

    def release(self) -> None:
        if not self.released:
            self.released = True
            _release(self._entry)


class _Entry:
    def __init__(self, key: tuple[int, int], file: h5py.File) -> None:
        self.key, self.file, self.count = key, file, 0
        self.datasets: dict[str, h5py.Dataset] = {}
        self.lock = threading.RLock()

    def dataset(self, name: str) -> h5py.Dataset:
        with _lock:
            ds = self.datasets.get(name)
            if ds is None:
                ds = self.file[name]
                if not isinstance(ds, h5py.Dataset):
                    raise KeyError(name)
                self.datasets[name] = ds
            return ds


_lock = threading.RLock()
_open: dict[tuple[int, int], _Entry] = {}


def _key(path: str | os.PathLike) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    return st.st_dev, st.st_ino


def acquire(path: str | os.PathLike) -> SharedFile:
    """A share of `path`'s one open file in this process (opened by `open_file` if needed)."""
    key = _key(path)
    with _lock:
        entry = _open.get(key)
        if entry is None or not entry.file.id.valid:
            entry = _Entry(key, open_file(path))
            _open[key] = entry
        entry.count += 1
        return SharedFile(entry)


def _release(entry: _Entry) -> None:
    with _lock:
        entry.count -= 1
        if entry.count > 0:
            return
        if _open.get(entry.key) is entry:
            del _open[entry.key]
        entry.datasets.clear()
        _close(entry.file)


def open_count(path: str | os.PathLike) -> int:
    """How many readers in this process hold `path` open (a resume needs none)."""
    try:
        key = _key(Path(path))
    except FileFormatError:
        return 0
    with _lock:
        entry = _open.get(key)
        return entry.count if entry is not None else 0
