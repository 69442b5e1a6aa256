"""Process a recording of any size in chunks that fit a memory budget.

`ChunkProcessor` cuts the rows of any readable file (see
`backend.data.kinds`) into chunks sized by a budget such as "200MB",
optionally with an overlap buffer of real neighbouring rows on both sides
(zeros of the same dtype past the file's ends), over all or some channels
and a row range. It then:

- `chunks()` yields (array, ChunkInfo) for your own loop;
- `map(fn)` collects fn's result per chunk; `reduce(fn)` hands each call
  the previous result (running statistics);
- `write(fn, output)` writes fn's result as a new raw file + sidecar,
  optionally on a process pool: the output is preallocated and each worker
  writes its own slice at its computed offset, so nobody waits on anybody.

The budget covers one chunk as read plus the copies made on the way (the
function's result, a cast, the overlap); a function that builds more
temporaries needs a larger budget. With `processes=N` each worker holds its
own chunk. Chunks are the same whatever N is, so results are too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.chunk_write import write_chunks
from backend.data.kinds import open_reader
from backend.data.reader import Reader
from backend.errors import Cancelled, SamplelabError
from backend.jobs import CancelToken, JobProgress, ProgressFn, parse_memory

#: Copies of a chunk alive at once while processing: read, result, cast, slack.
WORKING_COPIES = 4


@dataclass(frozen=True)
class ChunkInfo:
    """Where a chunk sits: `rows` in the source, `local` (the data part) in the array given."""

    index: int
    n_chunks: int
    rows: slice
    local: slice
    channels: tuple[int, ...]


class Chunks:
    """The chunk plan over one reader; small and picklable so workers can rebuild chunks."""

    def __init__(
        self, reader: Reader, start: int, stop: int, rows: int, buffer: int, channels: np.ndarray
    ) -> None:
        self.reader, self.start, self.stop = reader, start, stop
        self.rows, self.buffer, self.channels = rows, buffer, channels

    def __len__(self) -> int:
        return -(-(self.stop - self.start) // self.rows) if self.stop > self.start else 0

    def info(self, i: int) -> ChunkInfo:
        a = self.start + i * self.rows
        b = min(a + self.rows, self.stop)
        local = slice(self.buffer, self.buffer + b - a)
        return ChunkInfo(i, len(self), slice(a, b), local, tuple(int(c) for c in self.channels))

    def load(self, i: int) -> tuple[np.ndarray, ChunkInfo]:
        info = self.info(i)
        a, b, buf, n = info.rows.start, info.rows.stop, self.buffer, self.reader.n_rows
        lo, hi = max(0, a - buf), min(n, b + buf)
        block = self.reader.read(lo, hi, self.channels)
        if lo == a - buf and hi == b + buf:
            return block, info
        padded = np.zeros((b - a + 2 * buf, len(self.channels)), dtype=block.dtype)
        padded[lo - (a - buf) : lo - (a - buf) + len(block)] = block
        return padded, info


class ChunkProcessor:
    """Chunks of a recording within a memory budget; see the module docstring."""

    def __init__(
        self,
        source: str | os.PathLike | Reader,
        *,
        max_memory: int | str = "256MiB",
        buffer: int = 0,
        channels: Any = None,
        start: int | None = None,
        stop: int | None = None,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        **open_options: Any,
    ) -> None:
        self._owns_reader = not isinstance(source, Reader)
        if isinstance(source, Reader):
            self.reader = source
        else:
            self.reader = open_reader(source, **open_options)
        self.source_path = self.reader.path
        n = self.reader.n_rows
        first = 0 if start is None else max(0, min(int(start), n))
        last = n if stop is None else max(first, min(int(stop), n))
        chans = self.reader.channel_index(channels)
        if buffer < 0:
            raise SamplelabError(f"the overlap buffer must be >= 0 rows (got {buffer})")
        self.max_memory = parse_memory(max_memory)
        row_bytes = max(1, len(chans) * self.reader.dtype.itemsize)
        rows = self.max_memory // (row_bytes * WORKING_COPIES) - 2 * buffer
        if rows < 1:
            raise SamplelabError(
                f"a memory budget of {self.max_memory} bytes cannot hold one row plus an "
                f"overlap buffer of {buffer} rows",
                "Raise max_memory or lower the buffer.",
            )
        self.plan = Chunks(self.reader, first, last, int(rows), int(buffer), chans)
        self.show_progress = show_progress
        self.progress = progress
        self.cancel = cancel
        self.stage = "chunks"  # what progress reports call this job

    @property
    def n_chunks(self) -> int:
        return len(self.plan)

    @property
    def chunk_rows(self) -> int:
        return self.plan.rows

    def close(self) -> None:
        """Close the file this processor opened (a reader passed in stays open)."""
        if self._owns_reader:
            self.reader.close()

    def __enter__(self) -> ChunkProcessor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- looping --------------------------------------------------------------
    def _progress(self) -> Any:
        from tqdm import tqdm  # on use: only a console progress bar

        return tqdm(
            total=len(self.plan),
            unit="chunk",
            file=sys.stderr,
            disable=not self.show_progress,
            dynamic_ncols=True,
        )

    def _tick(self, bar: Any, done: int) -> None:
        bar.update(1)
        if self.progress is not None:
            self.progress(JobProgress(self.stage, done, len(self.plan)))

    def _check(self) -> None:
        if self.cancel is not None and self.cancel.cancelled:
            raise Cancelled("chunk processing cancelled")

    def chunks(self) -> Iterator[tuple[np.ndarray, ChunkInfo]]:
        """(chunk, info) in row order; chunk includes the overlap buffer."""
        with self._progress() as bar:
            for i in range(len(self.plan)):
                self._check()
                yield self.plan.load(i)
                self._tick(bar, i + 1)

    def map(self, function: Callable, *, pass_info: bool = False, **kwargs: Any) -> list:
        """[function(chunk, **kwargs) per chunk]; with pass_info, also info=ChunkInfo."""
        results = []
        for chunk, info in self.chunks():
            extra = {"info": info} if pass_info else {}
            results.append(function(chunk, **extra, **kwargs))
        return results

    def reduce(
        self, function: Callable, initial: Any = None, *, pass_info: bool = False, **kwargs: Any
    ) -> Any:
        """Fold: function(chunk, previous=<last result or initial>, **kwargs); returns the last."""
        previous = initial
        for chunk, info in self.chunks():
            extra = {"info": info} if pass_info else {}
            previous = function(chunk, previous=previous, **extra, **kwargs)
        return previous

    # --- writing --------------------------------------------------------------
    def write(
        self,
        function: Callable | None,
        output: str | os.PathLike,
        *,
        if_exists: str = "abort",
        cast_dtype: Any = None,
        processes: int = 1,
        pass_info: bool = False,
        **kwargs: Any,
    ) -> Path:
        """Write function(chunk) (None: the chunk itself) as raw + sidecar; returns the path.

        The function must return one row per input row (with or without the
        overlap buffer; the buffer rows are dropped) and the same number of
        channels and dtype for every chunk.
        """
        return write_chunks(
            self,
            function,
            Path(output),
            if_exists=if_exists,
            cast_dtype=cast_dtype,
            processes=processes,
            pass_info=pass_info,
            kwargs=kwargs,
        )
