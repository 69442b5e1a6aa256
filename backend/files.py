"""Putting finished files in place (the one home of `os.replace` in the backend) and
opening inputs only when they are regular files.

Every writer writes under a temporary name beside its target and moves the
finished file into place, so nobody ever sees a half-written file under the
real name. On Windows that move fails while another program (a file browser's
preview, Excel, a virus scanner) holds the target open; after a few short
retries it ends in one `FileInUseError` naming the file, and the temporary is
removed, never left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from backend.errors import FileFormatError, FileInUseError

#: Pauses between tries on Windows (about 0.75 s in all): long enough for a virus
#: scanner's look at a new file, short enough not to keep a user waiting.
RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4)
TEMP_SUFFIX = ".partial"
_WINDOWS = os.name == "nt"


def temp_path(target: str | os.PathLike) -> Path:
    """The temporary name a writer uses beside `target` before `replace_file`."""
    target = Path(target)
    return target.with_name(target.name + TEMP_SUFFIX)


def discard(path: str | os.PathLike) -> None:
    """Remove a temporary file or folder of ours; quietly, whatever is (not) there."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def replace_file(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Move the finished temporary `src` onto `dst` (atomic on one volume); returns `dst`.

    `dst` is replaced if it exists. If the move fails, `src` is removed and `dst`
    is left as it was; a target held open elsewhere or write-protected raises
    `FileInUseError` (close it and retry), anything else its own OSError.
    """
    src, dst = Path(src), Path(dst)
    try:
        _replace_with_retries(src, dst)
    except PermissionError as exc:
        discard(src)
        raise FileInUseError(
            f"cannot replace {dst}: it is open in another program or write-protected",
            f"Close {dst.name} wherever it is open (or make it writable) and retry.",
        ) from exc
    except BaseException:
        discard(src)
        raise
    return dst


def _replace_with_retries(src: Path, dst: Path) -> None:
    """os.replace; on Windows a held file gets a few more tries before the error stands."""
    for delay in RETRY_DELAYS_S if _WINDOWS else ():
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            time.sleep(delay)
    os.replace(src, dst)


@contextlib.contextmanager
def written_atomically(path: str | os.PathLike) -> Iterator[Path]:
    """Yield the temporary to write `path` through; once the block ends, it replaces `path`.

    For writers that want a path (`torch.save`, `savefig`): `path` is either old or
    complete, and a failed block leaves no temporary behind.
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        yield tmp
    except BaseException:
        discard(tmp)
        raise
    replace_file(tmp, path)


def publish_new(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Give the finished temporary `src` the name `dst`, which must not exist: never replaces.

    A hard link is exclusive (FileExistsError if `dst` appeared meanwhile); where the
    file system has none (FAT, some network shares) a rename stands in, exclusive on
    Windows and checked just before on POSIX. `src` is gone afterwards either way.
    """
    src, dst = Path(src), Path(dst)
    try:
        try:
            os.link(src, dst)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this file system
            if not _WINDOWS and os.path.lexists(dst):
                raise FileExistsError(errno.EEXIST, "File exists", str(dst)) from None
            os.rename(src, dst)  # on Windows, fails if dst exists
            return dst
    except BaseException:
        discard(src)
        raise
    discard(src)
    return dst


def free_bytes(folder: str | os.PathLike) -> int | None:
    """Bytes a writer may still use in `folder`'s file system; None if it cannot tell."""
    try:
        return int(shutil.disk_usage(folder).free)
    except OSError:
        return None


def describe_bytes(size: float) -> str:
    """'512 bytes', '1.4 MiB': a size as the file managers show it."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` through a temporary, so `path` is either old or complete."""
    with written_atomically(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """`write_bytes_atomic` for text (UTF-8 unless told)."""
    return write_bytes_atomic(path, text.encode(encoding))


# --- opening inputs ---------------------------------------------------------------

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(path: Path, mode: int, what: str) -> FileFormatError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return FileFormatError(
        f"{path} is {kind}; a {what} must be a regular file",
        f"Give the path of a {what} (not a pipe, device or folder).",
    )


def open_regular(path: str | os.PathLike, what: str = "input file") -> BinaryIO:
    """Open an input file for reading, refusing anything but a regular file.

    A FIFO, a device (/dev/zero) or a folder given as a config or data file
    would block the open, never end a read, or fail obscurely; the open does
    not wait (O_NONBLOCK) and the kind is checked on the open descriptor, so
    the check and the read concern the same file.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileFormatError(f"{what} not found: {path}", "Check the path.") from None
    except IsADirectoryError:  # Windows cannot open folders at all
        raise _not_regular(path, stat.S_IFDIR, what) from None
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def is_regular(path: str | os.PathLike) -> bool:
    """Whether `path` is a regular file (never blocks, as `open_regular`)."""
    try:
        open_regular(path).close()
    except FileFormatError:
        return False
    return True


def check_regular(path: str | os.PathLike, what: str = "input file") -> Path:
    """`path` if it is a regular file (see `open_regular`), else one FileFormatError."""
    open_regular(path, what).close()
    return Path(path)


def read_regular_bytes(path: str | os.PathLike, limit: int, what: str = "input file") -> bytes:
    """The whole of a regular file of at most `limit` bytes; larger is refused unread."""
    with open_regular(path, what) as fh:
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(limit + 1) if size <= limit else b""
    if size > limit or len(data) > limit:
        shown = max(size, len(data))
        raise FileFormatError(
            f"{path} is {shown:,} bytes or more; a {what} is at most {limit:,} bytes",
            f"Check that {Path(path).name} is the {what} you meant.",
        )
    return data
