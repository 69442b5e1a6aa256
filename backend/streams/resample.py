"""A stream at another sampling rate, computed chunk by chunk with exact integer indexing.

The new rate is a fraction up/down of the old one (reduced, exact: 5 kHz ->
1 kHz is 1/5, 44.1 kHz -> 48 kHz is 160/147), so output sample j always sits
at input position j * down / up and no float ever picks a sample. Methods:

- `poly` (default): anti-aliased polyphase FIR, the filter and alignment of
  `scipy.signal.resample_poly` (window ('kaiser', 5.0), zero padding at both
  ends). Each chunk is run through `scipy.signal.upfirdn` with just enough
  earlier input kept, so the streamed result equals resample_poly on the whole
  signal (to rounding) whatever the chunk sizes. Output j needs input up to
  about 10 * max(up, down) / up samples ahead, so a live source is that much
  behind.
- `pick`: no filter; output j is input floor(j * down / up) (decimation picks
  every down-th sample, upsampling holds each sample). Bit-exact.
- `mean`: integer downsampling by block averages (up must be 1), what the NI
  readout does with its oversampled points; the last block may be partial.

A finite source of n samples gives ceil(n * up / down) samples.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from backend.streams.base import Stream, StreamError, rate_of

#: Largest up or down factor accepted (the FIR has 20 * max(up, down) + 1 taps).
MAX_FACTOR = 1000
METHODS = ("poly", "pick", "mean")


class ResampleStream(Stream):
    """`source` at rate `fs` (or interval `dt`, or factor `up`/`down`); see the module."""

    def __init__(
        self,
        source: Stream,
        fs: float | Fraction | None = None,
        dt: float | Fraction | None = None,
        up: int | None = None,
        down: int | None = None,
        method: str = "poly",
        window: object = ("kaiser", 5.0),
        close_source: bool = True,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {method!r}")
        if up is not None or down is not None:
            if fs is not None or dt is not None:
                raise ValueError("give a new rate (fs or dt) or factors (up, down), not both")
            ratio = Fraction(int(up or 1), int(down or 1))
        else:
            ratio = rate_of(fs, dt) / source.rate
        if ratio <= 0:
            raise ValueError("resampling factors must be positive")
        self.up, self.down = ratio.numerator, ratio.denominator
        if max(self.up, self.down) > MAX_FACTOR:
            raise StreamError(
                f"the new rate is {self.up}/{self.down} of the old one: too fine a fraction",
                f"Choose a rate whose ratio to {source.fs:g} Hz is a simple fraction.",
            )
        if method == "mean" and self.up != 1:
            raise StreamError("method 'mean' only downsamples by an integer factor")
        super().__init__(
            source.channels, fs=source.rate * ratio, names=source.names, units=source.units,
            t0=source.t,
        )  # fmt: skip
        self.source, self.method, self.close_source = source, method, close_source
        self._lead = 0  # poly: outputs the filter's delay removes at the front
        if method == "poly" and (self.up, self.down) != (1, 1):
            self._design(window)
        self._start_history()

    def _design(self, window: object) -> None:
        up, down = self.up, self.down
        half = 10 * max(up, down)
        from scipy import signal  # on use: the GUI starts without scipy.signal

        h = signal.firwin(2 * half + 1, 1.0 / max(up, down), window=window) * up
        pre = down - half % down
        self._h = np.concatenate([np.zeros(pre), h])
        self._lead = (half + pre) // down

    def _start_history(self) -> None:
        self._hist = np.empty((0, self.channels))
        self._hist_start = 0  # input index of _hist[0]
        self._n_in = 0  # input samples taken from the source

    # --- sizes -----------------------------------------------------------------------------
    def _outputs_for(self, n_in: int, final: bool) -> int:
        """Output samples computable from the first n_in inputs (all of them if final)."""
        up, down = self.up, self.down
        if final:
            return -(-n_in * up // down)
        if n_in == 0:
            return 0
        if self.method == "mean":
            return n_in // down
        return max(0, (n_in * up - 1) // down + 1 - (self._lead if self._filtered else 0))

    def _inputs_for(self, j_end: int) -> int:
        """Inputs needed (from the start) to compute outputs [0, j_end)."""
        if j_end <= 0:
            return 0
        if self.method == "mean":
            return j_end * self.down
        lead = self._lead if self._filtered else 0
        return (j_end - 1 + lead) * self.down // self.up + 1

    @property
    def _filtered(self) -> bool:
        return self.method == "poly" and (self.up, self.down) != (1, 1)

    @property
    def length(self) -> int | None:
        n = self.source.length
        return None if n is None else self._outputs_for(n, True)

    @property
    def available(self) -> int | None:
        if self.source.available is None:
            return None
        n_in = self._n_in + self.source.available
        return max(0, self._outputs_for(n_in, self.source.ended) - self.position)

    @property
    def endless(self) -> bool:
        return self.source.endless

    @property
    def ended(self) -> bool:
        return self.source.ended and self.position >= self._outputs_for(self._n_in, True)

    # --- reading -----------------------------------------------------------------------------
    def _get(self, n: int) -> np.ndarray:
        want = self.position + n
        need = self._inputs_for(want) - self._n_in
        if need > 0 and not self.source.ended:
            x = self.source.get(need)
            if len(x):
                self._hist = np.concatenate([self._hist, x]) if len(self._hist) else x
                self._n_in += len(x)
        stop = min(want, self._outputs_for(self._n_in, self.source.ended))
        if stop <= self.position:
            return np.empty((0, self.channels))
        y = self._compute(self.position, stop)
        self._forget_before(self._first_input(stop))
        return y

    def _compute(self, j0: int, j1: int) -> np.ndarray:
        up, down, hist, h0 = self.up, self.down, self._hist, self._hist_start
        if self.method == "pick":
            idx = np.arange(j0, j1, dtype=np.int64) * down // up
            return hist[idx - h0]
        if self.method == "mean":
            lo, hi = j0 * down, min(j1 * down, self._n_in)
            block = hist[lo - h0 : hi - h0]
            full = (hi - lo) // down
            out = block[: full * down].reshape(full, down, self.channels).mean(axis=1)
            if full < j1 - j0:
                out = np.vstack([out, block[full * down :].mean(axis=0, keepdims=True)])
            return out
        if not self._filtered:
            return hist[j0 - h0 : j1 - h0].copy()
        a, b = j0 + self._lead, j1 + self._lead  # positions in the full upfirdn output
        s = self._first_input(j0)
        last = min(self._n_in - 1, (b - 1) * down // up)
        seg = hist[s - h0 : last + 1 - h0]
        out = np.zeros((j1 - j0, self.channels))
        if len(seg):
            from scipy.signal import upfirdn  # scipy: on use

            y = upfirdn(self._h, seg, up, down, axis=0)
            off = s * up // down  # output index of y[0]; exact since s is a multiple of down
            part = y[a - off : b - off]
            out[: len(part)] = part
        return out

    def _first_input(self, j: int) -> int:
        """First input index any output >= j needs (a multiple of down for poly)."""
        if self.method == "pick":
            return j * self.down // self.up
        if self.method == "mean":
            return j * self.down
        if not self._filtered:
            return j
        earliest = max(0, -(-((j + self._lead) * self.down - len(self._h) + 1) // self.up))
        return earliest // self.down * self.down

    def _forget_before(self, index: int) -> None:
        drop = min(index - self._hist_start, len(self._hist))
        if drop > 0:
            self._hist = self._hist[drop:]
            self._hist_start += drop

    def _idle(self) -> None:
        self.source._idle()

    def _reset(self) -> None:
        self.source.reset()
        self._start_history()

    def _close(self) -> None:
        if self.close_source:
            self.source.close()
