"""The stream contract: `get(n)` the next n samples, `put(x)` to append, in time order.

A stream is a (samples, channels) signal read front to back. Its clock is an
integer sample counter (`position`); the sampling rate is kept as an exact
fraction, so `t = t0 + position / fs` and every seconds-to-samples conversion
is integer arithmetic that never drifts, however many small steps are taken.
Subclasses implement `_get(n)` (and `_put` when writable); the base class does
the bookkeeping, the checks and the chunked iteration.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from backend.errors import SamplelabError

#: How long `chunks()` sleeps before asking a stream that is not done again.
IDLE_WAIT_S = 0.02
_MAX_DENOMINATOR = 10**6


class StreamError(SamplelabError):
    """A stream cannot do what was asked (read-only, closed, wrong shape, lost data)."""


def exact(value: float | int | Fraction | str) -> Fraction:
    """A number as the simplest fraction that is the same float: 0.1 -> 1/10, 1/48000 -> 1/48000.

    Falls back to the float's decimal spelling when no fraction with a
    denominator up to 10^6 gives back the same float.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, str):
        return Fraction(value)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    spelled = Fraction(repr(value))
    simple = spelled.limit_denominator(_MAX_DENOMINATOR)
    return simple if float(simple) == value else spelled


def rate_of(fs: float | Fraction | None = None, dt: float | Fraction | None = None) -> Fraction:
    """The sampling rate (Hz) as an exact fraction, from `fs` or from `dt` (seconds)."""
    if fs is not None and dt is not None:
        raise ValueError("give the sampling rate (fs) or the interval (dt), not both")
    rate = exact(fs) if fs is not None else 1 / exact(dt) if dt is not None else Fraction(1)
    if rate <= 0:
        raise ValueError(f"the sampling rate must be positive, not {float(rate)}")
    return rate


def nearest_int(x: Fraction) -> int:
    """Round half up, exactly (Python's round() rounds half to even)."""
    return math.floor(x + Fraction(1, 2))


