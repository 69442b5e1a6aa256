"""Sampling sources: a sampling run's rows (a `Reader`) with its config, for postprocess and export.

A `SamplingSource` is one `backend.data.reader.Reader` whose first `n_inputs`
channels are the inputs (V) and the rest the outputs (nA), plus what only a
sampling run has: its config, batch length and the config dict as bspysmg
stores it (`peer_config()`). Postprocessing, export and the clipping preview
read every kind through the same reader objects as the rest of the data layer:

- `RecordingSource`: our HDF5 recordings (complete batches only);
- `backend.data.formats.bspysmg.BspysmgFolder`: the peer's IO.dat + sampler_configs.json;
- `NpzSource`: a bspysmg-style npz dataset (export only), under the pickle rule;
- `MergedSource`: several compatible sources, one after the other.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from backend.config import SamplingConfig, bspysmg_config_dict, parse_config
from backend.data.formats.bspysmg import BspysmgFolder, bspysmg_folder_of, is_bspysmg_folder
from backend.data.formats.hdf5files import RecordingReader, hdf5_format, is_hdf5
from backend.data.formats.npz import open_peer_npz
from backend.data.formats.npzfile import npz_array_info
from backend.data.merge import MergedSource
from backend.data.sampling_source import SamplingSource
from backend.errors import FileFormatError, RecordingError, SamplelabError
from backend.files import check_regular
from backend.recording.reader import FORMAT_NAME

__all__ = [
    "BspysmgFolder",
    "NpzSource",
    "RecordingSource",
    "RowSource",
    "SamplingSource",
    "open_export_source",
    "open_source",
    "open_sources",
    "source_from",
]

#: The former name of the source protocol.
RowSource = SamplingSource


def _sorted(value: Any) -> Any:
    """Keys sorted at every level, as the peer's yaml.dump/yaml.load round trip leaves them."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    return value


class RecordingSource(SamplingSource):
    """One of our HDF5 recordings (complete batches only); refused while still recorded."""

    def __init__(self, path: str | os.PathLike) -> None:
        reader = RecordingReader(path)
        rec = reader.recording
        if rec.writer_alive():
            reader.close()
            raise RecordingError(
                f"{rec.path} is still being recorded",
                "Postprocess it once the session has ended (or stop the session first).",
            )
        if rec.n_rows == 0:
            reader.close()
            raise RecordingError(f"{rec.path} holds no complete batch", "Nothing to process.")
        note = (
            f"{rec.status} recording: {rec.batches_done} of {rec.batches_planned} batches; "
            "using those"
            if rec.batches_done < rec.batches_planned
            else ""
        )
        super().__init__(
            rec.path, reader, rec.config, batches_planned=rec.batches_planned, note=note
        )
        self.recording = rec
        self.run_notes = dict(rec.notes)

    def peer_config(self) -> dict[str, Any]:
        """bspysmg's dict (amplitude/offset as numpy arrays), batches as recorded."""
        cfg = self.config.model_copy(deep=True)
        cfg.input_data.number_batches = self.batches_done
        return _sorted(bspysmg_config_dict(cfg))


_DERIVED_KEYS = ("electrode_info", "merged_from")


