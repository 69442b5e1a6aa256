"""The inner loops of IO.dat reading: where rows start, and text -> arrays or an exact error.

`scan_rows` makes one pass over the file counting line ends (numpy, so every
later error can name its line) and remembers where every k-th row starts, so
any window of rows is later found by one seek. `BlockParser` parses a window
of whole lines with Arrow's CSV parser (multi-threaded, correctly rounded:
bit-identical to `np.loadtxt`); when Arrow refuses (tabs, repeated spaces,
junk) it falls back to `np.loadtxt`, and when that refuses too it scans the
lines one by one to name the first bad line and value.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.errors import FileFormatError
from backend.files import open_regular

#: Bytes read per step of the row scan.
SCAN_BYTES = 8 << 20
#: A longer line is not a row of numbers.
MAX_LINE_BYTES = 1 << 20
#: Rows between two remembered row offsets (the index of a 10^7-row file is ~20 KB).
INDEX_EVERY = 4096
CUT_OFF_HINT = (
    "The sampling or copy was interrupted; remove the partial last line "
    "(and any incomplete batch) or copy the file again."
)


def iodat_error(
    path: str | os.PathLike, line: int | None, problem: str, hint: str = ""
) -> FileFormatError:
    """The one error every IO.dat problem becomes: file, line, what is wrong."""
    where = f"{path}, line {line}" if line is not None else str(path)
    return FileFormatError(
        f"{where}: {problem}",
        hint or "Repair or replace the file; IO.dat must be the table bspysmg's sampler wrote.",
    )


@dataclass(frozen=True)
class RowIndex:
    """Where rows start: `marks[k]` is the byte offset of row `k * every`."""

    marks: np.ndarray
    n_rows: int
    end: int  # byte offset just past the last row
    every: int
    complete: bool  # the last row ends with a line end

    def span(self, start: int, stop: int) -> tuple[int, int, int]:
        """(first byte, end byte, rows to skip) of a read that covers rows [start, stop)."""
        k0, k1 = start // self.every, -(-stop // self.every)
        lo = int(self.marks[k0])
        hi = int(self.marks[k1]) if k1 < len(self.marks) else self.end
        return lo, hi, start - k0 * self.every


def scan_rows(
    path: Path, data_offset: int, every: int = INDEX_EVERY, first_line: int = 1
) -> RowIndex:
    """One pass over the data: row count and the offset of every `every`-th row.

    A last line without a line end counts as a row; `complete` says whether
    there was one (a writer cut off mid-row leaves none). A line longer than
    MAX_LINE_BYTES is refused here, naming it (`first_line` is the line number
    of the first data row): such a line is no row of numbers, and handed to
    Arrow's multi-threaded parser it failed only after its worker threads had
    taken gigabytes, leaving them busy when the error reached the user (the
    `info` that printed its message, then hung in the thread pool's shutdown).
    """
    marks = [data_offset]
    ends = 0
    pos = data_offset
    last_end = data_offset - 1  # where the line before the first data row ended
    last = b"\n"
    with open_regular(path, "text table") as fh:
        fh.seek(data_offset)
        buf = bytearray(SCAN_BYTES)
        nums = np.frombuffer(buf, dtype=np.uint8)
        while got := fh.readinto(buf):
            found = np.flatnonzero(nums[:got] == 10)
            # row r starts after line end r-1: marks need line ends every-1, 2*every-1, ...
            picked = found[(every - 1 - ends) % every :: every] + (pos + 1)
            marks.extend(picked.tolist())
            if len(found):
                lengths = np.diff(found + pos, prepend=last_end)
                longest = int(np.argmax(lengths))
                if lengths[longest] > MAX_LINE_BYTES:
                    raise _long_line(path, first_line + ends + longest)
                last_end = int(found[-1]) + pos
            ends += len(found)
            pos += got
            if pos - last_end > MAX_LINE_BYTES:
                raise _long_line(path, first_line + ends)
            last = bytes(buf[got - 1 : got])
    complete = last == b"\n"
    n_rows = ends + (0 if complete else 1)
    if marks and marks[-1] >= pos:  # a line end at the very end starts no row
        marks.pop()
    return RowIndex(np.asarray(marks, dtype=np.int64), n_rows, pos, every, complete)


def _long_line(path: Path, line: int) -> FileFormatError:
    return iodat_error(
        path,
        line,
        f"the line is longer than {MAX_LINE_BYTES >> 20} MB: not a row of numbers",
        "A row of an IO.dat has a few numbers; check that this is the table you meant.",
    )


def read_lines(path: Path, index: RowIndex, start: int, stop: int) -> bytes:
    """The text of rows [start, stop), each ending with a line end."""
    lo, hi, skip = index.span(start, stop)
    spanned = min(index.n_rows, -(-stop // index.every) * index.every) - (start - skip)
    if hi - lo > spanned * MAX_LINE_BYTES:
        raise iodat_error(path, None, "has lines longer than 1 MB; not a number table")
    with open(path, "rb") as fh:
        fh.seek(lo)
        text = fh.read(hi - lo)
    if text and not text.endswith(b"\n"):
        text += b"\n"
    if skip or not (stop % index.every == 0 or stop == index.n_rows):
        ends = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == 10)
        first = int(ends[skip - 1]) + 1 if skip else 0
        text = text[first : int(ends[skip + stop - start - 1]) + 1]
    return text


class BlockParser:
    """Turns whole lines of numbers into arrays (one per column group) or an exact error.

    `widths` splits the columns into consecutive groups (IO.dat: inputs then
    outputs), each returned as its own C-ordered array. With `finite=True`
    NaN and infinite values are refused with their line (they cannot train a
    model); `group_names` name the columns in that message.
    """

    def __init__(
        self,
        path: Path,
        widths: Sequence[int],
        finite: bool = True,
        group_names: Sequence[str] = ("Input", "Output"),
    ) -> None:
        import pyarrow as pa  # pyarrow: on use, off the start-up path
        import pyarrow.csv as pacsv

        self.path, self.widths, self.finite = path, [int(w) for w in widths], finite
        self.group_names = list(group_names)
        self.n_cols = sum(self.widths)
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

    def parse(self, block: bytes | memoryview, first_line: int, lines: int) -> list[np.ndarray]:
        """`lines` whole lines, the first being line `first_line` of the file."""
        parsed = self._with_arrow(block, lines) if self._arrow else None
        if parsed is None:
            table = self._with_loadtxt(block, first_line, lines)
            bounds = np.cumsum([0, *self.widths])
            parsed = [np.ascontiguousarray(table[:, a:b]) for a, b in itertools.pairwise(bounds)]
        if self.finite:
            self._check_finite(parsed, first_line)
        return parsed

    def _with_arrow(self, block: bytes | memoryview, lines: int) -> list[np.ndarray] | None:
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
        out = [np.empty((lines, w)) for w in self.widths]
        columns = iter(table.columns)
        for group in out:
            for j in range(group.shape[1]):
                group[:, j] = next(columns).to_numpy()
        return out

    def _with_loadtxt(self, block: bytes | memoryview, first_line: int, lines: int) -> np.ndarray:
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

    def _columns_text(self) -> str:
        if len(self.widths) == 2 and self.group_names[:2] == ["Input", "Output"]:
            n_in, n_out = self.widths
            return f"the config has {n_in} inputs and {n_out} outputs ({self.n_cols} columns)"
        return f"the table has {self.n_cols} columns"

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
                    f"{len(tokens)} values, but {self._columns_text()}",
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

    def _check_finite(self, groups: list[np.ndarray], first_line: int) -> None:
        bad = [~np.isfinite(g) for g in groups]
        if not any(b.any() for b in bad):
            return
        rows = np.flatnonzero(np.logical_or.reduce([b.any(axis=1) for b in bad]))
        row = int(rows[0])
        k = next(i for i, b in enumerate(bad) if b[row].any())
        col = int(np.flatnonzero(bad[k][row])[0])
        name = self.group_names[k] if k < len(self.group_names) else f"Group {k}"
        raise iodat_error(
            self.path,
            first_line + row,
            f"{name} {col} is {groups[k][row, col]} ({len(rows)} row(s) with NaN or infinite "
            f"values in lines {first_line + row}-{first_line + int(rows[-1])})",
            "Such rows cannot train a model; remove them, or re-sample those batches.",
        )
