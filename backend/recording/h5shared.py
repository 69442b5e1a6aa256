"""One open file per HDF5 file per process, shared by all its readers.

Readers of one file in one process share one open file and one handle per
dataset (`acquire`): HDF5 fails reads ("can't insert duplicate key") when a
SWMR dataset is refreshed through one handle while another handle of it is
open. The file is opened by `backend.recording.h5open.open_file`'s policy and
closed when its last reader lets go; a resume waits until `open_count` is 0.
"""

from __future__ import annotations

import os
import threading
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
        close_file(entry.file)


def open_count(path: str | os.PathLike) -> int:
    """How many readers in this process hold `path` open (a resume needs none)."""
    try:
        key = _key(Path(path))
    except FileFormatError:
        return 0
    with _lock:
        entry = _open.get(key)
        return entry.count if entry is not None else 0
