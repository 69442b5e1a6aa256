"""The npz container, read without pickle: members, checked headers, rows, memory maps.

An npz is a zip of `.npy` members. Numeric members are read with
`allow_pickle=False`, always: each member's `.npy` header is checked against
its size before anything is mapped or allocated, stored (uncompressed)
members are memory-mapped straight out of the zip, and big members stream in
row blocks. A memory map never reads the zip's CRC-32, so readers that read
every row anyway (exports, training) ask for `verified=True`: one streaming
pass of `zlib.crc32` over each stored member before it is mapped. Browsing
(windowed reads) stays lazy and unverified. `load_pickled_member` is the one
place an npz is ever unpickled, and only with trust
(`backend.data.formats.trust.require_trust`).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npformat

from backend.data.formats.trust import require_trust
from backend.errors import FileFormatError
from backend.files import check_regular, open_regular

#: Damage inside a zip member surfaces as any of these (bad CRC, cut deflate stream, a
#: flipped compression method: NotImplementedError, a flipped encryption bit: RuntimeError).
MEMBER_ERRORS = (
    ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error, NotImplementedError,
    RuntimeError,
)  # fmt: skip

DAMAGED_HINT = (
    "The file was altered on disk or in a copy; restore it from a copy, or re-run "
    "postprocess (or the export) that wrote it."
)
_CRC_CHUNK = 1 << 23  # 8 MiB: crc32 releases the GIL; the buffer is reused


def damaged(path: Path, key: str, why: str = "its checksum does not match") -> FileFormatError:
    """The one message for a member whose bytes are not the ones the zip recorded."""
    return FileFormatError(f"{path}: member {key!r} is damaged ({why})", DAMAGED_HINT)


def open_zip(path: Path) -> zipfile.ZipFile:
    fh = open_regular(path, "npz file")
    try:
        return zipfile.ZipFile(fh)
    except MEMBER_ERRORS as exc:
        fh.close()
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None


def _checked_header(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str
) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran, dtype, data offset) of a member whose size matches its header.

    A header claiming more rows than the member holds would make a memory map
    fail ("mmap length is greater than file size") or a load allocate for data
    that is not there; it is refused here, before either.
    """
    try:
        with zf.open(info) as fh:
            shape, fortran, dtype = read_npy_header(fh, where)
            data_at = fh.tell()
    except FileFormatError:
        raise
    except MEMBER_ERRORS as exc:
        raise FileFormatError(f"{where} is damaged ({exc})") from None
    if not dtype.hasobject:
        expected = data_at + int(np.prod(shape, dtype=object)) * dtype.itemsize
        if expected != info.file_size:
            raise FileFormatError(
                f"{where} is damaged: its header says {dtype} {shape} "
                f"({expected - data_at:,} bytes) but it holds {info.file_size - data_at:,} bytes",
                "The file was cut off or altered; copy or export it again.",
            )
    return shape, fortran, dtype, data_at


def npz_keys(path: str | os.PathLike) -> list[str]:
    """The array names in an npz, in file order."""
    with open_zip(Path(path)) as zf:
        return [n[:-4] for n in zf.namelist() if n.endswith(".npy")]


def read_npy_header(fh: Any, where: str = "the array") -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of an `.npy` stream, leaving `fh` at the data."""
    try:
        version = npformat.read_magic(fh)
        if version == (1, 0):
            return npformat.read_array_header_1_0(fh, max_header_size=100_000)
        if version == (2, 0):
            return npformat.read_array_header_2_0(fh, max_header_size=100_000)
    except Exception as exc:  # numpy's header parser raises ValueError, TokenError, ...
        raise FileFormatError(f"{where} is not a readable .npy array ({exc})") from None
    raise FileFormatError(f"{where} uses .npy format {version}, which is not supported")


def _member(zf: zipfile.ZipFile, path: Path, key: str) -> Any:
    try:
        return zf.open(key + ".npy")
    except MEMBER_ERRORS as exc:
        raise FileFormatError(f"{path}: member {key!r} is damaged ({exc})") from None
    except KeyError:
        have = ", ".join(n[:-4] for n in zf.namelist()) or "nothing"
        raise FileFormatError(
            f"{path} has no {key!r} array (it holds {have})",
            "bspysmg datasets hold 'inputs', 'outputs' and 'sampling_configs'.",
        ) from None


def npz_array_info(path: str | os.PathLike, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of one member, from its header alone."""
    path = Path(path)
    with open_zip(path) as zf, _member(zf, path, key) as fh:
        shape, _, dtype = read_npy_header(fh, f"{path}: member {key!r}")
    return shape, dtype


