"""Reading a `samplelab-stream` HDF5 file (written by `backend.streams.h5stream`).

A stream file is one of the data layer's file kinds: `open_reader`, `samplelab info`,
the browser and file streams all read it through `StreamFileReader`, which trusts
only the rows `/rows` counts, so it is safe while the file is still written.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

from backend.data.formats.hdf5files import HDF5Reader
from backend.recording.h5open import WRITER_ATTR, read_live, reading, writer_alive


class StreamFileReader(HDF5Reader):
    """The data of a `samplelab-stream` file: only the rows `/rows` counts, the exact rate."""

    kind = "samplelab-stream"

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(path, "data", kind=self.kind)
        self.rate = Fraction(_text(self._f.attrs["sampling_rate"]))
        self.refresh()

    @property
    def live(self) -> bool:
        """Still written: status 'writing' and its writer still runs (not killed)."""
        with reading(self.path, "status"):
            writing = _text(self._share.dataset("status")[()]) == "writing"
        return writing and writer_alive(self._f.attrs.get(WRITER_ATTR, "{}"))

    def refresh(self) -> int:
        """Pick up rows a writer added (only rows counted in /rows are complete)."""
        rows = super().refresh()

        def count() -> int:
            written = self._share.dataset("rows")
            if self._f.swmr_mode:
                written.refresh()
                self._share.dataset("status").refresh()
            return int(written[()])

        self._n_rows = min(rows, read_live(self.path, "row count", self._f.swmr_mode, count))
        return self._n_rows


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
