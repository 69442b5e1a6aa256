"""`SamplingSource`: a sampling run's rows (one `Reader`) with its config.

The base of every source postprocessing and export read (`backend.data.sources`
opens them): the reader's first `n_inputs` channels are the inputs (V), the
rest the outputs (nA). Kept apart from `backend.data.sources` so format modules
(`backend.data.formats.bspysmg`) can define sources without an import cycle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from backend.config import SamplingConfig
from backend.data.finiterows import check_finite_rows
from backend.data.reader import Reader
from backend.jobs import DEFAULT_CHUNK_ROWS


class SamplingSource:
    """The rows of one sampling run (a reader: inputs, then outputs) and its config."""

    def __init__(
        self,
        path: str | os.PathLike,
        reader: Reader,
        config: SamplingConfig | None,
        *,
        n_inputs: int | None = None,
        batch_points: int | None = None,
        batches_planned: int | None = None,
        note: str = "",
    ) -> None:
        self.path = Path(path)
        self.reader = reader
        self._config = config
        n_in = int(n_inputs if n_inputs is not None else config.n_inputs)  # type: ignore[union-attr]
        self.n_inputs, self.n_outputs = n_in, reader.n_channels - n_in
        self.n_rows = reader.n_rows
        self.batch_points = int(batch_points or config.batch_points)  # type: ignore[union-attr]
        self.batches_done = self.n_rows // self.batch_points
        self.batches_planned = self.batches_done if batches_planned is None else batches_planned
        self.fs = float(config.fs) if config is not None else float(reader.fs or 0.0)
        names = reader.channel_names
        self.input_names, self.output_names = names[:n_in], names[n_in:]
        self.note = note

    @property
    def config(self) -> SamplingConfig:
        return self._config  # type: ignore[return-value]

    @property
    def channel_names(self) -> list[str]:
        return self.reader.channel_names

    @property
    def units(self) -> list[str]:
        return self.reader.units

    def duration_s(self) -> float:
        return self.n_rows / self.fs

    def iter_chunks(
        self,
        rows: int = DEFAULT_CHUNK_ROWS,
        start: int = 0,
        stop: int | None = None,
        reuse: bool = False,
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Yield (first_row, inputs, outputs) in blocks of `rows`; bounded memory.

        With `reuse`, every block is read into the same two buffers: the caller
        must be done with a block (or copy it) before asking for the next one.
        """
        stop = self.n_rows if stop is None else min(stop, self.n_rows)
        widths = (self.n_inputs, self.n_outputs)
        reader, start = self.reader, max(0, start)
        size = min(rows, max(0, stop - start))
        buffers = [np.empty((size, w)) for w in widths] if reuse else None
        for first in range(start, stop, rows):
            end = min(first + rows, stop)
            if buffers is None:
                x, y = reader.read_column_groups(first, end, widths)
            else:
                x, y = reader.read_column_groups_into(first, end, buffers)
            check_finite_rows(self.path, first, (x, y))
            yield first, x, y

    def iter_output_chunks(
        self, rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(first_row, outputs) blocks; cheap where `reader.columns_read_alone`."""
        outputs = np.arange(self.n_inputs, self.reader.n_channels)
        for first in range(0, self.n_rows, rows):
            y = self.reader.read(first, first + rows, outputs)
            check_finite_rows(self.path, first, (y,), ("Output",))
            yield first, y

    def read(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, outputs) rows [start, stop)."""
        stop = self.n_rows if stop is None else min(stop, self.n_rows)
        start = max(0, min(start, stop))
        x, y = self.reader.read_column_groups(start, stop, (self.n_inputs, self.n_outputs))
        return x, y

    def peer_config(self) -> dict[str, Any]:
        """The config dict as bspysmg stores it (amplitude/offset numpy arrays)."""
        raise NotImplementedError

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> SamplingSource:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
