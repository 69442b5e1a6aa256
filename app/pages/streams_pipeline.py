"""What the Streams page watches, built from `backend.streams` pieces (no Qt).

source (a running session's DeviceStream, a file, or a random signal)
  -> optional ResampleStream (down by an integer factor, anti-aliased)
  -> ProcessingStream whose model returns the display columns side by side:
       the channels as they are, a moving average of each (LFilter, N taps),
       and for a surrogate model the measured outputs next to its prediction
       from the input channels
  -> `pump` on a worker thread appends each chunk to a LiveBuffer the plot polls.

The pump never makes a session wait: the DeviceStream's listener only copies
each batch into its own ring, and a consumer that falls behind skips ahead
(`overrun='skip'`) and counts the rows it lost in `dropped`, which the page shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.errors import SamplelabError
from backend.livebuffer import LiveBuffer
from backend.streams import (
    DeviceStream,
    LFilter,
    ProcessingStream,
    RandomStream,
    ResampleStream,
    Stream,
    open_stream,
)

#: The display buffer holds this many seconds (the plot shows at most this much).
MAX_WINDOW_S = 30.0
MAX_BUFFER_ROWS = 2_000_000
#: A live session's consumer waits at most this long in one read (so Stop is prompt).
READ_TIMEOUT_S = 0.1


@dataclass(frozen=True)
class StreamSpec:
    """What the user chose; `speed` None reads files/random signals as fast as possible."""

    source: str  # session | file | random
    path: str = ""
    seed: int = 0
    channels: int = 4
    rate: float = 1000.0
    taps: int = 0  # moving average over this many samples; 0 or 1 = off
    surrogate: str = ""  # a bspysmg training_data.pt, or '' for none
    factor: int = 1  # keep one sample in `factor` (anti-aliased); 1 = off
    speed: float | None = 1.0


@dataclass(frozen=True)
class Layout:
    """The display columns: names, units and which plot each group goes in."""

    names: list[str]
    units: list[str]
    groups: list[tuple[str, str, list[int]]]  # (title, role, columns); role: raw|average|model
    fs: float
    source_fs: float
    live: bool  # a running session (not paced, ends with the session)


@dataclass
class PumpStats:
    rows: int = 0  # display rows appended
    rate: float = 0.0  # rows per second over the last second
    dropped: int = 0  # rows the session overwrote before they were read
    first_row: int | None = None  # recording row of the first row seen (sessions)
    ended: bool = False
    _marks: list[tuple[float, int]] = field(default_factory=list)

    def mark(self, now: float) -> None:
        self._marks.append((now, self.rows))
        while len(self._marks) > 2 and now - self._marks[0][0] > 1.0:
            self._marks.pop(0)
        (t0, r0) = self._marks[0]
        self.rate = (self.rows - r0) / (now - t0) if now > t0 else 0.0

    def snapshot(self) -> PumpStats:
        return PumpStats(self.rows, self.rate, self.dropped, self.first_row, self.ended)


class Columns:
    """The ProcessingStream model: raw | moving average | measured | predicted, per chunk."""

    def __init__(
        self,
        channels: int,
        taps: int,
        model: Any = None,
        inputs: list[int] | None = None,
        outputs: list[int] | None = None,
    ) -> None:
        self.average = LFilter(np.ones(taps) / taps, [1.0], channels) if taps > 1 else None
        self.model, self.inputs, self.outputs = model, inputs or [], outputs or []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        parts = [x]
        if self.average is not None:
            parts.append(self.average(x))
        if self.model is not None:
            parts.append(x[:, self.outputs])
            parts.append(np.asarray(self.model(x[:, self.inputs]), dtype=np.float64))
        return np.hstack(parts) if len(parts) > 1 else x

    def reset(self) -> None:
        if self.average is not None:
            self.average.reset()


def session_stream(session: Any) -> DeviceStream:
    """The page's view of a session: short reads, and rows it cannot keep up with skipped."""
    return DeviceStream(session, timeout=READ_TIMEOUT_S, overrun="skip")


def open_source(spec: StreamSpec, session: Any = None) -> Stream:
    """The stream a spec names; for a session, `session` may be a DeviceStream already
    attached to it (before its first batch)."""
    if spec.source == "session":
        if session is None:
            raise SamplelabError(
                "no sampling session is running", "Start one on the Sampling page first."
            )
        return session if isinstance(session, DeviceStream) else session_stream(session)
    if spec.source == "file":
        if not spec.path:
            raise SamplelabError("no file chosen", "Choose a recording or data file to stream.")
        return open_stream(spec.path)
    if spec.source == "random":
        return RandomStream(int(spec.channels), seed=int(spec.seed), fs=float(spec.rate))
    raise ValueError(f"unknown source {spec.source!r}")


