"""A stream through a model: each chunk of the source goes through pre -> model -> post.

The model is a torch `nn.Module` (run without gradients, on CPU tensors of the
module's dtype) or any callable on (n, channels) arrays. Filters with memory
keep it across chunks, so reading in chunks equals processing the whole
signal at once: either the callable holds its own state (`LFilter`,
`SosFilter`, a recurrent module with a buffer), or, with `stateful=True`, it is
called as `y, state = model(x, state)` and the stream carries `state`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backend.streams.base import Stream, StreamError, as_rows


class ProcessingStream(Stream):
    """`post(model(pre(x)))` for each chunk x of `source`; same rate and length.

    `channels` is the model's output width; by default it is found by running
    a copy of the pipeline on one zero sample (or taken equal to the source's).
    The model must return one output row per input row; to change the rate,
    use ResampleStream.
    """

    def __init__(
        self,
        source: Stream,
        model: Callable[..., Any],
        pre: Callable[[Any], Any] | None = None,
        post: Callable[[Any], Any] | None = None,
        channels: int | None = None,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        stateful: bool = False,
        state: Any = None,
        close_source: bool = True,
    ) -> None:
        self.source, self.model = source, model
        self.pre, self.post = pre, post
        self.stateful, self.close_source = stateful, close_source
        self._initial_state = state
        self.state = copy.deepcopy(state)
        if channels is None:
            channels = _probe_width(self) or source.channels
        if names is None and channels == source.channels:
            names, units = source.names, units if units is not None else source.units
        super().__init__(channels, fs=source.rate, names=names, units=units, t0=source.t)

    @property
    def length(self) -> int | None:
        return self.source.length

    @property
    def available(self) -> int | None:
        return self.source.available

    @property
    def endless(self) -> bool:
        return self.source.endless

    @property
    def ended(self) -> bool:
        return self.source.ended

    def _get(self, n: int) -> np.ndarray:
        x = self.source.get(n)
        if not len(x):
            return np.empty((0, self.channels))
        y = as_rows(self._apply(x), self.channels, "model output")
        if len(y) != len(x):
            raise StreamError(
                f"the model returned {len(y)} rows for {len(x)} input rows",
                "A processing stream keeps the rate; use ResampleStream to change it.",
            )
        return y

    def _apply(self, x: np.ndarray) -> Any:
        if self.pre is not None:
            x = self.pre(x)
        if self.stateful:
            y, self.state = _call(self.model, x, self.state)
        else:
            y = _call(self.model, x)
        return self.post(y) if self.post is not None else y

    def _idle(self) -> None:
        self.source._idle()

    def _reset(self) -> None:
        self.source.reset()
        self.state = copy.deepcopy(self._initial_state)
        reset = getattr(self.model, "reset", None)
        if callable(reset) and not _is_module(self.model):
            reset()

    def _close(self) -> None:
        if self.close_source:
            self.source.close()


def _is_module(model: Any) -> bool:
    try:
        import torch  # torch: on use
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(model, torch.nn.Module)


def _call(model: Callable[..., Any], x: Any, *state: Any) -> Any:
    """Run the model; a torch module gets a tensor of its own dtype and no autograd."""
    if not _is_module(model):
        return model(x, *state)
    import torch  # torch: on use

    param = next(iter(model.parameters()), None)
    dtype = param.dtype if param is not None else torch.get_default_dtype()
    with torch.no_grad():
        tensor = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), dtype=dtype)
        out = model(tensor, *state)
    return out


def _probe_width(stream: ProcessingStream) -> int | None:
    """Output width from a copy of the pipeline on one zero sample; None if it cannot tell."""
    try:
        probe = copy.copy(stream)
        probe.model = copy.deepcopy(stream.model)
        probe.state = copy.deepcopy(stream.state)
        y = probe._apply(np.zeros((1, stream.source.channels)))
        if hasattr(y, "detach"):
            y = y.detach().cpu().numpy()
        y = np.asarray(y)
        return int(y.shape[1]) if y.ndim == 2 and len(y) == 1 else None
    except Exception:  # any failure just means: assume the source's width
        return None


class LFilter:
    """`scipy.signal.lfilter(b, a)` along time, its state carried from chunk to chunk.

    Chunk after chunk it returns exactly what one lfilter call on the whole
    signal returns (starting from rest, or from `zi` per channel).
    """

    def __init__(self, b: Any, a: Any, channels: int, zi: np.ndarray | None = None) -> None:
        self.b, self.a = np.atleast_1d(b).astype(float), np.atleast_1d(a).astype(float)
        self.channels = int(channels)
        order = max(len(self.a), len(self.b)) - 1
        self._zi0 = np.zeros((order, self.channels)) if zi is None else np.array(zi, float)
        self.reset()

    def reset(self) -> None:
        self.zi = self._zi0.copy()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from scipy import signal  # here, not at import: the GUI starts without scipy.signal

        y, self.zi = signal.lfilter(self.b, self.a, x, axis=0, zi=self.zi)
        return y


class SosFilter:
    """`scipy.signal.sosfilt(sos)` along time with carried state: the stable form for IIRs."""

    def __init__(self, sos: Any, channels: int) -> None:
        self.sos = np.atleast_2d(np.asarray(sos, dtype=float))
        self.channels = int(channels)
        self.reset()

    def reset(self) -> None:
        self.zi = np.zeros((len(self.sos), 2, self.channels))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from scipy import signal  # scipy: on use

        y, self.zi = signal.sosfilt(self.sos, x, axis=0, zi=self.zi)
        return y
