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

The processing can change while the stream runs (`Pipeline.reprocess`, on the
pump's thread between two reads): a new chain is built over the same source at
its current position, and the display starts a new buffer. `PumpStats` tells
the source's own pace (a paced session delivers a batch, then waits for the
next: its average is below its sampling rate) apart from whether the display
keeps up (`describe_stats`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.pages.streams.stats import PumpStats
from backend.acquisition.livebuffer import LiveBuffer
from backend.errors import SamplelabError
from backend.jobs import CancelToken
from backend.streams import (
    DeviceStream,
    LFilter,
    ProcessingStream,
    RandomStream,
    ResampleStream,
    Stream,
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
    batch_rows: int | None = None  # a session delivers its rows in batches of this many
    factor: int = 1  # the display shows one row in `factor` of the source


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


def open_stream_source(spec: StreamSpec, session: Any = None) -> Stream:
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
        from backend.streams import open_stream  # the file readers (h5py): not before paint

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
        self.source = open_stream_source(spec, session)
        self.device = self.source if isinstance(self.source, DeviceStream) else None
        try:
            self.spec, self.stream, self.layout, self.buffer = self._build(spec)
        except BaseException:
            self.source.close()
            raise

    def _build(self, spec: StreamSpec) -> tuple[StreamSpec, Stream, Layout, LiveBuffer]:
        """The processing chain over the source (which it never closes), and its display."""
        source = self.source
        top: Stream = source
        if spec.factor > 1:
            top = ResampleStream(source, down=int(spec.factor), close_source=False)
        try:
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
            stream = ProcessingStream(
                top,
                columns,
                channels=len(names),
                names=names,
                units=units,
                close_source=top is not source,  # a resampler goes with it, the source stays
            )
        except BaseException:
            if top is not source:
                top.close()
            raise
        batch_rows = None
        if self.device is not None:
            batch_rows = int(self.device.session.plan.config.batch_points)
        layout = Layout(
            names, units, groups, top.fs, source.fs, self.device is not None, batch_rows,
            max(1, int(spec.factor)),
        )  # fmt: skip
        capacity = int(min(MAX_BUFFER_ROWS, max(4096, top.fs * MAX_WINDOW_S)))
        return spec, stream, layout, LiveBuffer(len(names), capacity, names, units, top.fs)

    def reprocess(self, spec: StreamSpec) -> None:
        """Other processing from the next row on; the source keeps its place.

        Built first: a choice that cannot be built (a model file that does not
        load) raises and leaves the running chain as it was.
        """
        new = self._build(spec)
        old = self.stream
        self.spec, self.stream, self.layout, self.buffer = new
        old.close()

    def close(self) -> None:
        try:
            self.stream.close()
        finally:
            self.source.close()


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
    cancel: CancelToken,
    chunk_s: float = 0.05,
    changes: Callable[[], StreamSpec | None] = lambda: None,
    rebuilt: Callable[[Pipeline | BaseException], None] = lambda _result: None,
) -> PumpStats:
    """Read the stream into the pipeline's buffer until it ends or `cancel` is cancelled.

    Between reads, `changes()` may hand a new spec: the processing is rebuilt
    over the same source and `rebuilt(pipeline)` called (or `rebuilt(error)`,
    the old processing going on). Files and random signals are paced on the
    source's own rows, so a change of the downsampling keeps the speed.
    """
    device, source = pipeline.device, pipeline.source
    speed = None if device is not None else pipeline.spec.speed
    stats = PumpStats()
    started = time.monotonic()
    while not cancel.cancelled:
        spec = changes()
        if spec is not None:
            try:
                pipeline.reprocess(spec)
                rebuilt(pipeline)
            except SamplelabError as exc:
                rebuilt(exc)
        stream, buffer = pipeline.stream, pipeline.buffer
        chunk = max(1, int(stream.fs * chunk_s))
        if speed is None:
            x = stream.get(chunk if device is None else 1 << 16)
        else:
            due = int((time.monotonic() - started) * speed * source.fs) - source.position
            if due <= 0:
                time.sleep(min(chunk_s, 0.01))
                continue
            x = stream.get(max(1, min(due // pipeline.layout.factor, 8 * chunk)))
        if len(x):
            buffer.append(x)
            stats.rows += len(x)
        _source_stats(stats, pipeline, speed, started)
        stats.mark(time.monotonic())
        if not len(x) and stream.ended:
            break
        report(stats.snapshot())
    stats.ended = pipeline.stream.ended
    return stats.snapshot()


def _source_stats(stats: PumpStats, pipeline: Pipeline, speed: float | None, t0: float) -> None:
    """What the source delivered, and how much of it the display has yet to read."""
    device, source = pipeline.device, pipeline.source
    if device is not None:
        stats.source_rows = int(device.buffer.total)
        stats.waiting = int(device.available)
        stats.dropped, stats.first_row = device.dropped, device.first_row
    else:
        stats.source_rows = int(source.position)
        due = 0 if speed is None else int((time.monotonic() - t0) * speed * source.fs)
        stats.waiting = max(0, due - stats.source_rows)
    stats.behind_s = stats.waiting / source.fs if source.fs else 0.0