def _surrogate_columns(source: Stream, path: str) -> tuple[Any, list[int], list[int]]:
    from backend.devices.models import SurrogateModel

    model = SurrogateModel.load(path)
    units = source.units
    inputs = [i for i, u in enumerate(units) if u == "V"]
    if not inputs:  # no units (a random signal, a bare array): the first channels
        inputs = list(range(min(model.n_inputs, source.channels)))
    outputs = [i for i, u in enumerate(units) if u == "nA"][: model.n_outputs]
    if len(inputs) != model.n_inputs:
        raise SamplelabError(
            f"the surrogate in {Path(path).name} takes {model.n_inputs} inputs; this stream has "
            f"{len(inputs)} input channels (V)",
            "Stream a recording or session with as many activation electrodes as the model.",
        )
    return model, inputs, outputs


class Pipeline:
    """The stream the page reads, with the layout of its display columns."""

    def __init__(self, spec: StreamSpec, session: Any = None) -> None:
        self.spec = spec
        source = open_source(spec, session)
        try:
            self.device = source if isinstance(source, DeviceStream) else None
            top = source
            if spec.factor > 1:
                top = ResampleStream(source, down=int(spec.factor))
            names, units = list(top.names), list(top.units)
            groups = _unit_groups(names, units, range(len(names)), "raw")
            model = inputs = outputs = None
            if spec.taps > 1:
                cols = range(len(names), 2 * len(top.names))
                avg = [f"{n} avg{spec.taps}" for n in top.names]
                groups += _unit_groups(avg, top.units, cols, "average", len(names))
                names, units = names + avg, units + list(top.units)
            if spec.surrogate:
                model, inputs, outputs = _surrogate_columns(top, spec.surrogate)
                measured = [f"Measured {top.names[i]}" for i in outputs]
                predicted = [f"Predicted Output {j}" for j in range(model.n_outputs)]
                first = len(names)
                names += measured + predicted
                units += ["nA"] * (len(measured) + len(predicted))
                groups.append(("Surrogate model", "model", list(range(first, len(names)))))
            columns = Columns(len(top.names), spec.taps, model, inputs, outputs)
            self.stream = ProcessingStream(
                top, columns, channels=len(names), names=names, units=units
            )
        except BaseException:
            source.close()
            raise
        self.layout = Layout(names, units, groups, top.fs, source.fs, self.device is not None)
        capacity = int(min(MAX_BUFFER_ROWS, max(4096, top.fs * MAX_WINDOW_S)))
        self.buffer = LiveBuffer(len(names), capacity, names, units, top.fs)

    def close(self) -> None:
        self.stream.close()


def _unit_groups(
    names: list[str], units: list[str], columns: Any, role: str, offset: int = 0
) -> list[tuple[str, str, list[int]]]:
    """Columns grouped by unit, titled 'Inputs' / 'Outputs' / 'n channels' (+ the role)."""
    columns = list(columns)
    groups = []
    for unit in dict.fromkeys(units):
        members = [c for c, u in zip(columns, units) if u == unit]
        picked = [names[c - offset] for c in members]
        if all(n.startswith("Input") for n in picked):
            title = "Inputs"
        elif all(n.startswith("Output") for n in picked):
            title = "Outputs"
        else:
            title = f"{len(members)} channel{'s' * (len(members) != 1)}"
        if role == "average":
            title = f"{title}, moving average"
        groups.append((title, role, members))
    return groups


def pump(
    pipeline: Pipeline,
    report: Callable[[PumpStats], None],
    cancelled: Callable[[], bool],
    chunk_s: float = 0.05,
) -> PumpStats:
    """Read the stream into the pipeline's buffer until it ends or `cancelled()`."""
    stream, buffer, device = pipeline.stream, pipeline.buffer, pipeline.device
    speed = None if device is not None else pipeline.spec.speed
    chunk = max(1, int(stream.fs * chunk_s))
    stats = PumpStats()
    started = time.monotonic()
    while not cancelled():
        if speed is None:
            x = stream.get(chunk if device is None else 1 << 16)
        else:
            due = int((time.monotonic() - started) * speed * stream.fs) - stream.position
            if due <= 0:
                time.sleep(min(chunk_s, 0.01))
                continue
            x = stream.get(min(due, 8 * chunk))
        if len(x):
            buffer.append(x)
            stats.rows += len(x)
        if device is not None:
            stats.dropped, stats.first_row = device.dropped, device.first_row
        stats.mark(time.monotonic())
        if not len(x) and stream.ended:
            break
        report(stats.snapshot())
    stats.ended = stream.ended
    return stats.snapshot()