class NpzSource(SamplingSource):
    """A bspysmg-style npz (inputs, outputs, config) under the pickle rule.

    The arrays are always readable; the config comes from our JSON key, or
    from the peer's pickle only with `trust_pickle=True`. Without a readable
    config, `peer_config()` raises the reason (exports that need it fail
    clearly; CSV does not need it).
    """

    def __init__(self, path: str | os.PathLike, trust_pickle: bool = False) -> None:
        path = Path(path)
        shapes = {key: npz_array_info(path, key) for key in ("inputs", "outputs")}
        for key, (shape, dtype) in shapes.items():
            if dtype.hasobject or dtype.kind not in "biuf" or len(shape) != 2:
                raise FileFormatError(
                    f"{path}: {key!r} is a {dtype} array of shape {shape}, "
                    "expected a 2-D table of numbers (rows x channels)"
                )
        rows, rows_out = shapes["inputs"][0][0], shapes["outputs"][0][0]
        if rows != rows_out:
            raise FileFormatError(f"{path}: {rows} input rows but {rows_out} output rows")
        reader = open_peer_npz(path, trust_pickle, verified=True)  # export reads every row
        self._peer = reader.config
        self._config_error = reader.config_error
        config = None
        if self._peer is not None:
            data = {k: v for k, v in self._peer.items() if k not in _DERIVED_KEYS}
            with contextlib.suppress(SamplelabError):
                config = parse_config(data, str(path))
        n_in = shapes["inputs"][0][1]
        bp = config.batch_points if config is not None else max(1, rows)
        super().__init__(path, reader, config, n_inputs=n_in, batch_points=bp)
        self.batches_done = self.batches_planned = max(1, self.batches_done)

    @property
    def config(self) -> SamplingConfig:
        """The typed config (electrode_info and merge notes set aside)."""
        data = {k: v for k, v in self.peer_config().items() if k not in _DERIVED_KEYS}
        return parse_config(data, str(self.path))

    def peer_config(self) -> dict[str, Any]:
        if self._peer is None:
            raise self._config_error or FileFormatError(f"{self.path} holds no sampling config")
        return copy.deepcopy(self._peer)


def open_source(path: str | os.PathLike) -> SamplingSource:
    """A recording (.h5) or a bspysmg sampling folder (or its IO.dat / config file)."""
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path} not found")
    if not path.is_dir():  # a FIFO or device would block the open or never end
        check_regular(path, "recording or sampling-folder file")
    folder = bspysmg_folder_of(path)
    if folder.is_dir():
        if not is_bspysmg_folder(folder) and any(folder.glob("*.h5")):
            raise FileFormatError(
                f"{folder} is not a bspysmg sampling folder (no IO.dat + sampler_configs.json)",
                "Give the recording file (.h5) itself, or a folder written by bspysmg's sampler.",
            )
        return BspysmgFolder(folder)
    if is_hdf5(path) and hdf5_format(path) == FORMAT_NAME:  # a cut or damaged file says so
        return RecordingSource(path)
    if path.suffix == ".npz":
        raise FileFormatError(
            f"{path} is a dataset (.npz), already postprocessed",
            "Postprocess the recording (.h5) or sampling folder it came from.",
        )
    raise FileFormatError(
        f"{path} is neither a samplelab recording nor a bspysmg sampling folder",
        "Give a recording (.h5) or a folder with IO.dat and sampler_configs.json.",
    )


def open_export_source(path: str | os.PathLike, trust_pickle: bool = False) -> SamplingSource:
    """What `samplelab export` reads: a recording, a sampling folder or an npz dataset."""
    if Path(path).suffix == ".npz" and Path(path).is_file():
        return NpzSource(path, trust_pickle)
    return open_source(path)


def open_sources(paths: Sequence[str | os.PathLike]) -> SamplingSource:
    """One source, or a MergedSource of several; closes what it opened on failure."""
    opened: list[SamplingSource] = []
    try:
        for path in paths:
            opened.append(open_source(path))
        return opened[0] if len(opened) == 1 else MergedSource(opened)
    except BaseException:
        for source in opened:
            source.close()
        raise


@contextlib.contextmanager
def source_from(
    source: str | os.PathLike | Sequence[str | os.PathLike] | SamplingSource,
    opener: Callable[[Sequence[str | os.PathLike]], SamplingSource] = open_sources,
) -> Iterator[SamplingSource]:
    """A job's source: path(s) are opened for the block and closed after; a source is lent."""
    if not isinstance(source, (str, os.PathLike, list, tuple)):
        yield source
        return
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    opened = opener(paths)
    try:
        yield opened
    finally:
        opened.close()
