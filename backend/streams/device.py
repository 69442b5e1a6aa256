"""The live output of a running sampling session as a stream.

The session calls our listener on its sampling thread after each batch is on
disk. The listener only copies the batch into a `LiveBuffer` (whose writer
never waits for readers) and then *tries* to wake a waiting reader: it takes
the wake-up lock only if nobody holds it (`acquire(blocking=False)`), so the
sampler can never be made to wait by a consumer. It wakes readers at most
every WAKE_INTERVAL_S: in fast mode batches arrive thousands a second, and each
wake-up costs the sampler a GIL hand-off; at the lab's real pace every batch
wakes them. A reader that misses a wake-up finds the rows on its next poll, at
most POLL_S later.

`get(n)` blocks until n rows are there, the session has ended, or `timeout`
seconds passed, and then returns what it has (possibly fewer rows, possibly
none); `timeout=0` never waits. `chunks(n)` keeps waiting, so its chunks are
full until the session ends. A consumer that falls more than `capacity` rows
behind has lost rows: by default that raises (`overrun='raise'`); with
`overrun='skip'` the stream jumps to the oldest row still held, counts the
loss in `dropped`, and keeps time right.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from backend.acquisition.livebuffer import LiveBuffer
from backend.channels import ChannelLayout
from backend.streams.base import Stream, StreamError, sample_count

#: Longest a waiting reader sleeps before looking at the buffer again.
POLL_S = 0.05
#: Shortest time between two wake-ups of waiting readers.
WAKE_INTERVAL_S = 0.01
#: Default buffer: at least this many rows, and at least 16 batches.
MIN_CAPACITY_ROWS = 1 << 19
_UNSET: Any = object()
_FINISHED = ("complete", "cancelled", "failed")


def batch_blocks(batch: Any, part: str = "all") -> tuple[np.ndarray, ...]:
    """The column blocks of a BatchResult a stream carries: inputs and outputs, or one.

    Kept apart: `LiveBuffer.append` writes them side by side without a joined copy.
    """
    if part == "inputs":
        return (batch.inputs,)
    if part == "outputs":
        return (batch.outputs,)
    return (batch.inputs, batch.outputs)


def live_listener(buffer: LiveBuffer, part: str = "all") -> Callable[[Any], None]:
    """A session listener that appends each batch to `buffer` (and does nothing else)."""

    def listener(batch: Any) -> None:
        buffer.append(*batch_blocks(batch, part))

    return listener


class DeviceStream(Stream):
    """Rows of a SamplingSession as it samples them; see the module docstring.

    Create it before the session runs to see every batch. Stream sample 0 is
    recording row `first_row` (0, or where a resumed recording continues).
    """

    seekable = True

    def __init__(
        self,
        session: Any,
        part: str = "all",
        capacity: int | None = None,
        timeout: float | None = 10.0,
        overrun: str = "raise",
    ) -> None:
        if part not in ("all", "inputs", "outputs"):
            raise ValueError(f"part must be 'all', 'inputs' or 'outputs', not {part!r}")
        if overrun not in ("raise", "skip"):
            raise ValueError(f"overrun must be 'raise' or 'skip', not {overrun!r}")
        config = session.plan.config
        layout = ChannelLayout.of_config(config).part(part)
        names, units = list(layout.names), list(layout.units)
        super().__init__(len(names), fs=config.fs, names=names, units=units)
        capacity = capacity or max(MIN_CAPACITY_ROWS, 16 * config.batch_points)
        self.buffer = LiveBuffer(len(names), capacity, names, units, config.fs)
        self.session, self.part = session, part
        self.timeout, self.overrun = timeout, overrun
        self.dropped = 0
        self.first_row: int | None = None  # recording row of stream sample 0
        self._next_row: int | None = None
        self._fault: str | None = None
        self._wake = threading.Condition(threading.Lock())
        self._wanted = 0  # a waiting reader needs rows up to here; no wake-up before
        self._last_wake = float("-inf")
        self._attached = True
        session.add_listener(self._on_batch)

    # --- the sampling thread's side: copy, try to wake, never wait ---------------------
    def _on_batch(self, batch: Any) -> None:
        if not self._attached:
            return
        if self._next_row is None:
            self.first_row = self._next_row = int(batch.first_row)
        if batch.first_row != self._next_row:
            self._fault = (
                f"batch {batch.index} starts at row {batch.first_row}, expected {self._next_row}"
            )
        else:
            blocks = batch_blocks(batch, self.part)
            self.buffer.append(*blocks)
            self._next_row += len(blocks[0])
        # Wake a reader only when what it waits for is there, and not more often
        # than WAKE_INTERVAL_S: every wake-up costs the sampler a GIL hand-off.
        if self.buffer.total < self._wanted:
            return
        now = time.monotonic()
        if now - self._last_wake >= WAKE_INTERVAL_S and self._wake.acquire(blocking=False):
            self._last_wake = now
            try:
                self._wake.notify_all()
            finally:
                self._wake.release()

    # --- the consumer's side -------------------------------------------------------------
    @property
    def session_done(self) -> bool:
        """The session finished (its last batch, if any, is already in the buffer)."""
        return getattr(self.session, "state", "") in _FINISHED

    @property
    def length(self) -> int | None:
        return self.buffer.total if self.session_done else None

    @property
    def endless(self) -> bool:
        return False  # a session always ends: complete, cancelled or failed

    @property
    def available(self) -> int:
        return max(0, self.buffer.total - self.position)

    @property
    def ended(self) -> bool:
        return self.session_done and self.position >= self.buffer.total

    def get(self, n: int, timeout: float | None = _UNSET) -> np.ndarray:
        """Up to `n` rows: waits up to `timeout` s (default: the stream's) for all n."""
        self._check_open()
        self._wait_for(sample_count(n), self.timeout if timeout is _UNSET else timeout)
        return super().get(n)

    def _wait_for(self, n: int, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._wanted = self.position + n
        while self.buffer.total - self.position < n and not self.session_done:
            self._check_fault()
            left = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
            if left <= 0:
                return
            with self._wake:
                if self.buffer.total - self.position < n:  # not arrived while we locked
                    self._wake.wait(left)

    def _get(self, n: int) -> np.ndarray:
        """What the buffer holds of the next n rows, without waiting."""
        self._check_fault()
        oldest = self.buffer.first_available
        if self.position < oldest:
            self._overrun(oldest)
        stop = min(self.position + n, self.buffer.total)
        first, data = self.buffer.read(self.position, stop)
        if first > self.position:  # lapped while we copied
            self._overrun(first)
        return np.ascontiguousarray(data)

    def _idle(self) -> None:
        """`get` already waited; nothing to add."""

    def _overrun(self, first: int) -> None:
        lost = first - self.position
        if self.overrun == "raise":
            raise StreamError(
                f"the consumer fell behind the session: samples {self.position}..{first - 1} "
                f"({lost} rows) were overwritten before they were read",
                "Read more often, or give the DeviceStream a larger capacity.",
            )
        self.dropped += lost
        self.position = first

    def _check_fault(self) -> None:
        if self._fault:
            raise StreamError(f"the live stream lost its order: {self._fault}")

    def _seek(self, sample: int) -> None:
        if sample < self.buffer.first_available:
            raise StreamError(
                f"sample {sample} is no longer held (the buffer keeps {self.buffer.capacity} rows)"
            )

    def _close(self) -> None:
        self._attached = False  # a batch already on its way is ignored
        remove = getattr(self.session, "remove_listener", None)
        if remove is not None:
            remove(self._on_batch)
