"""Random access into big text tables such as bspysmg's IO.dat: the one IO.dat reader.

A text file cannot be sliced by byte arithmetic, so one pass records where
every 4096th row starts (`scan_rows`); afterwards rows [a, b) are one seek,
one read and one parse of exactly those lines by the fast block parser
(`iodat_blocks.BlockParser`, Arrow). Memory stays bounded whatever the file
size (the index of a 10^7-row file is ~20 KB).

Two strictness levels, because two jobs read these files:

- lenient (browsing, streams, `load_data`): any whitespace table of numbers;
  NaN allowed; a last line without a line end is a row.
- `strict=True` (postprocessing, `read_iodat_chunks`): the peer's IO.dat; a
  cut-off last line, NaN or infinite values are errors naming their line.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence

import numpy as np

from backend.data.formats import iodat_blocks
from backend.data.formats.iodat import IODatLayout, check_iodat_columns, read_iodat_layout
from backend.data.formats.iodat_blocks import CUT_OFF_HINT, BlockParser, iodat_error, read_lines
from backend.data.reader import Reader, default_names
from backend.errors import FileFormatError
from backend.jobs import DEFAULT_CHUNK_ROWS

#: More columns than this is no sampling table (ours have inputs + outputs, ~10).
MAX_COLUMNS = 4096


class TextRowsReader(Reader):
    """Lazy rows of a whitespace-separated numeric text file (IO.dat).

    `widths` (strict IO.dat reading) gives the column groups, inputs then
    outputs; without it the first data line says how many columns there are.
    """

    kind = "iodat"

    def __init__(
        self,
        path: str | os.PathLike | IODatLayout,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        fs: float | None = None,
        kind: str = "iodat",
        every: int | None = None,
        *,
        widths: Sequence[int] | None = None,
        strict: bool = False,
    ) -> None:
        layout = path if isinstance(path, IODatLayout) else read_iodat_layout(path, not strict)
        self.layout, self.strict = layout, strict
        try:
            every = int(every or iodat_blocks.INDEX_EVERY)
            self.index = iodat_blocks.scan_rows(
                layout.path, layout.data_offset, every, layout.header_lines + 1
            )
        except OSError as exc:
            raise FileFormatError(f"cannot read {layout.path}: {exc.strerror}") from None
        if strict and not self.index.complete:
            raise iodat_error(
                layout.path,
                layout.line_of_row(self.index.n_rows - 1),
                "the last line is incomplete (no line end): the file was cut off",
                CUT_OFF_HINT,
            )
        n_cols = sum(widths) if widths is not None else self._columns(layout)
        if n_cols == 0:
            raise FileFormatError(f"{layout.path} holds no data rows and no header")
        names = list(names or layout.names or default_names(n_cols))
        if len(names) != n_cols:
            names = default_names(n_cols)
        super().__init__(self.index.n_rows, np.float64, names, units, fs, layout.path)
        self.kind = kind
        self._widths = tuple(widths) if widths is not None else (n_cols,)
        self._parsers: dict[tuple[int, ...], BlockParser] = {}

    def _columns(self, layout: IODatLayout) -> int:
        """Columns of the first data row, which must be numbers."""
        with open(layout.path, "rb") as fh:
            fh.seek(layout.data_offset)
            first = fh.readline(1 << 20)
        if not first.strip():
            return len(layout.names or [])
        try:
            [float(v) for v in first.split()]
        except ValueError:
            raise iodat_error(
                layout.path,
                layout.header_lines + 1,
                f"not a table of numbers (the first data row is {first[:80]!r})",
            ) from None
        n_cols = len(first.split())
        if n_cols > MAX_COLUMNS:
            raise iodat_error(
                layout.path,
                layout.header_lines + 1,
                f"the first row has {n_cols:,} values; a table of more than {MAX_COLUMNS:,} "
                "columns is not sampled data",
            )
        return n_cols

    def read_column_groups(
        self, start: int, stop: int, widths: Sequence[int]
    ) -> tuple[np.ndarray, ...]:
        """Rows [start, stop) parsed straight into one array per column group."""
        widths = tuple(int(w) for w in widths)
        if not self._unselected() or sum(widths) != len(self._names):
            return super().read_column_groups(start, stop, widths)
        stop = min(int(stop), self.n_rows)
        return self._parse_rows(max(0, min(int(start), stop)), stop, widths)

    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        groups = self._parse_rows(start, stop, self._widths)  # errors name Input/Output columns
        table = groups[0] if len(groups) == 1 else np.hstack(groups)
        return table if len(cols) == table.shape[1] else table[:, cols]

    def _parse_rows(self, start: int, stop: int, widths: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        """Rows [start, stop) in pieces of about SCAN_BYTES of text (bounded memory)."""
        if stop <= start:
            return tuple(np.empty((0, w)) for w in widths)
        if widths not in self._parsers:
            self._parsers[widths] = BlockParser(self.layout.path, widths, finite=self.strict)
        parser = self._parsers[widths]
        step = self._piece_rows()
        cuts = [start, *range((start // step + 1) * step, stop, step), stop]
        if len(cuts) == 2:
            return self._parse_piece(parser, start, stop)
        out = tuple(np.empty((stop - start, w)) for w in widths)
        for a, b in itertools.pairwise(cuts):
            for whole, part in zip(out, self._parse_piece(parser, a, b)):
                whole[a - start : b - start] = part
        return out

    def _piece_rows(self) -> int:
        """Rows per parse: whole index steps holding about SCAN_BYTES of text."""
        every = self.index.every
        row_bytes = max(1, (self.index.end - self.layout.data_offset) // max(1, self.n_rows))
        return max(every, iodat_blocks.SCAN_BYTES // row_bytes // every * every)

    def _parse_piece(self, parser: BlockParser, start: int, stop: int) -> tuple[np.ndarray, ...]:
        text = read_lines(self.layout.path, self.index, start, stop)
        try:
            return tuple(parser.parse(text, self.layout.line_of_row(start), stop - start))
        except FileFormatError as exc:
            if self.strict:
                raise
            raise FileFormatError(
                f"rows {start}-{stop - 1} are not numbers as expected: {exc.message}", exc.hint
            ) from None

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        if "_parsers" in state:  # parsers hold Arrow modules; they are rebuilt on demand
            state = {**state, "_parsers": {}}
        return state


def read_iodat_chunks(
    path: str | os.PathLike,
    n_inputs: int,
    n_outputs: int,
    rows_per_chunk: int = DEFAULT_CHUNK_ROWS,
    start_row: int = 0,
    stop_row: int | None = None,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield (first_row, inputs, outputs) of `rows_per_chunk` rows (the last may be short).

    Rows are 0-based data rows (the header does not count). Every problem in
    the file raises one `FileFormatError` naming the file, the line and what
    is wrong: header columns, column count, non-numbers, NaN/inf values, an
    empty line, or a last line cut off mid-row.
    """
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be >= 1")
    layout = read_iodat_layout(path)
    check_iodat_columns(layout, n_inputs, n_outputs)
    with TextRowsReader(layout, widths=(n_inputs, n_outputs), strict=True) as reader:
        stop = reader.n_rows if stop_row is None else min(stop_row, reader.n_rows)
        for first in range(max(0, start_row), stop, rows_per_chunk):
            end = min(first + rows_per_chunk, stop)
            yield (first, *reader.read_column_groups(first, end, (n_inputs, n_outputs)))


def read_iodat(
    path: str | os.PathLike, n_inputs: int, n_outputs: int
) -> tuple[np.ndarray, np.ndarray]:
    """The whole table as (inputs, outputs); for small files and tests."""
    xs, ys = [], []
    for _, x, y in read_iodat_chunks(path, n_inputs, n_outputs):
        xs.append(x)
        ys.append(y)
    if not xs:
        return np.empty((0, n_inputs)), np.empty((0, n_outputs))
    return np.concatenate(xs), np.concatenate(ys)
