"""What long backend jobs share: progress reports and cancellation.

A job is a plain synchronous function. The GUI runs it on a worker thread and
passes `on_progress` (called between chunks, from the worker thread) and
`cancelled` (polled between chunks; e.g. `threading.Event().is_set`). When
`cancelled()` turns true the job raises `backend.errors.Cancelled` and leaves
nothing half-written behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from backend.errors import Cancelled


@dataclass(frozen=True)
class JobProgress:
    """One progress report: which stage, and how far through it (rows, bytes...)."""

    stage: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0


ProgressFn = Callable[[JobProgress], None]
CancelFn = Callable[[], bool]


class JobControl:
    """Bundles a job's progress callback and cancellation check."""

    def __init__(
        self, on_progress: ProgressFn | None = None, cancelled: CancelFn | None = None
    ) -> None:
        self.on_progress = on_progress
        self.cancelled = cancelled

    def check(self) -> None:
        """Raise `Cancelled` if the user asked to stop."""
        if self.cancelled is not None and self.cancelled():
            raise Cancelled()

    def report(self, stage: str, done: int, total: int) -> None:
        """Check for cancellation, then tell the caller how far the job is."""
        self.check()
        if self.on_progress is not None:
            self.on_progress(JobProgress(stage, int(done), int(total)))


def as_control(
    control: JobControl | None = None,
    on_progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> JobControl:
    """The given control, or one built from loose callbacks."""
    return control if control is not None else JobControl(on_progress, cancelled)
