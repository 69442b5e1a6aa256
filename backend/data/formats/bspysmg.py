"""Folders that brainspy-smg's own scripts read and write: IO.dat + sampler_configs.json.

`BspysmgFolder` is such a folder as a sampling source (config now, rows
through the IO.dat reader), strict about everything postprocessing needs;
`open_bspysmg_folder` is the lenient data-layer reader of the same files
(any config, or none). `export_bspysmg_folder` writes a recording as such a
folder and `import_bspysmg_folder` copies one into a recording.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from backend.channels import ChannelLayout
from backend.config import (
    BSPYSMG_CONFIG_NAME,
    SamplingConfig,
    config_to_bspysmg_yaml,
    parse_config,
    read_config_dict,
)
from backend.data.formats.iodat import (
    IODAT_NAME,
    check_iodat_columns,
    iodat_error,
    read_iodat_layout,
    write_iodat,
)
from backend.data.formats.textrows import TextRowsReader
from backend.data.sampling_source import SamplingSource
from backend.errors import ConfigError, FileFormatError, Problem, RecordingError
from backend.files import check_regular
from backend.jobs import DEFAULT_CHUNK_ROWS
from backend.recording.reader import Recording
from backend.recording.writer import RecordingWriter

CONFIG_NAME = BSPYSMG_CONFIG_NAME


def config_facts(config: Any) -> dict[str, Any]:
    """n_inputs, n_outputs, fs and amplification from a bspysmg config dict (any may be None)."""

    def section(parent: Any, key: str) -> dict:
        value = parent.get(key) if isinstance(parent, dict) else None
        return value if isinstance(value, dict) else {}

    data, driver = section(config, "input_data"), section(config, "driver")
    fs = section(driver, "instruments_setup").get("activation_sampling_frequency")
    return {
        "n_inputs": data.get("activation_electrode_no"),
        "n_outputs": data.get("readout_electrode_no"),
        "fs": float(fs) if isinstance(fs, (int, float)) and not isinstance(fs, bool) else None,
        "amplification": driver.get("amplification"),
    }


def folder_config_dict(folder: str | os.PathLike) -> dict | None:
    """The raw sampler_configs.json mapping of a folder; None if missing or unreadable."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        return None
    try:
        return read_config_dict(path)
    except ConfigError:
        return None


def is_bspysmg_folder(path: str | os.PathLike) -> bool:
    """A folder holding both IO.dat and sampler_configs.json."""
    path = Path(path)
    return path.is_dir() and (path / IODAT_NAME).is_file() and (path / CONFIG_NAME).is_file()


def bspysmg_folder_of(path: str | os.PathLike) -> Path:
    """The sampling folder for a path naming the folder, its IO.dat or its config."""
    path = Path(path)
    if path.is_file() and path.name in (IODAT_NAME, CONFIG_NAME):
        return path.parent
    return path


def open_bspysmg_folder(path: str | os.PathLike) -> TextRowsReader:
    """A lazy reader over a folder's (or a lone) IO.dat, named and scaled by its config.

    Lenient, for browsing: without a readable sampler_configs.json the rows
    still read (the notes say what is unknown); header names `Input i` /
    `Output j` then give the units.
    """
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    iodat = folder / IODAT_NAME if path.is_dir() else path
    if not iodat.is_file():
        raise FileFormatError(f"no IO.dat at {iodat}")
    config = folder_config_dict(folder)
    reader = TextRowsReader(iodat, kind="bspysmg-folder" if config else "iodat")
    n_in = config_facts(config)["n_inputs"]
    if not (isinstance(n_in, int) and 0 <= n_in <= reader.n_channels):
        n_in = sum(n.startswith("Input") for n in reader.channel_names)
        n_in = n_in if n_in and reader.channel_names[0].startswith("Input") else None
    if n_in is not None:
        reader.use_layout(ChannelLayout.peer(n_in, reader.n_channels - n_in))
    reader.fs = config_facts(config)["fs"]
    reader.config = config  # type: ignore[attr-defined]
    if config is None:
        state = "not readable" if (folder / CONFIG_NAME).is_file() else "not beside it"
        reader.notes.append(f"{CONFIG_NAME} is {state}: rate (and units) unknown")
    return reader


