"""Putting finished files in place: the one home of `os.replace` in the backend.

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
import time
from collections.abc import Iterator
from pathlib import Path

from backend.errors import FileInUseError

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