def npz_members(path: str | os.PathLike) -> list[dict]:
    """key, shape, dtype of every member, from the .npy headers (nothing unpickled)."""
    path = Path(path)
    out = []
    with open_zip(path) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            where = f"{path}: member {info.filename[:-4]!r}"
            shape, _, dtype, _ = _checked_header(zf, info, where)
            usable = dtype.kind in "biuf" and len(shape) in (1, 2)
            out.append(
                {
                    "key": info.filename[:-4],
                    "shape": list(shape),
                    "dtype": str(dtype),
                    "usable": usable,
                }
            )
    return out


def iter_npz_rows(
    path: str | os.PathLike, key: str, rows: int = 1 << 17
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first_row, block) of a numeric member without loading it whole."""
    path = Path(path)
    with open_zip(path) as zf, _member(zf, path, key) as fh:
        shape, fortran, dtype = read_npy_header(fh, f"{path}: member {key!r}")
        if dtype.hasobject:
            raise FileFormatError(f"{path}: {key!r} holds Python objects, not numbers")
        if fortran and len(shape) > 1:
            data = np.load(path, allow_pickle=False)[key]
            for start in range(0, shape[0], rows):
                yield start, np.ascontiguousarray(data[start : start + rows])
            return
        row_shape = shape[1:]
        row_bytes = dtype.itemsize * int(np.prod(row_shape, dtype=np.int64))
        total = shape[0] if shape else 1
        for start in range(0, total, rows):
            n = min(rows, total - start)
            try:
                raw = fh.read(n * row_bytes)  # zipfile checks the CRC-32 at the member's end
            except MEMBER_ERRORS as exc:
                raise damaged(path, key, _why(exc)) from None
            if len(raw) != n * row_bytes:
                raise FileFormatError(f"{path}: {key!r} is truncated at row {start}")
            yield start, np.frombuffer(raw, dtype=dtype).reshape((n, *row_shape))


def npz_member_array(path: str | os.PathLike, key: str, verified: bool = False) -> np.ndarray:
    """One numeric member, memory-mapped inside the zip when stored, else loaded; no pickle.

    `verified=True` first checks a stored member's CRC-32 in one streaming pass
    (a loaded member is checked by zipfile as it is read): for readers that
    read every row anyway, so a flipped byte is refused instead of trained on.
    """
    path = Path(path)
    with open_zip(path) as zf:
        info = zf.NameToInfo.get(f"{key}.npy")
        if info is not None:
            shape, fortran, dtype, data_at = _checked_header(zf, info, f"{path}: member {key!r}")
        stored = info is not None and info.compress_type == zipfile.ZIP_STORED
        if stored and dtype.kind in "biuf" and not fortran and int(np.prod(shape)) > 0:
            start = _stored_start(path, info)
            if verified:
                check_member_crc(path, info, start)
            return np.memmap(path, dtype, "r", start + data_at, shape)
    with load_npz_file(path) as data:
        try:
            return data[key]
        except KeyError:
            raise FileFormatError(f"{path} has no {key!r} array") from None
        except MEMBER_ERRORS as exc:  # an object member (refused without pickle), damage
            if "allow_pickle" in str(exc):
                raise FileFormatError(
                    f"{path}: member {key!r} is not plain numbers ({exc})"
                ) from None
            raise damaged(path, key, _why(exc)) from None


def _why(exc: BaseException) -> str:
    text = str(exc)
    return "its checksum does not match" if "CRC" in text else text


def _stored_start(path: Path, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes begin: past its local zip header."""
    with open_regular(path, "npz file") as raw:
        raw.seek(info.header_offset + 26)
        names = int.from_bytes(raw.read(2), "little")
        extra = int.from_bytes(raw.read(2), "little")
    return info.header_offset + 30 + names + extra


def check_member_crc(path: Path, info: zipfile.ZipInfo, start: int) -> None:
    """Raise `damaged` unless the stored member's bytes match the zip's CRC-32 (one pass)."""
    key = info.filename.removesuffix(".npy")
    crc, left = 0, info.compress_size
    buf = memoryview(bytearray(min(_CRC_CHUNK, max(left, 1))))
    with open_regular(path, "npz file") as fh:
        fh.seek(start)
        while left > 0:
            n = fh.readinto(buf[: min(len(buf), left)])
            if not n:
                raise damaged(path, key, "it is cut off")
            crc = zlib.crc32(buf[:n], crc)
            left -= n
    if crc != info.CRC:
        raise damaged(path, key)


def load_npz_file(path: Path) -> Any:
    check_regular(path, "npz file")
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileFormatError(f"{path} not found") from None
    except MEMBER_ERRORS as exc:
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None


def load_pickled_member(path: str | os.PathLike, key: str, trust_pickle: bool, message: str) -> Any:
    """An object member, unpickled: the only place an npz is ever unpickled."""
    require_trust(trust_pickle, message)
    try:
        with np.load(path, allow_pickle=True) as data:
            value = data[key]
    except Exception as exc:  # unpickling may raise anything
        raise FileFormatError(f"{path}: its pickled {key!r} cannot be read ({exc})") from None
    return value.item() if value.shape == () else value