#: Keys bspysmg's sampler reads without a default: a file lacking one is not its output.
PEER_REQUIRED = ("input_data.batch_time",)


def parse_peer_config(raw: dict, path: str | os.PathLike) -> SamplingConfig:
    """A sampler_configs.json mapping as a config: bspysmg's required keys, then validation."""
    require_peer_keys(raw, path)
    return parse_config(raw, str(path))


def require_peer_keys(raw: dict, path: str | os.PathLike) -> None:
    """Refuse a sampler_configs.json without a key bspysmg requires (no default applies)."""
    missing = []
    for dotted in PEER_REQUIRED:
        node: Any = raw
        for key in dotted.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            missing.append(
                Problem(
                    dotted,
                    "is required in a bspysmg sampler_configs.json (bspysmg's "
                    "sampler requires it; no default is assumed)",
                )
            )
    if missing:
        raise ConfigError(missing, str(path))


class BspysmgFolder(SamplingSource):
    """A bspysmg sampling folder as a sampling source: config now, rows in chunks.

    Opening checks everything that is cheap to check: both files exist, the
    config is valid, the IO.dat header matches it, the last line is complete
    and the rows are a whole number of batches (no more than planned; fewer is
    an interrupted sampling and is accepted, see `note`). Bad values inside
    the table are reported, with their line, while reading.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        folder = bspysmg_folder_of(path)
        if not folder.is_dir():
            raise FileFormatError(
                f"{folder} is not a folder",
                "Choose a bspysmg sampling folder (IO.dat + sampler_configs.json).",
            )
        self.iodat_path = folder / IODAT_NAME
        self.config_path = folder / CONFIG_NAME
        for needed in (self.config_path, self.iodat_path):
            if os.path.lexists(needed):  # a FIFO or device in its place: say so, never block
                check_regular(needed, needed.name)
            if not needed.is_file():
                raise FileFormatError(
                    f"{folder} has no {needed.name}",
                    "A bspysmg sampling folder holds both IO.dat and sampler_configs.json, "
                    "as the sampler wrote them; copy the missing file into the folder.",
                )
        raw = read_config_dict(self.config_path)
        config = parse_peer_config(raw, self.config_path)
        self._raw_config = raw
        self.layout = read_iodat_layout(self.iodat_path)
        n_in, n_out = config.n_inputs, config.n_outputs
        check_iodat_columns(self.layout, n_in, n_out)
        channels = ChannelLayout.of_config(config)
        reader = TextRowsReader(
            self.layout, channels.names, channels.units, float(config.fs), "bspysmg-folder",
            widths=(n_in, n_out), strict=True,
        )  # fmt: skip
        reader.use_layout(channels)
        reader.config = raw  # type: ignore[attr-defined]
        super().__init__(folder, reader, config, batches_planned=config.number_batches)
        self.note = self._check_rows()

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


def write_bspysmg_folder(
    folder: Path,
    config: Any,
    blocks: Any,
    batches: int,
    save_directory: str,
    on_rows: Callable[[int], None] | None = None,
) -> None:
    """IO.dat (the peer's bytes) and sampler_configs.json saying `batches` batches."""
    config = config.model_copy(deep=True)
    config.input_data.number_batches = batches
    folder.mkdir(parents=True, exist_ok=True)
    write_iodat(folder / IODAT_NAME, blocks, config.n_inputs, config.n_outputs, on_rows)
    text = config_to_bspysmg_yaml(config, save_directory=save_directory)
    (folder / CONFIG_NAME).write_text(text, encoding="utf-8")


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
    if not overwrite and any((out / n).exists() for n in (IODAT_NAME, CONFIG_NAME)):
        raise RecordingError(
            f"{out} already holds a bspysmg export", "Choose another folder or allow overwriting."
        )
    rec = recording if isinstance(recording, Recording) else Recording(recording)
    try:
        blocks = ((x, y) for _, x, y in rec.iter_chunks())
        write_bspysmg_folder(out, rec.config, blocks, rec.batches_done, str(out), on_rows)
    finally:
        if rec is not recording:
            rec.close()
    return out