def as_rows(x: Any, channels: int, what: str = "put") -> np.ndarray:
    """Samples as a (n, channels) float64 array; a 1-D array is one sample per row."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1 and channels == 1:
        x = x[:, None]
    elif x.ndim == 1 and len(x) == channels:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != channels:
        raise StreamError(
            f"{what}: expected samples of shape (n, {channels}), got {x.shape}",
            "Arrays are (samples, channels): one row per sample.",
        )
    return x


class Stream:
    """Base of every stream: time, channels, chunked reading; see the module docstring."""

    writable = False
    seekable = False

    def __init__(
        self,
        channels: int,
        fs: float | Fraction | None = None,
        dt: float | Fraction | None = None,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        t0: float = 0.0,
    ) -> None:
        self.channels = int(channels)
        if self.channels < 1:
            raise ValueError("a stream needs at least one channel")
        self.rate = rate_of(fs, dt)
        self.names = list(names) if names is not None else [f"ch{i}" for i in range(channels)]
        self.units = list(units) if units is not None else [""] * self.channels
        if len(self.names) != self.channels or len(self.units) != self.channels:
            raise ValueError(f"give one name and one unit per channel ({self.channels})")
        self.t0 = float(t0)
        self.position = 0  # samples handed out so far: the stream's integer clock
        self.closed = False
        self._cursor = Fraction(0)  # seconds asked for through get_seconds (exact)

    # --- clock -----------------------------------------------------------------------
    @property
    def fs(self) -> float:
        return float(self.rate)

    @property
    def dt(self) -> float:
        return float(1 / self.rate)

    @property
    def t(self) -> float:
        """Time (s) of the next sample `get` will return."""
        return self.t0 + float(self.position / self.rate)

    def samples_in(self, seconds: float | Fraction) -> int:
        """Whole samples in `seconds` (nearest), exactly."""
        return nearest_int(exact(seconds) * self.rate)

    # --- size --------------------------------------------------------------------------
    @property
    def length(self) -> int | None:
        """Total samples when the stream is finite and known, else None (endless/live)."""
        return None

    @property
    def endless(self) -> bool:
        """True for a stream that never ends by itself (a live one ends when its source does)."""
        return self.length is None

    def __len__(self) -> int:
        length = self.length
        if length is None:
            raise TypeError(f"{type(self).__name__} is endless or live: it has no length yet")
        return length

    @property
    def available(self) -> int | None:
        """Samples `get` can return right now without waiting; None = unlimited."""
        length = self.length
        return None if length is None else max(0, length - self.position)

    @property
    def ended(self) -> bool:
        """True once no sample will ever come again (finite stream read to its end)."""
        length = self.length
        return length is not None and self.position >= length

    # --- reading -----------------------------------------------------------------------
    def get(self, n: int) -> np.ndarray:
        """The next `n` samples as (n, channels) float64, advancing time.

        Returns fewer rows only at the end of a finite stream (or, for a live
        stream, when its timeout passed; see DeviceStream), and (0, channels)
        once it ended.
        """
        self._check_open()
        n = sample_count(n)
        x = self._get(n) if n else np.empty((0, self.channels))
        self.position += len(x)
        return x

    def get_seconds(self, seconds: float | Fraction) -> np.ndarray:
        """The samples of the next `seconds`; repeated calls never drift (exact clock)."""
        if nearest_int(self._cursor * self.rate) != self.position:
            self._cursor = Fraction(self.position) / self.rate  # someone called get(n)
        self._cursor += exact(seconds)
        return self.get(max(0, nearest_int(self._cursor * self.rate) - self.position))

    def chunks(
        self, n: int, max_samples: int | None = None, max_t: float | None = None
    ) -> Iterator[np.ndarray]:
        """Consecutive chunks of `n` samples in time order; the last one may be short.

        Stops when the stream ends, after `max_samples` samples, or after
        `max_t` seconds of signal. Nothing is dropped: the chunks joined equal
        one `get` of everything. A live stream is waited for.
        """
        n = sample_count(n)
        if n == 0:
            raise ValueError("the chunk size must be at least 1")
        limit = max_samples
        if max_t is not None:
            by_time = self.samples_in(max_t)
            limit = by_time if limit is None else min(limit, by_time)
        done = 0
        while limit is None or done < limit:
            want = n if limit is None else min(n, limit - done)
            chunk = self._fill(want)
            if len(chunk) == 0:
                return
            done += len(chunk)
            yield chunk
            if len(chunk) < want:
                return

    def _fill(self, want: int) -> np.ndarray:
        """Exactly `want` samples, fewer only if the stream ends first."""
        parts, got = [], 0
        while got < want:
            x = self.get(want - got)
            if len(x):
                parts.append(x)
                got += len(x)
            elif self.ended or self.closed:
                break
            else:
                self._idle()
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.empty((0, self.channels))

    def _idle(self) -> None:
        """Wait a little before asking a live stream again (device streams block in get)."""
        time.sleep(IDLE_WAIT_S)

    # --- writing ------------------------------------------------------------------------
    def put(self, x: Any) -> None:
        """Append samples ((n, channels), a torch tensor, or one sample as (channels,))."""
        self._check_open()
        if not self.writable:
            raise StreamError(f"{type(self).__name__} is read-only: it cannot take samples")
        self._put(as_rows(x, self.channels))

    # --- position and lifetime ------------------------------------------------------------
    def reset(self) -> None:
        """Back to the first sample (a random stream replays the same values)."""
        self._check_open()
        self._reset()
        self.position = 0
        self._cursor = Fraction(0)

    def seek(self, sample: int) -> None:
        """Jump to an absolute sample index (file and sequence streams)."""
        self._check_open()
        if not self.seekable:
            raise StreamError(f"{type(self).__name__} cannot seek")
        sample = sample_count(sample)
        length = self.length
        if length is not None and sample > length:
            raise StreamError(f"cannot seek to sample {sample}: the stream has {length}")
        self._seek(sample)
        self.position = sample

    def close(self) -> None:
        """Release files and listeners; safe to call twice."""
        if not self.closed:
            self.closed = True
            self._close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        length = self.length
        size = "endless" if self.endless else "live" if length is None else f"{length} samples"
        return (
            f"<{type(self).__name__} {self.channels} ch, {size}, fs={self.fs:g} Hz, "
            f"at {self.position}>"
        )

    # --- for subclasses ---------------------------------------------------------------
    def _get(self, n: int) -> np.ndarray:
        raise NotImplementedError

    def _put(self, x: np.ndarray) -> None:
        raise NotImplementedError

    def _reset(self) -> None:
        if not self.seekable:
            raise StreamError(f"{type(self).__name__} cannot go back to its start")
        self._seek(0)

    def _seek(self, sample: int) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Nothing to release by default."""

    def _check_open(self) -> None:
        if self.closed:
            raise StreamError(f"{type(self).__name__} is closed")


def sample_count(n: Any) -> int:
    """A sample count: a non-negative integer (no floats: no float bin indices)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"a sample count is an integer, not {type(n).__name__} ({n!r})")
    if n < 0:
        raise ValueError(f"a sample count cannot be negative ({n})")
    return int(n)
