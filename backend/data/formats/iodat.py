"""bspysmg's `IO.dat`: a text table of inputs (V) then outputs (nA) per row.

The peer writes it with `numpy.savetxt` defaults (`%.18e`, space separated)
after a `# Input 0, ..., Output 0` header; we write the same bytes.

Reading (`read_iodat_chunks`, `read_iodat`) lives with the one reader,
`backend.data.formats.textrows.TextRowsReader`: one pass counts the rows and
remembers where every 4096th starts, then each chunk is one seek, one read and one
parse by Apache Arrow's CSV parser (multi-threaded, correctly rounded, ~8x faster
than `np.loadtxt`; see docs/postprocessing.md). Here are the format's rules: the
header, the peer's bytes, and the strict reading postprocessing needs (every damage
is one error naming its line). Memory stays bounded by the chunk size.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.data.formats.iodat_blocks import CUT_OFF_HINT, MAX_LINE_BYTES, iodat_error, scan_rows
from backend.errors import FileFormatError
from backend.files import open_regular, replace_file

IODAT_NAME = "IO.dat"
IODAT_FMT = "%.18e"


__all__ = [
    "IODAT_FMT",
    "IODAT_NAME",
    "IODatLayout",
    "check_iodat_columns",
    "count_iodat_rows",
    "iodat_error",
    "iodat_header",
    "read_iodat_layout",
    "write_iodat",
]
_NAME = re.compile(r"^(Input|Output) \d+$")


def iodat_header(n_inputs: int, n_outputs: int) -> str:
    """`Input 0, ..., Input n-1, Output 0, ...` as the peer's get_header builds it."""
    names = [f"Input {i}" for i in range(n_inputs)] + [f"Output {i}" for i in range(n_outputs)]
    return ", ".join(names)


def write_iodat(
    path: str | os.PathLike,
    blocks: Iterable[tuple[np.ndarray, np.ndarray]],
    n_inputs: int,
    n_outputs: int,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Write (inputs, outputs) blocks as one IO.dat; returns the rows written.

    Written to a temporary name and moved into place, so a failure never
    leaves a truncated IO.dat that looks complete.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    rows = 0
    try:
        with open(tmp, "wb") as fh:
            np.savetxt(fh, [], header=iodat_header(n_inputs, n_outputs))
            for inputs, outputs in blocks:
                if len(inputs):
                    np.savetxt(fh, np.column_stack([inputs, outputs]), fmt=IODAT_FMT)
                rows += len(inputs)
                if on_rows is not None:
                    on_rows(rows)
        replace_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


# --- reading ----------------------------------------------------------------------


@dataclass(frozen=True)
class IODatLayout:
    """Where the data of an IO.dat starts and what its header line names."""

    path: Path
    names: list[str] | None  # column names of a `# a, b, c` header, if there is one
    header_lines: int  # comment lines before the first data row
    data_offset: int  # byte offset of the first data row

    def line_of_row(self, row: int) -> int:
        """1-based line number of data row `row` (0-based), for error messages."""
        return self.header_lines + row + 1


def read_iodat_layout(path: str | os.PathLike, skip_blank: bool = False) -> IODatLayout:
    """Read the leading `#` lines; the first one with commas names the columns.

    `skip_blank` also passes over empty lines before the data (text tables
    other than the peer's IO.dat may have them; in an IO.dat they are damage).
    """
    path = Path(path)
    names: list[str] | None = None
    offset = lines = 0
    try:
        with open_regular(path, "IO.dat") as fh:
            while True:
                line = fh.readline(MAX_LINE_BYTES)
                blank = skip_blank and line and not line.strip()
                if not (line.startswith(b"#") or blank):
                    break
                if names is None and line.startswith(b"#"):
                    text = line[1:].decode("utf-8", "replace").strip()
                    parts = [p.strip() for p in text.split(",")]
                    names = parts if len(parts) > 1 or _NAME.match(text) else None
                offset += len(line)
                lines += 1
    except FileNotFoundError:
        raise FileFormatError(f"{path} not found", "Choose a bspysmg sampling folder.") from None
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    return IODatLayout(path, names, lines, offset)


def check_iodat_columns(layout: IODatLayout, n_inputs: int, n_outputs: int) -> None:
    """Raise if the header names other columns than the config describes."""
    if layout.names is None:
        return
    names, expected = layout.names, n_inputs + n_outputs
    if len(names) != expected:
        raise iodat_error(
            layout.path,
            1,
            f"the header names {len(names)} columns but the config has {n_inputs} inputs "
            f"and {n_outputs} outputs ({expected} columns)",
            "Use the sampler_configs.json that was saved with this IO.dat.",
        )
    if all(_NAME.match(n) for n in names):
        n_in = sum(n.startswith("Input") for n in names)
        if n_in != n_inputs:
            raise iodat_error(
                layout.path,
                1,
                f"the header names {n_in} inputs and {len(names) - n_in} outputs but the "
                f"config has {n_inputs} inputs and {n_outputs} outputs",
                "Use the sampler_configs.json that was saved with this IO.dat.",
            )


def count_iodat_rows(path: str | os.PathLike, layout: IODatLayout | None = None) -> int:
    """Data rows of an IO.dat, by counting line ends (~20x faster than parsing).

    Raises if the last line has no line end: the file was cut off mid-row.
    """
    layout = layout or read_iodat_layout(path)
    index = scan_rows(layout.path, layout.data_offset, first_line=layout.header_lines + 1)
    if not index.complete:
        raise iodat_error(
            layout.path,
            layout.line_of_row(index.n_rows - 1),
            "the last line is incomplete (no line end): the file was cut off",
            CUT_OFF_HINT,
        )
    return index.n_rows
