"""The recording writer's guards: where it may create a file, and whether the disk has room.

Whatever a config says, a recording is created as a new file directly inside its
output folder: never through a symbolic link, never outside, never over an existing
file. And a writer stops before the disk is full instead of letting HDF5 fail half
way through its metadata, so the file it leaves is intact up to its last batch.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from backend.errors import DiskFullError, RecordingError
from backend.files import describe_bytes, discard, free_bytes

#: Room kept free beyond the next batch: HDF5's metadata updates and the closing status.
RESERVE_BYTES = 64 << 10
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def confined_target(path: str | os.PathLike, folder: str | os.PathLike | None = None) -> Path:
    """`path` checked to name a new file directly inside `folder` (default: its own folder).

    Refuses, with one RecordingError, a name holding NUL or control characters,
    '.', '..', a path that resolves outside `folder` (separators, '..', an absolute
    name, a symbolic link on the way) and a symbolic link at the name itself.
    """
    text = os.fspath(path)
    if "\0" in text or any(ord(c) < 32 for c in Path(text).name):
        raise RecordingError(
            f"refusing to create a recording named {text!r}: it holds a NUL or control character",
            "Use a plain file name for data_name.",
        )
    path = Path(text)
    folder = Path(folder) if folder is not None else path.parent
    if path.name in ("", ".", ".."):
        raise RecordingError(f"refusing to create a recording named {text!r}: not a file name")
    try:
        inside = path.parent.resolve() == folder.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a bad drive
        raise RecordingError(f"cannot resolve the output folder {folder}: {exc}") from None
    if not inside:
        raise RecordingError(
            f"refusing to create the recording {path}: it lies outside the output folder {folder}",
            "data_name must be a plain file name; choose the folder with --out.",
        )
    target = folder / path.name
    if target.is_symlink():
        raise RecordingError(
            f"refusing to create the recording {target}: a symbolic link has that name",
            "Remove the link or choose another data_name.",
        )
    return target


def is_disk_full(exc: BaseException) -> bool:
    """Whether an OSError, or HDF5's RuntimeError text, says the disk or quota is full."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return True
    text = str(exc)
    return any(f"errno = {code}," in text for code in _DISK_FULL) or "No space left" in text


def disk_full(
    path: Path,
    needed: int,
    free: int | None,
    batches_done: int,
    planned: int,
    resuming: bool = False,
) -> DiskFullError:
    """The one error for a full disk: how much is free and needed, what is kept, where."""
    room = "unknown space" if free is None else describe_bytes(free)
    if resuming:
        return DiskFullError(
            f"cannot resume {path}: disk full, {room} free in {path.parent} and at least "
            f"{describe_bytes(needed)} needed to go on ({planned - batches_done} batches to go)",
            "Free some space, then resume again; the recording is unchanged.",
        )
    return DiskFullError(
        f"disk full: {batches_done} of {planned} batches kept in {path}; "
        f"{room} free in {path.parent}, {describe_bytes(needed)} needed to go on",
        "Free some space, then resume the recording.",
    )


def check_room(
    path: Path, needed: int, batches_done: int, planned: int, resuming: bool = False
) -> None:
    """Raise `disk_full` unless `path`'s file system has `needed` bytes and the reserve free."""
    free = free_bytes(path.parent)
    if free is not None and free < needed + RESERVE_BYTES:
        raise disk_full(path, needed + RESERVE_BYTES, free, batches_done, planned, resuming)


class Reserve:
    """Disk space held beside a recording (`NAME.h5.reserve`), given back when HDF5 finds
    the disk full, so the writer can still flush consistent metadata and close the file.

    The free-space check before each batch normally stops a session first; this is
    for a disk filled by someone else between that check and the write, or a quota
    the check cannot see.
    """

    def __init__(self, recording: Path) -> None:
        self.path = recording.with_name(recording.name + ".reserve")

    def take(self) -> None:
        """Hold RESERVE_BYTES; quietly none if even that does not fit (the check said so)."""
        discard(self.path)  # one a killed writer left
        try:
            with open(self.path, "xb") as fh:  # space is accounted at write(); no fsync needed
                fh.write(os.urandom(RESERVE_BYTES))  # random: no file system compresses it away
        except OSError:
            discard(self.path)

    def release(self) -> bool:
        """Give the space back; True if there was some to give."""
        held = self.path.is_file()
        discard(self.path)
        return held
