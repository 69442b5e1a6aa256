"""The inner loop of IO.dat reading: blocks of whole lines -> arrays, or an exact error.

`line_blocks` reads a file in large blocks cut at line ends and counts their
lines (so every error can name its line). `BlockParser` parses a block with
Arrow's CSV parser; when Arrow refuses (tabs, repeated spaces, junk) it falls
back to `np.loadtxt`, and when that refuses too it scans the block line by
line to name the first bad line and value.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from backend.errors import FileFormatError

BLOCK_BYTES = 8 << 20
MAX_LINE_BYTES = 1 << 20


def iodat_error(
    path: str | os.PathLike, line: int | None, problem: str, hint: str = ""
) -> FileFormatError:
    """The one error every IO.dat problem becomes: file, line, what is wrong."""
    where = f"{path}, line {line}" if line is not None else str(path)
    return FileFormatError(
        f"{where}: {problem}",
        hint or "Repair or replace the file; IO.dat must be the table bspysmg's sampler wrote.",
    )


def line_blocks(
    fh: io.RawIOBase, path: Path, first_line: int
) -> Iterator[tuple[int, memoryview, int]]:
    """(first line number, whole lines, line count) per block; the view is reused."""
    buf = bytearray(BLOCK_BYTES)
    nums = np.frombuffer(buf, dtype=np.uint8)
    kept, line = 0, first_line
    while True:
        if kept == len(buf):
            if len(buf) >= BLOCK_BYTES + MAX_LINE_BYTES:
                raise iodat_error(path, line, "the line is longer than 1 MB; not a number table")
            buf = bytearray(buf) + bytearray(MAX_LINE_BYTES)
            nums = np.frombuffer(buf, dtype=np.uint8)
        got = fh.readinto(memoryview(buf)[kept:])
        end = kept + (got or 0)
        if not got:
            if end and bytes(buf[:end]).strip():
                raise iodat_error(
                    path,
                    line,
                    "the last line is incomplete (no line end): the file was cut off",
                    "The sampling or copy was interrupted; remove the partial last line "
                    "(and any incomplete batch) or copy the file again.",
                )
            return
        cut = buf.rfind(b"\n", 0, end) + 1
        if cut == 0:
            kept = end
            continue
        count = int(np.count_nonzero(nums[:cut] == 10))
        yield line, memoryview(buf)[:cut], count
        line += count
        rest = end - cut
        buf[:rest] = buf[cut:end]
        kept = rest


class BlockParser:
    """Turns a block of whole lines into (inputs, outputs) or an exact error."""

    def __init__(self, path: Path, n_inputs: int, n_outputs: int) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        self.path, self.n_in, self.n_out = path, n_inputs, n_outputs
        self.n_cols = n_inputs + n_outputs
        names = [f"c{i}" for i in range(self.n_cols)]
        self._pa, self._csv = pa, pacsv
        self._read = pacsv.ReadOptions(column_names=names, use_threads=True, block_size=1 << 22)
        self._parse = pacsv.ParseOptions(delimiter=" ", quote_char=False, ignore_empty_lines=False)
        self._convert = pacsv.ConvertOptions(
            column_types={n: pa.float64() for n in names},
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        self._arrow = True  # until a block shows the file is not savetxt-shaped

    def parse(self, block: memoryview, first_line: int, lines: int) -> tuple[np.ndarray, ...]:
        parsed = self._with_arrow(block, lines) if self._arrow else None
        if parsed is None:
            table = self._with_loadtxt(block, first_line, lines)
            parsed = (
                np.ascontiguousarray(table[:, : self.n_in]),
                np.ascontiguousarray(table[:, self.n_in :]),
            )
        self._check_finite(*parsed, first_line)
        return parsed

    def _with_arrow(self, block: memoryview, lines: int) -> tuple[np.ndarray, ...] | None:
        try:
            table = self._csv.read_csv(
                self._pa.py_buffer(block),
                read_options=self._read,
                parse_options=self._parse,
                convert_options=self._convert,
            )
        except self._pa.ArrowInvalid:
            self._arrow = False
            return None
        if table.num_rows != lines:
            self._arrow = False
            return None
        x = np.empty((lines, self.n_in))
        y = np.empty((lines, self.n_out))
        for j, column in enumerate(table.columns):
            target = x[:, j] if j < self.n_in else y[:, j - self.n_in]
            target[:] = column.to_numpy()
        return x, y

    def _with_loadtxt(self, block: memoryview, first_line: int, lines: int) -> np.ndarray:
        data = bytes(block)
        try:
            table = np.loadtxt(io.BytesIO(data), dtype=np.float64, ndmin=2, comments=None)
        except ValueError as exc:
            self._diagnose(data, first_line)
            raise iodat_error(
                self.path, first_line, f"lines {first_line}-{first_line + lines - 1}: {exc}"
            ) from None
        if table.shape != (lines, self.n_cols):
            self._diagnose(data, first_line)
            raise iodat_error(
                self.path,
                first_line,
                f"lines {first_line}-{first_line + lines - 1} hold a {table.shape[0]} x "
                f"{table.shape[1]} table; expected {lines} x {self.n_cols}",
            )
        return table

    def _diagnose(self, data: bytes, first_line: int) -> None:
        """Raise for the first line that is empty, has wrong columns or a non-number."""
        for i, line in enumerate(data.split(b"\n")[:-1]):
            where = first_line + i
            tokens = line.split()
            if not tokens:
                raise iodat_error(self.path, where, "the line is empty")
            if len(tokens) != self.n_cols:
                raise iodat_error(
                    self.path,
                    where,
                    f"{len(tokens)} values, but the config has {self.n_in} inputs and "
                    f"{self.n_out} outputs ({self.n_cols} columns)",
                    "Use the sampler_configs.json saved with this IO.dat; if only the last "
                    "line is short, the file was cut off: remove that line.",
                )
            for k, token in enumerate(tokens):
                try:
                    float(token)
                except ValueError:
                    text = token.decode("utf-8", "replace")[:40]
                    raise iodat_error(
                        self.path, where, f"value {k + 1} ({text!r}) is not a number"
                    ) from None

    def _check_finite(self, x: np.ndarray, y: np.ndarray, first_line: int) -> None:
        bad_x, bad_y = ~np.isfinite(x), ~np.isfinite(y)
        if not (bad_x.any() or bad_y.any()):
            return
        rows = np.flatnonzero(bad_x.any(axis=1) | bad_y.any(axis=1))
        row = int(rows[0])
        if bad_x[row].any():
            col = int(np.flatnonzero(bad_x[row])[0])
            name, value = f"Input {col}", x[row, col]
        else:
            col = int(np.flatnonzero(bad_y[row])[0])
            name, value = f"Output {col}", y[row, col]
        raise iodat_error(
            self.path,
            first_line + row,
            f"{name} is {value} ({len(rows)} row(s) with NaN or infinite values in lines "
            f"{first_line + row}-{first_line + int(rows[-1])})",
            "Such rows cannot train a model; remove them, or re-sample those batches.",
        )
