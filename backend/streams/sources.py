"""Streams made in memory: seeded random signals and array sequences."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from backend.streams.base import Stream, StreamError, as_rows

_TINY = 2.0**-54  # keeps the inverse normal CDF finite at u == 0


class RandomStream(Stream):
    """Seeded random samples: the same seed gives the same signal, however it is read.

    `distribution='uniform'`: values spread evenly over mean +- level/2 (level
    is the peak-to-peak width; convis put `mean` at the bottom of the range,
    here it is the mean). `'normal'`: mean + level * N(0, 1) (level is the
    standard deviation). Each sample is computed from its own position in one
    PCG64 sequence, so chunk sizes, `seek` and `reset` never change the values.
    """

    seekable = True

    def __init__(
        self,
        channels: int = 1,
        seed: int = 0,
        mean: float = 0.0,
        level: float = 1.0,
        distribution: str = "uniform",
        length: int | None = None,
        fs: float | Fraction | None = None,
        dt: float | Fraction | None = None,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
    ) -> None:
        super().__init__(channels, fs, dt, names, units)
        if distribution not in ("uniform", "normal"):
            raise ValueError(f"distribution must be 'uniform' or 'normal', not {distribution!r}")
        self.seed, self.mean, self.level = int(seed), float(mean), float(level)
        self.distribution = distribution
        self._length = None if length is None else int(length)
        self._seek(0)

    @property
    def length(self) -> int | None:
        return self._length

    def _get(self, n: int) -> np.ndarray:
        if self._length is not None:
            n = min(n, self._length - self.position)
        u = self._rng.random((max(0, n), self.channels))
        if self.distribution == "uniform":
            return self.mean + self.level * (u - 0.5)
        from scipy.special import ndtri  # on use: the GUI starts without scipy

        return self.mean + self.level * ndtri(np.maximum(u, _TINY))

    def _seek(self, sample: int) -> None:
        bits = np.random.PCG64(self.seed)
        bits.advance(sample * self.channels)  # one 64-bit draw per double
        self._rng = np.random.Generator(bits)


class SequenceStream(Stream):
    """An array read front to back; `put` appends, keeping at most `max_length` samples.

    Samples keep their absolute index when old ones roll out: reading a sample
    that was already dropped raises instead of silently skipping it.
    """

    writable = True
    seekable = True

    def __init__(
        self,
        data: np.ndarray | None = None,
        channels: int | None = None,
        fs: float | Fraction | None = None,
        dt: float | Fraction | None = None,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        max_length: int | None = None,
    ) -> None:
        if data is None and channels is None:
            raise ValueError("give the data or the number of channels")
        if data is not None:
            data = np.asarray(data, dtype=np.float64)
            channels = channels or (1 if data.ndim == 1 else data.shape[1])
        super().__init__(int(channels), fs, dt, names, units)
        if max_length is not None and max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.max_length = None if max_length is None else int(max_length)
        self._buf = np.empty((0, self.channels))
        self._lo = self._hi = 0  # held rows are _buf[_lo:_hi]
        self._offset = 0  # absolute index of _buf[_lo]
        if data is not None:
            self._put(as_rows(data, self.channels, "data"))

    @property
    def data(self) -> np.ndarray:
        """The samples held now (read-only view), oldest first."""
        view = self._buf[self._lo : self._hi]
        view.flags.writeable = False
        return view

    @property
    def first_held(self) -> int:
        """Absolute index of the oldest sample still held."""
        return self._offset

    @property
    def length(self) -> int:
        """Samples ever held (absolute index one past the newest)."""
        return self._offset + self._hi - self._lo

    def _get(self, n: int) -> np.ndarray:
        if self.position < self._offset:
            raise StreamError(
                f"samples {self.position}..{self._offset - 1} were dropped before they were read",
                "Raise max_length, or read the stream more often.",
            )
        a = self._lo + self.position - self._offset
        return self._buf[a : min(a + n, self._hi)].copy()

    def _put(self, x: np.ndarray) -> None:
        if self.max_length is not None and len(x) > self.max_length:
            self._drop(self._hi - self._lo)
            self._offset += len(x) - self.max_length
            x = x[-self.max_length :]
        if self._hi + len(x) > len(self._buf):
            self._make_room(len(x))
        self._buf[self._hi : self._hi + len(x)] = x
        self._hi += len(x)
        if self.max_length is not None and self._hi - self._lo > self.max_length:
            self._drop(self._hi - self._lo - self.max_length)

    def _drop(self, n: int) -> None:
        self._lo += n
        self._offset += n

    def _make_room(self, extra: int) -> None:
        """Compact to the front and grow geometrically: appends cost O(1) amortised."""
        held = self._hi - self._lo
        size = max(len(self._buf), 2 * (held + extra), 1024)
        buf = np.empty((size, self.channels)) if size > len(self._buf) else self._buf
        buf[:held] = self._buf[self._lo : self._hi]
        self._buf, self._lo, self._hi = buf, 0, held

    def _seek(self, sample: int) -> None:
        if sample < self._offset:
            raise StreamError(
                f"sample {sample} was dropped (the stream keeps the last {self.max_length})"
            )
