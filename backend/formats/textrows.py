"""Random access into big text tables such as bspysmg's IO.dat.

A text file cannot be sliced by byte arithmetic, so one chunked pass records
where every 4096th row starts; afterwards rows [a, b) are read by seeking to
the nearest recorded row and parsing only those lines. Memory stays bounded
whatever the file size (the index of a 10^7-row file is ~20 KB).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.errors import FileFormatError
from backend.readers import Reader, default_names

_SCAN_BYTES = 16 << 20
_EVERY = 4096


def _header(fh: io.BufferedReader) -> tuple[int, list[str] | None, bytes]:
    """(offset of the first data row, names from a `# a, b` line, first data line)."""
    names, offset = None, 0
    while True:
        line = fh.readline()
        if not line:
            return offset, names, b""
        if line.startswith(b"#"):
            if names is None:
                text = line[1:].decode("utf-8", "replace").strip()
                names = [n.strip() for n in text.split(",") if n.strip()] or None
            offset += len(line)
            continue
        if not line.strip():
            offset += len(line)
            continue
        return offset, names, line


class TextRowsReader(Reader):
    """Lazy rows of a whitespace-separated numeric text file (IO.dat)."""

    kind = "iodat"

    def __init__(
        self,
        path: str | os.PathLike,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        fs: float | None = None,
        kind: str = "iodat",
        every: int = _EVERY,
    ) -> None:
        self._every = int(every)
        try:
            with open(path, "rb") as fh:
                header_names, n_cols, n_rows = self._scan(fh, path)
        except OSError as exc:
            raise FileFormatError(f"cannot read {path}: {exc.strerror}") from None
        if n_cols == 0:
            raise FileFormatError(f"{path} holds no data rows and no header")
        names = list(names or header_names or default_names(n_cols))
        if len(names) != n_cols:
            names = default_names(n_cols)
        super().__init__(n_rows, np.float64, names, units, fs, path)
        self.kind = kind
        self._n_cols = n_cols

    def _scan(self, fh: io.BufferedReader, path: Any) -> tuple:
        """(header names, columns, rows); builds the row index on the way."""
        start, header_names, first = _header(fh)
        n_cols = len(first.split()) if first else len(header_names or [])
        try:
            [float(v) for v in first.split()]
        except ValueError:
            raise FileFormatError(
                f"{path} is not a table of numbers (first data row: {first[:80]!r})"
            ) from None
        self._offsets, n_rows, self._end = self._index(fh, start)
        return header_names, n_cols, n_rows

    def _index(self, fh: io.BufferedReader, start: int) -> tuple[np.ndarray, int, int]:
        """Row-start offsets of every `every`-th row, the row count and the data end."""
        fh.seek(start)
        marks, n_rows, pos, last_byte = [], 0, start, b"\n"
        while True:
            block = fh.read(_SCAN_BYTES)
            if not block:
                break
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            # a row begins after each newline, and at the block start after one
            head = [0] if last_byte == b"\n" else []
            first_rows = np.concatenate([np.asarray(head, dtype=np.int64), ends + 1])
            first_rows = first_rows[first_rows < len(block)]
            pick = (n_rows + np.arange(len(first_rows))) % self._every == 0
            marks.extend((pos + first_rows[pick]).tolist())
            n_rows += len(first_rows)
            pos += len(block)
            last_byte = block[-1:]
        return np.asarray(marks, dtype=np.int64), n_rows, pos

    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        k0 = start // self._every
        k1 = -(-stop // self._every)
        lo = int(self._offsets[k0])
        hi = int(self._offsets[k1]) if k1 < len(self._offsets) else self._end
        with open(self.path, "rb") as fh:
            fh.seek(lo)
            text = fh.read(hi - lo)
        lines = text.splitlines()[start - k0 * self._every : stop - k0 * self._every]
        try:
            data = np.loadtxt(io.BytesIO(b"\n".join(lines)), ndmin=2, dtype=np.float64)
        except ValueError as exc:
            raise FileFormatError(
                f"{self.path}: rows {start}..{stop} are not numbers ({exc})"
            ) from None
        if data.shape != (stop - start, self._n_cols):
            raise FileFormatError(
                f"{self.path}: rows {start}..{stop} do not have {self._n_cols} numbers each"
            )
        return data if len(cols) == self._n_cols else data[:, cols]
