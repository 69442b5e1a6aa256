"""Clear the "open for writing" marks a crashed HDF5 writer leaves behind.

A SWMR writer sets consistency flags in the superblock; if the process dies,
HDF5 refuses to open the file for writing again ("may use h5clear"). The data
is intact, so resuming a recording only needs what `h5clear -s` does: zero the
flags byte and recompute the superblock checksum. We verify the stored
checksum with our own lookup3 first, so a file we do not fully understand is
never modified.
"""

from __future__ import annotations

import os

from backend.recording.superblock import FLAGS_OFFSET, find_superblock, lookup3


def clear_consistency_flags(path: str | os.PathLike) -> bool:
    """Zero the superblock's write flags; True if something was cleared.

    Raises ValueError when the file is not a version 2/3 HDF5 file whose
    superblock checksum we can verify, leaving it untouched.
    """
    return set_consistency_flags(path, 0) != 0


def set_consistency_flags(path: str | os.PathLike, value: int) -> int:
    """Write the superblock's flags byte (0 clears it); returns the value it had.

    A failed resume puts back what it found, so the file is as readable as before.
    Raises ValueError, leaving the file untouched, as `clear_consistency_flags`.
    """
    with open(path, "r+b") as fh:
        start = find_superblock(fh)
        if start is None:
            raise ValueError(f"{path} is not an HDF5 file")
        fh.seek(start)
        head = fh.read(12)
        version, offset_size = head[8], head[9]
        if version not in (2, 3):
            raise ValueError(f"{path}: superblock version {version} has no consistency flags")
        body_len = 12 + 4 * offset_size
        fh.seek(start)
        body = bytearray(fh.read(body_len))
        stored = int.from_bytes(fh.read(4), "little")
        if lookup3(bytes(body)) != stored:
            raise ValueError(f"{path}: superblock checksum does not verify; not modified")
        previous = body[FLAGS_OFFSET]
        if previous == value:
            return previous
        body[FLAGS_OFFSET] = value
        fh.seek(start)
        fh.write(bytes(body) + lookup3(bytes(body)).to_bytes(4, "little"))
        fh.flush()
        os.fsync(fh.fileno())
    return previous
