"""A ring buffer between the sampling thread and whoever watches it live.

The sampler appends every batch; views read windows of the most recent rows.
The writer never waits for a reader: there is no lock a reader could hold.
Readers copy what they need and then check the write counter; rows the writer
overwrote meanwhile are dropped from the answer (they had scrolled out anyway).
Rows are addressed by their absolute index since the session started.
"""

from __future__ import annotations

import threading

import numpy as np

from backend.decimate import Envelope, minmax_channels


class LiveBuffer:
    """The last `capacity` rows of `channels` float64 channels, thread-safe."""

    def __init__(
        self,
        channels: int,
        capacity: int,
        names: list[str] | None = None,
        units: list[str] | None = None,
        fs: float = 1.0,
    ) -> None:
        if capacity < 1 or channels < 1:
            raise ValueError("a live buffer needs at least one channel and one row")
        self.channels, self.capacity, self.fs = channels, int(capacity), float(fs)
        self.names = names or [f"ch{i}" for i in range(channels)]
        self.units = units or [""] * channels
        # Channel-major, so each channel's window is contiguous for fast decimation.
        self._data = np.zeros((channels, self.capacity))
        self._total = 0  # rows ever appended; published after the data is in place
        self._writer = threading.Lock()  # serialises writers only; readers never take it

    # --- writing (sampling thread) --------------------------------------------------
    def append(self, rows: np.ndarray) -> None:
        """Add (n, channels) rows; only the last `capacity` of a huge block are kept."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.channels:
            raise ValueError(f"expected (n, {self.channels}) rows, got {rows.shape}")
        with self._writer:
            total, n = self._total, len(rows)
            if n > self.capacity:
                total += n - self.capacity
                rows, n = rows[-self.capacity :], self.capacity
            start = total % self.capacity
            first = min(n, self.capacity - start)
            self._data[:, start : start + first] = rows[:first].T
            self._data[:, : n - first] = rows[first:].T
            self._total = total + n

    def reset(self) -> None:
        with self._writer:
            self._total = 0

    # --- reading (any thread) -------------------------------------------------------
    @property
    def total(self) -> int:
        """Absolute index one past the newest row."""
        return self._total

    @property
    def first_available(self) -> int:
        return max(0, self._total - self.capacity)

    def read(self, start: int, stop: int | None = None) -> tuple[int, np.ndarray]:
        """(first_row, (rows, channels) copy of [start, stop)) clamped to what is held."""
        first, data = self.read_channels(start, stop)
        return first, data.T

    def read_channels(self, start: int, stop: int | None = None) -> tuple[int, np.ndarray]:
        """Like `read`, but channel-major (channels, rows): no transpose, for decimation."""
        total = self._total
        stop = total if stop is None else min(stop, total)
        start = max(start, total - self.capacity, 0)
        if stop <= start:
            return stop, np.empty((self.channels, 0))
        out = self._copy(start, stop)
        # Rows the writer may have overwritten while we copied are no longer valid.
        overwritten = self._total - self.capacity
        if overwritten > start:
            cut = min(overwritten, stop) - start
            out, start = out[:, cut:], start + cut
        return start, out

    def latest(self, rows: int) -> tuple[int, np.ndarray]:
        """The newest `rows` rows (fewer at the start of a session)."""
        total = self._total
        return self.read(total - rows, total)

    def envelope(self, start: int, stop: int, max_points: int) -> Envelope:
        """Min/max decimated window [start, stop), at most `max_points` per channel."""
        first, data = self.read_channels(start, stop)
        return minmax_channels(data, max_points, first_row=first)

    def _copy(self, start: int, stop: int) -> np.ndarray:
        a, b = start % self.capacity, stop % self.capacity
        if b <= a:  # wraps (or spans the whole ring)
            return np.concatenate([self._data[:, a:], self._data[:, :b]], axis=1)
        return self._data[:, a:b].copy()
