"""Run a model over a stream in chunks: finite or endless, in memory or into a file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backend.jobs import CancelToken, JobProgress, ProgressFn
from backend.streams.base import Stream, StreamError
from backend.streams.processing import ProcessingStream


def run_stream(
    model: Callable[..., Any] | None,
    stream: Stream,
    chunk: int = 1 << 14,
    max_t: float | None = None,
    max_samples: int | None = None,
    out: Stream | None = None,
    progress: bool | ProgressFn = False,
    cancel: CancelToken | None = None,
    **processing: Any,
) -> np.ndarray | Stream:
    """`model` over `stream`, `chunk` samples at a time, for at most `max_t` s / `max_samples`.

    Returns the output as one (samples, channels) array, or, with `out` (a
    writable stream, e.g. H5StreamWriter), puts every chunk there and returns
    `out`: memory then stays bounded however long the run. `model=None` copies
    the stream. `processing` options (pre, post, channels, stateful, state) go
    to ProcessingStream. `progress` is True for a tqdm bar or the job callback
    (JobProgress("streaming", samples done, samples in all or 0 when unknown)). A
    cancelled `cancel` token raises `Cancelled` between chunks, after the chunks so
    far were written.
    """
    if out is not None and not out.writable:
        raise StreamError(f"{type(out).__name__} cannot take samples (it is read-only)")
    limit = max_samples
    if max_t is not None:
        limit = stream.samples_in(max_t) if limit is None else min(limit, stream.samples_in(max_t))
    if out is None and limit is None and stream.endless:
        raise StreamError(
            "this stream is endless: collecting its output in memory would never finish",
            "Give max_t or max_samples, or an `out` stream to write to.",
        )
    source = stream
    if model is not None:
        source = ProcessingStream(stream, model, close_source=False, **processing)
    total = _expected(source, limit)
    report, bar = _progress(progress, total)
    parts: list[np.ndarray] = []
    done = 0
    try:
        for block in source.chunks(chunk, max_samples=limit):
            if out is not None:
                out.put(block)
            else:
                parts.append(block)
            done += len(block)
            if report is not None:
                report(JobProgress("streaming", done, total or 0))
            if cancel is not None:
                cancel.raise_if_cancelled()
    finally:
        if bar is not None:
            bar.close()
    if out is not None:
        return out
    if not parts:
        return np.empty((0, source.channels))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _expected(stream: Stream, limit: int | None) -> int | None:
    available = stream.length
    if available is not None:
        available = max(0, available - stream.position)
    if limit is None:
        return available
    return limit if available is None else min(limit, available)


def _progress(progress: bool | ProgressFn, total: int | None) -> tuple[ProgressFn | None, Any]:
    """(callback, tqdm bar to close) for the `progress` argument."""
    if callable(progress):
        return progress, None
    if not progress:
        return None, None
    from tqdm.auto import tqdm  # on use: only a console progress bar

    bar = tqdm(total=total, unit="samples", unit_scale=True)

    def advance(p: JobProgress) -> None:
        bar.update(p.done - bar.n)

    return advance, bar
