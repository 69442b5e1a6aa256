"""What long backend jobs share: progress reports, cancellation and chunk sizing.

A job is a plain synchronous function. The GUI runs it on a worker thread and
passes a progress callback (called between chunks, from the worker thread) and
a `CancelToken` (checked between chunks). When the token is cancelled the job
raises `backend.errors.Cancelled` and leaves nothing half-written behind.

Every job takes `progress: ProgressFn | None = None, cancel: CancelToken | None = None`
(one contract, one progress shape: `JobProgress`); `JobControl(progress, cancel)`
bundles them for the job's loops.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from backend.errors import Cancelled, SamplelabError

#: Rows per chunk a job reads at a time unless told otherwise (~8 MB for 8 columns).
DEFAULT_CHUNK_ROWS = 1 << 17
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}  # fmt: skip


def parse_memory(value: int | float | str) -> int:
    """Bytes from 123, "200MB" (10^6), "1GiB" (2^30), "1.5 GB", "512KiB"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return int(value)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(value))
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _UNITS or float(match.group(1)) <= 0:
        raise SamplelabError(
            f"cannot read {value!r} as a memory size",
            "Give bytes (e.g. 200000000) or a size such as '200MB', '1GiB', '512KiB'.",
        )
    return int(float(match.group(1)) * _UNITS[unit])


@dataclass(frozen=True)
class JobProgress:
    """One progress report: which stage, and how far through it (rows, bytes...)."""

    stage: str
    done: int
    total: int
    #: What `done` counts, where it is not the caller's default (rows): "B" for bytes.
    #: Keyword-only, so subclasses' own fields keep their positions.
    unit: str = field(default="", kw_only=True)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0


ProgressFn = Callable[[JobProgress], None]


class CancelToken:
    """Set once by whoever runs the job, read by the job; callbacks let a job forward it.

    Thread-safe; usable from a notebook (`token.cancel()` from another cell's thread).
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call `callback` on cancel; at once if that already happened (no race)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` s, waking early on cancel; True if cancelled."""
        return self._event.wait(timeout)


class JobControl:
    """What a job does with its `progress` and `cancel` arguments, in one object."""

    def __init__(self, progress: ProgressFn | None = None, cancel: CancelToken | None = None):
        self.progress = progress
        self.cancel = cancel

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.cancelled

    def check(self) -> None:
        """Raise `Cancelled` if the user asked to stop."""
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()

    def report(self, stage: str, done: int, total: int, unit: str = "") -> None:
        """Check for cancellation, then tell the caller how far the job is."""
        self.check()
        if self.progress is not None:
            self.progress(JobProgress(stage, int(done), int(total), unit=unit))
