"""A ring buffer between the sampling thread and whoever watches it live.

The sampler appends every batch; views read windows of the most recent rows.
The writer never waits for a reader: there is no lock a reader could hold.
Readers copy (or decimate) what they need and then check the write counters;
rows the writer overwrote meanwhile are dropped from the answer (they had
scrolled out anyway). Rows are addressed by their absolute index since the
session started.

Consistency works like a sequence lock: before touching the ring the writer
publishes `_claimed` (one past the last row it may be writing), and only after
the rows are in place does it publish `_total`. A reader takes `_total` before
reading and `_claimed` after: every row below `_claimed - capacity` may have
been overwritten during the read, every other row it read is intact.
"""

from __future__ import annotations

import threading

import numpy as np

from backend.display.decimate import Envelope, bin_step, minmax_segments


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
        self.channels, self.capacity, self.fs = int(channels), int(capacity), float(fs)
        self.names = list(names) if names else [f"ch{i}" for i in range(self.channels)]
        self.units = list(units) if units else [""] * self.channels
        # Channel-major, so each channel's window is contiguous for fast decimation.
        # Filled here, not lazily zeroed: otherwise the sampler's first pass over
        # the ring pays a page fault every 4 KiB (6x the cost of its copy).
        self._data = np.empty((self.channels, self.capacity))
        self._data.fill(0.0)
        self._total = 0  # rows ever appended; published after the data is in place
        self._claimed = 0  # rows the writer may have started writing; published before
        self._writer = threading.Lock()  # serialises writers only; readers never take it

    # --- writing (sampling thread) --------------------------------------------------
    def append(self, *blocks: np.ndarray) -> None:
        """Add rows: one (n, channels) array, or column blocks side by side.

        Blocks ((n, a), (n, b), ... with a + b + ... = channels) go straight into
        the ring, so a batch's inputs and outputs need not be joined first. Only
        the last `capacity` rows of a huge append are kept.
        """
        parts = [np.asarray(b, dtype=np.float64) for b in blocks]
        widths = [p.shape[1] if p.ndim == 2 else -1 for p in parts]
        if not parts or sum(widths) != self.channels or len({len(p) for p in parts}) != 1:
            shapes = ", ".join(str(p.shape) for p in parts)
            raise ValueError(f"expected rows of {self.channels} channels in all, got {shapes}")
        with self._writer:
            total, n = self._total, len(parts[0])
            if n == 0:
                return
            end = total + n
            if n > self.capacity:
                parts, n = [p[-self.capacity :] for p in parts], self.capacity
            self._claimed = end  # announce before any slot changes
            start = (end - n) % self.capacity
            first = min(n, self.capacity - start)
            channel = 0
            for part, width in zip(parts, widths, strict=True):
                rows = self._data[channel : channel + width]
                rows[:, start : start + first] = part[:first].T
                rows[:, : n - first] = part[first:].T
                channel += width
            self._total = end

    def reset(self) -> None:
        with self._writer:
            self._total = 0
            self._claimed = 0

    # --- reading (any thread) -------------------------------------------------------
    @property
    def total(self) -> int:
        """Absolute index one past the newest row."""
        return self._total

    @property
    def first_available(self) -> int:
        return max(0, self._claimed - self.capacity)

    def read(self, start: int, stop: int | None = None) -> tuple[int, np.ndarray]:
        """(first_row, (rows, channels) copy of [start, stop)) clamped to what is held.

        One transposing copy straight from the ring into a C-ordered result.
        """
        start, stop = self._window(start, stop)
        if stop <= start:
            return stop, np.empty((0, self.channels))
        out = np.empty((stop - start, self.channels))
        at = 0
        for segment in self._segments(start, stop):
            out[at : at + segment.shape[1]] = segment.T
            at += segment.shape[1]
        valid = self._valid_from()
        if valid > start:  # the writer lapped part of what we copied
            cut = min(valid, stop) - start
            out, start = out[cut:], start + cut
        return start, out

    def read_channels(self, start: int, stop: int | None = None) -> tuple[int, np.ndarray]:
        """Like `read`, but channel-major (channels, rows): no transpose, for decimation."""
        start, stop = self._window(start, stop)
        if stop <= start:
            return stop, np.empty((self.channels, 0))
        segments = self._segments(start, stop)
        out = segments[0].copy() if len(segments) == 1 else np.concatenate(segments, axis=1)
        valid = self._valid_from()
        if valid > start:  # the writer lapped part of what we copied
            cut = min(valid, stop) - start
            out, start = out[:, cut:], start + cut
        return start, out

    def latest(self, rows: int) -> tuple[int, np.ndarray]:
        """The newest `rows` rows (fewer at the start of a session)."""
        total = self._total
        return self.read(total - rows, total)

    def envelope(self, start: int, stop: int, max_points: int) -> Envelope:
        """Min/max decimated window [start, stop), at most `max_points` per channel.

        Decimates straight from the ring (no copy of the window); bins the
        writer overwrote meanwhile are dropped, like rows in `read`.
        """
        start, stop = self._window(start, stop)
        if stop <= start:
            empty = np.empty((0, self.channels))
            return Envelope(np.empty(0, dtype=np.int64), empty, empty, 1)
        step = bin_step(stop - start, max_points)
        env = minmax_segments(self._segments(start, stop), max_points, start, step)
        valid = self._valid_from()
        if valid > start:
            keep = env.starts >= valid
            mins, maxs = env.mins[keep], env.maxs[keep]
            if step == 1:
                mins = maxs = mins.copy()
            return Envelope(env.starts[keep], mins, maxs, step)
        if step == 1:  # the views point into the ring: copy what we hand out
            data = env.mins.copy()
            return Envelope(env.starts, data, data, 1)
        return env

    # --- internals --------------------------------------------------------------------
    def _window(self, start: int, stop: int | None) -> tuple[int, int]:
        total = self._total
        stop = total if stop is None else min(int(stop), total)
        start = max(int(start), self._claimed - self.capacity, 0)
        return start, stop

    def _valid_from(self) -> int:
        """Rows below this may have been overwritten since the caller's read began."""
        return self._claimed - self.capacity

    def _segments(self, start: int, stop: int) -> list[np.ndarray]:
        """Views of the ring holding rows [start, stop) in order (one or two pieces)."""
        a, b = start % self.capacity, stop % self.capacity
        if b <= a:  # wraps (or spans the whole ring)
            return [self._data[:, a:], self._data[:, :b]]
        return [self._data[:, a:b]]
