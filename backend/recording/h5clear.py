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

_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MASK = 0xFFFFFFFF
_FLAGS_OFFSET = 11


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _MASK


def lookup3(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' lookup3 `hashlittle`, the checksum HDF5 uses for metadata."""
    length = len(data)
    a = b = c = (0xDEADBEEF + length + initval) & _MASK
    i = 0
    while length > 12:
        a = (a + int.from_bytes(data[i : i + 4], "little")) & _MASK
        b = (b + int.from_bytes(data[i + 4 : i + 8], "little")) & _MASK
        c = (c + int.from_bytes(data[i + 8 : i + 12], "little")) & _MASK
        a = ((a - c) & _MASK) ^ _rot(c, 4)
        c = (c + b) & _MASK
        b = ((b - a) & _MASK) ^ _rot(a, 6)
        a = (a + c) & _MASK
        c = ((c - b) & _MASK) ^ _rot(b, 8)
        b = (b + a) & _MASK
        a = ((a - c) & _MASK) ^ _rot(c, 16)
        c = (c + b) & _MASK
        b = ((b - a) & _MASK) ^ _rot(a, 19)
        a = (a + c) & _MASK
        c = ((c - b) & _MASK) ^ _rot(b, 4)
        b = (b + a) & _MASK
        length -= 12
        i += 12
    if length == 0:
        return c
    tail = data[i:].ljust(12, b"\0")
    a = (a + int.from_bytes(tail[0:4], "little")) & _MASK
    b = (b + int.from_bytes(tail[4:8], "little")) & _MASK
    c = (c + int.from_bytes(tail[8:12], "little")) & _MASK
    c = ((c ^ b) - _rot(b, 14)) & _MASK
    a = ((a ^ c) - _rot(c, 11)) & _MASK
    b = ((b ^ a) - _rot(a, 25)) & _MASK
    c = ((c ^ b) - _rot(b, 16)) & _MASK
    a = ((a ^ c) - _rot(c, 4)) & _MASK
    b = ((b ^ a) - _rot(a, 14)) & _MASK
    c = ((c ^ b) - _rot(b, 24)) & _MASK
    return c


def _find_superblock(fh) -> int | None:
    """Superblocks sit at 0 or at 512 * 2**k (after a user block)."""
    offset = 0
    size = os.fstat(fh.fileno()).st_size
    while offset < size:
        fh.seek(offset)
        if fh.read(8) == _SIGNATURE:
            return offset
        offset = 512 if offset == 0 else offset * 2
    return None


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
        start = _find_superblock(fh)
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
        previous = body[_FLAGS_OFFSET]
        if previous == value:
            return previous
        body[_FLAGS_OFFSET] = value
        fh.seek(start)
        fh.write(bytes(body) + lookup3(bytes(body)).to_bytes(4, "little"))
        fh.flush()
        os.fsync(fh.fileno())
    return previous
