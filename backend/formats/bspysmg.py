"""Folders that brainspy-smg's own scripts read and write: IO.dat + sampler_configs.json.

`BspysmgFolder` reads one (config at once, data lazily in chunks) with the
same reading API as `backend.recording.Recording`, so postprocessing, export
and browsing treat both alike. `export_bspysmg_folder` writes a recording as
such a folder.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from backend.config import (
    BSPYSMG_CONFIG_NAME,
    SamplingConfig,
    config_to_bspysmg_yaml,
    parse_config,
    read_config_dict,
)
from backend.errors import FileFormatError, RecordingError
from backend.formats.iodat import (
    DEFAULT_CHUNK_ROWS,
    IODAT_NAME,
    check_iodat_columns,
    count_iodat_rows,
    iodat_error,
    read_iodat_chunks,
    read_iodat_layout,
    write_iodat,
)
from backend.recording import Recording


def is_bspysmg_folder(path: str | os.PathLike) -> bool:
    """A folder holding both IO.dat and sampler_configs.json."""
    path = Path(path)
    return (
        path.is_dir() and (path / IODAT_NAME).is_file() and (path / BSPYSMG_CONFIG_NAME).is_file()
    )


def bspysmg_folder_of(path: str | os.PathLike) -> Path:
    """The sampling folder for a path naming the folder, its IO.dat or its config."""
    path = Path(path)
    if path.is_file() and path.name in (IODAT_NAME, BSPYSMG_CONFIG_NAME):
        return path.parent
    return path


class BspysmgFolder:
    """A bspysmg sampling folder, read like a recording: config now, rows in chunks.

    Opening checks everything that is cheap to check: both files exist, the
    config is valid, the IO.dat header matches it, the last line is complete
    and the rows are a whole number of batches (no more than planned; fewer is
    an interrupted sampling and is accepted, see `note`). Bad values inside
    the table are reported, with their line, while reading.
    """

    input_units = "V"
    output_units = "nA"

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = bspysmg_folder_of(path)
        if not self.path.is_dir():
            raise FileFormatError(
                f"{self.path} is not a folder",
                "Choose a bspysmg sampling folder (IO.dat + sampler_configs.json).",
            )
        self.iodat_path = self.path / IODAT_NAME
        self.config_path = self.path / BSPYSMG_CONFIG_NAME
        for needed in (self.config_path, self.iodat_path):
            if not needed.is_file():
                raise FileFormatError(
                    f"{self.path} has no {needed.name}",
                    "A bspysmg sampling folder holds both IO.dat and sampler_configs.json, "
                    "as the sampler wrote them; copy the missing file into the folder.",
                )
        raw = read_config_dict(self.config_path)
        self.config: SamplingConfig = parse_config(raw, str(self.config_path))
        self._raw_config = raw
        self.layout = read_iodat_layout(self.iodat_path)
        check_iodat_columns(self.layout, self.config.n_inputs, self.config.n_outputs)
        self.n_rows = count_iodat_rows(self.iodat_path, self.layout)
        self.batch_points = self.config.batch_points
        self.batches_planned = self.config.number_batches
        self.fs = float(self.config.fs)
        self.input_names = self.config.input_names()
        self.output_names = self.config.output_names()
        self.note = self._check_rows()
        self.batches_done = self.n_rows // self.batch_points

    def _check_rows(self) -> str:
        rows, bp, planned = self.n_rows, self.batch_points, self.batches_planned
        if rows == 0:
            raise iodat_error(self.iodat_path, None, "holds no data rows")
        if rows % bp:
            start = rows - rows % bp
            raise iodat_error(
                self.iodat_path,
                self.layout.line_of_row(start),
                f"{rows} data rows are not a whole number of {bp}-row batches: the last "
                f"batch, from this line on, has only {rows % bp} rows",
                "The sampling stopped mid-batch; delete the incomplete batch (from this line "
                "to the end of the file) to use the complete ones.",
            )
        if rows // bp > planned:
            raise iodat_error(
                self.iodat_path,
                None,
                f"holds {rows // bp} batches of {bp} rows but sampler_configs.json plans "
                f"number_batches = {planned}",
                "Use the sampler_configs.json that was saved with this IO.dat.",
            )
        if rows // bp < planned:
            return (
                f"IO.dat holds {rows // bp} of the {planned} planned batches "
                "(the sampling was interrupted); using those"
            )
        return ""

    # --- the reading API shared with Recording --------------------------------------
    @property
    def channel_names(self) -> list[str]:
        return self.input_names + self.output_names

    @property
    def units(self) -> list[str]:
        return [self.input_units] * len(self.input_names) + [self.output_units] * len(
            self.output_names
        )

    def duration_s(self) -> float:
        return self.n_rows / self.fs

    def iter_chunks(
        self, rows: int = DEFAULT_CHUNK_ROWS, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Yield (first_row, inputs, outputs) in blocks of `rows`; bounded memory."""
        stop = self.n_rows if stop is None else min(stop, self.n_rows)
        if start >= stop:
            return
        yield from read_iodat_chunks(
            self.iodat_path, self.config.n_inputs, self.config.n_outputs, rows, start, stop
        )

    def read(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, outputs) rows [start, stop), parsed from the text."""
        xs, ys = [], []
        for _, x, y in self.iter_chunks(DEFAULT_CHUNK_ROWS, start, stop):
            xs.append(x)
            ys.append(y)
        if not xs:
            return np.empty((0, self.config.n_inputs)), np.empty((0, self.config.n_outputs))
        return np.concatenate(xs), np.concatenate(ys)

    def peer_config(self) -> dict[str, Any]:
        """The config dict exactly as the peer's post_process loads it (a fresh copy).

        Amplitude/offset are numpy arrays as in the file; when the file lacks
        them they are filled in as the sampler would have saved them. If the
        sampling was interrupted, number_batches is the number of batches present.
        """
        data = copy.deepcopy(self._raw_config)
        inputs = data.setdefault("input_data", {})
        if "amplitude" not in inputs or "offset" not in inputs:
            inputs["amplitude"] = np.asarray(self.config.amplitude(), dtype=np.float64)
            inputs["offset"] = np.asarray(self.config.offset(), dtype=np.float64)
        if self.batches_done != self.batches_planned:
            inputs["number_batches"] = self.batches_done
        return data

    def summary(self) -> dict:
        """Plain-JSON facts, like `Recording.summary()` (without a data pass)."""
        return {
            "path": str(self.path),
            "format": "bspysmg sampling folder (IO.dat + sampler_configs.json)",
            "status": "interrupted" if self.note else "complete",
            "message": self.note,
            "batches_done": self.batches_done,
            "batches_planned": self.batches_planned,
            "batch_points": self.batch_points,
            "rows": self.n_rows,
            "sampling_frequency_hz": self.fs,
            "duration_s": self.duration_s(),
            "config": self.config.to_bspysmg(),
        }

    def close(self) -> None:
        """Nothing stays open between reads; here for symmetry with Recording."""

    def __enter__(self) -> BspysmgFolder:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def import_bspysmg_folder(
    folder: str | os.PathLike | BspysmgFolder,
    path: str | os.PathLike,
    overwrite: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> Path:
    """Copy a bspysmg sampling folder into one of our HDF5 recordings; returns its path.

    One recording batch per IO.dat batch. The peer neither seeds nor logs its
    phases, so the batch table's phases are NaN; the config is stored as read.
    """
    from backend.recording import RecordingWriter

    src = folder if isinstance(folder, BspysmgFolder) else BspysmgFolder(folder)
    config = src.config.model_copy(deep=True)
    config.input_data.number_batches = src.batches_done
    device = {"kind": "imported", "name": "bspysmg IO.dat", "source": str(src.path)}
    writer = RecordingWriter.create(path, config, device, seed=0, overwrite=overwrite)
    bp, phases = src.batch_points, np.full(config.n_inputs, np.nan)
    status, message = "failed", "import did not finish"
    try:
        for first, x, y in src.iter_chunks(max(1, DEFAULT_CHUNK_ROWS // bp) * bp):
            for k in range(0, len(x), bp):
                index = (first + k) // bp
                writer.append(
                    index, x[k : k + bp], y[k : k + bp], phases, index * bp / src.fs, np.nan, np.nan
                )
            if on_rows is not None:
                on_rows(first + len(x))
        status, message = "complete", ""
    finally:
        writer.close(status, message)
        if status != "complete":
            Path(path).unlink(missing_ok=True)
    return Path(path)


def export_bspysmg_folder(
    recording: str | os.PathLike | Recording,
    out_dir: str | os.PathLike,
    overwrite: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> Path:
    """Write a recording as a bspysmg sampling folder; returns the folder.

    The config records the batches actually sampled, so the peer's
    post_process (which requires rows == number_batches * batch_points)
    accepts a folder exported from an interrupted recording too.
    """
    out = Path(out_dir)
    targets = [out / IODAT_NAME, out / BSPYSMG_CONFIG_NAME]
    if not overwrite and any(t.exists() for t in targets):
        raise RecordingError(
            f"{out} already holds a bspysmg export", "Choose another folder or allow overwriting."
        )
    rec = recording if isinstance(recording, Recording) else Recording(recording)
    try:
        out.mkdir(parents=True, exist_ok=True)
        config = rec.config.model_copy(deep=True)
        config.input_data.number_batches = rec.batches_done
        blocks = ((x, y) for _, x, y in rec.iter_chunks())
        write_iodat(targets[0], blocks, rec.config.n_inputs, rec.config.n_outputs, on_rows)
        text = config_to_bspysmg_yaml(config, save_directory=str(out))
        targets[1].write_text(text, encoding="utf-8")
    finally:
        if rec is not recording:
            rec.close()
    return out
