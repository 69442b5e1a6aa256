"""HDF5 calls of the recording writer: opening for writing, fast appends, closing.

Every read goes through `backend.recording.h5open`; these are the write side's
few low-level calls, kept apart from the writer's rules (which batch is
complete, disk-full, resume) in `backend.recording.writer`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import h5py
import numpy as np

_CACHE_BYTES = 4 << 20  # per dataset; chunks are one batch (~140 kB)


def open_new(path: str | os.PathLike, mode: str) -> h5py.File:
    """Open for writing; every read goes through `backend.recording.h5open` (see `Recording`)."""
    return h5py.File(path, mode, libver="latest", rdcc_nbytes=_CACHE_BYTES)


def open_swmr_writer(path: Path) -> h5py.File:
    """Open `path` read-write in SWMR mode in one step.

    HDF5 then sets the superblock's write flags together with the SWMR flag, so a
    crash at any moment leaves a file that SWMR readers (and a resume) can open;
    opening 'r+' first and switching to SWMR later would leave a window without it.
    """
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    fapl.set_fclose_degree(h5py.h5f.CLOSE_WEAK)  # as h5py's own opens, so they can share
    mdc, nslots, _, w0 = fapl.get_cache()
    fapl.set_cache(mdc, nslots, _CACHE_BYTES, w0)
    flags = h5py.h5f.ACC_RDWR | h5py.h5f.ACC_SWMR_WRITE
    return h5py.File(h5py.h5f.open(os.fsencode(path), flags, fapl=fapl))


def append_rows(
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
    is one chunk, see `layout.chunk_rows`) are written as raw chunks, skipping HDF5's
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


def close_quietly(f: h5py.File) -> None:
    """Close `f` even when HDF5 cannot flush it (a full disk): never raise, never keep it open."""
    try:
        f.close()
    except (OSError, RuntimeError, ValueError):
        with contextlib.suppress(Exception):
            f.id.close()
