"""The HDF5 superblock: whether a file is being written, and whether it is whole.

HDF5 keeps at the start of a file its status flags (open for write, open for
SWMR write) and its end of file (EOA). `backend.recording.h5open` reads them
first to choose how to open a file; `FlagsCleared` shows a file whose writer
left the flags set as if they were cleared, without touching the file (only a
resume clears the real flags, `backend.recording.h5clear`).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

from backend.errors import FileFormatError
from backend.recording.h5clear import lookup3

SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Superblock status flags (v3): open for write, open for SWMR write.
WRITE_ACCESS, SWMR_WRITE_ACCESS = 0x1, 0x4
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


class FlagsCleared(io.RawIOBase):
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
