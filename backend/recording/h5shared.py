"""One open file per HDF5 file per process, shared by all its readers.

Readers of one file in one process share one open file and one handle per
dataset (`acquire`): HDF5 fails reads ("can't insert duplicate key") when a
SWMR dataset is refreshed through one handle while another handle of it is
open. The file is opened by `backend.recording.h5open.open_file`'s policy and
closed when its last reader lets go. A resume reopens the file for writing
inside `no_readers`, which waits until no reader here holds it and keeps new
ones out until the writer has it open: HDF5 refuses to open a file for writing
while this process has it open read-only (a folder scan could slip in between).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py

from backend.errors import FileFormatError
from backend.recording.h5open import close_file, open_file


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
_changed = threading.Condition(_lock)  # a reader let go, or a writer finished opening
_opening: set[tuple[int, int]] = set()  # files a writer is opening: readers wait
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
        while key in _opening:  # a writer is opening it: milliseconds, then read beside it
            _changed.wait()
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
        close_file(entry.file)
        _changed.notify_all()


def open_count(path: str | os.PathLike) -> int:
    """How many readers in this process hold `path` open (a resume needs none)."""
    try:
        key = _key(Path(path))
    except FileFormatError:
        return 0
    with _lock:
        entry = _open.get(key)
        return entry.count if entry is not None else 0


@contextmanager
def no_readers(path: str | os.PathLike, wait_s: float = 5.0) -> Iterator[bool]:
    """While the block runs, no reader in this process holds `path` or opens it.

    Yields False (and keeps nobody out) when readers still hold it after `wait_s`:
    a reader finishing a job, such as a folder scan, lets go within that time.
    """
    key = _key(path)
    end = time.monotonic() + wait_s
    with _lock:
        while (entry := _open.get(key)) is not None and entry.count > 0:
            left = end - time.monotonic()
            if left <= 0:
                break
            _changed.wait(left)
        free = (entry := _open.get(key)) is None or entry.count == 0
        if free:
            _opening.add(key)
    try:
        yield free
    finally:
        if free:
            with _lock:
                _opening.discard(key)
                _changed.notify_all()
