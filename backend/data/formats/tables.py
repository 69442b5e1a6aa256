"""Text tables (csv, tsv, whitespace-separated) read into memory.

The delimiter is sniffed; a first row that is not all numbers, or a `# a, b`
comment line as numpy's savetxt writes, gives the channel names. Empty cells
read as NaN.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from pathlib import Path

import numpy as np

from backend.data.reader import ArrayReader
from backend.errors import FileFormatError

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
_SNIFF_BYTES = 64 << 10


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _delimiter(sample: str, suffix: str) -> str | None:
    """The delimiter of the table; None means runs of whitespace."""
    if suffix == ".tsv":
        return "\t"
    lines = [ln for ln in sample.splitlines() if ln.strip() and not ln.startswith("#")][:20]
    if not lines:
        return "," if suffix == ".csv" else None
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t ").delimiter
    except csv.Error:
        found = "," if suffix == ".csv" and "," in lines[0] else None
    return None if found == " " else found


def _split(line: str, delimiter: str | None) -> list[str]:
    parts = line.split(delimiter) if delimiter else line.split()
    return [p.strip().strip('"').strip("'") for p in parts]


def read_table(path: str | os.PathLike) -> tuple[np.ndarray, list[str] | None]:
    """(data (rows, columns) float64, names or None) of a text table."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError(
            f"{path} is not a text table (it is not UTF-8 text)",
            "Choose a csv/tsv/txt file of numbers.",
        ) from None
    if "\x00" in text[:_SNIFF_BYTES]:
        raise FileFormatError(f"{path} is not a text table (it holds binary data)")
    delimiter = _delimiter(text[:_SNIFF_BYTES], path.suffix.lower())
    lines = text.splitlines()
    names, skip = None, 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if line.startswith("#"):
            fields = [f for f in _split(line.lstrip("#"), delimiter or ",") if f]
            if fields and not all(_is_number(f) for f in fields):
                names, skip = fields, i + 1
            continue
        fields = _split(line, delimiter)
        if not all(_is_number(f) or f == "" for f in fields):
            names, skip = fields, i + 1
        break
    body = "\n".join(lines[skip:])
    data = _parse(body, delimiter, path)
    if names is not None and data.size and len(names) != data.shape[1]:
        raise FileFormatError(
            f"{path}: the header names {len(names)} columns but the rows have {data.shape[1]}"
        )
    if not data.size and names is not None:
        data = np.empty((0, len(names)))
    return data, names


def _parse(body: str, delimiter: str | None, path: Path) -> np.ndarray:
    if not body.strip():
        return np.empty((0, 0))
    try:
        with warnings.catch_warnings():  # only comment lines: an empty table, said by the caller
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            return np.loadtxt(io.StringIO(body), delimiter=delimiter, comments="#", ndmin=2)
    except ValueError:
        pass
    try:
        data = np.genfromtxt(
            io.StringIO(body), delimiter=delimiter, comments="#", invalid_raise=True
        )
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "bad row"
        raise FileFormatError(f"{path} is not a table of numbers ({first})") from None
    if data.ndim < 2:
        first = next(ln for ln in body.splitlines() if ln.strip() and not ln.startswith("#"))
        data = data.reshape(-1, len(_split(first, delimiter)))
    return data


def open_table(path: str | os.PathLike) -> ArrayReader:
    """A reader over a text table (read whole: tables are small by nature)."""
    data, names = read_table(path)
    if data.shape[1] == 0:
        raise FileFormatError(
            f"{path} holds no data", "Choose a csv/tsv/txt file with at least one column."
        )
    return ArrayReader(data, names=names, path=path, kind="table")
