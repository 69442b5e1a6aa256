"""Row sources for postprocessing and export: our recordings, bspysmg folders, merges.

A source is anything with `config`, `n_rows`, `batch_points`, `batches_done`,
`input_names`/`output_names`, `iter_chunks(rows)` -> (first_row, inputs,
outputs) and `peer_config()` (the config dict as bspysmg stores it).
`Recording` gets `peer_config` through `RecordingSource`; `BspysmgFolder`
has it. `MergedSource` chains several compatible sources.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from backend.config import SamplingConfig, bspysmg_config_dict, parse_config
from backend.errors import FileFormatError, RecordingError, SamplelabError
from backend.formats.bspysmg import BspysmgFolder, bspysmg_folder_of, is_bspysmg_folder
from backend.formats.iodat import DEFAULT_CHUNK_ROWS
from backend.formats.npz import iter_npz_rows, npz_array_info, read_npz_config
from backend.recording import Recording, is_recording


class RowSource(Protocol):
    path: Path
    config: SamplingConfig
    n_rows: int
    batch_points: int
    batches_done: int
    batches_planned: int
    input_names: list[str]
    output_names: list[str]
    note: str

    def iter_chunks(self, rows: int = ...) -> Iterator[tuple[int, np.ndarray, np.ndarray]]: ...

    def peer_config(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class MergeError(SamplelabError):
    """Recordings that cannot be combined into one dataset; the message says why."""


def _sorted(value: Any) -> Any:
    """Keys sorted at every level, as the peer's yaml.dump/yaml.load round trip leaves them."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    return value


class RecordingSource:
    """One of our HDF5 recordings as a row source (complete batches only)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self._rec = Recording(path)
        rec = self._rec
        if rec.writer_alive():
            rec.close()
            raise RecordingError(
                f"{rec.path} is still being recorded",
                "Postprocess it once the session has ended (or stop the session first).",
            )
        if rec.n_rows == 0:
            rec.close()
            raise RecordingError(f"{rec.path} holds no complete batch", "Nothing to process.")
        self.path = rec.path
        self.config = rec.config
        self.n_rows = rec.n_rows
        self.batch_points = rec.batch_points
        self.batches_done = rec.batches_done
        self.batches_planned = rec.batches_planned
        self.fs = rec.fs
        self.input_names, self.output_names = rec.input_names, rec.output_names
        status = rec.status
        self.note = (
            f"{status} recording: {rec.batches_done} of {rec.batches_planned} batches; using those"
            if rec.batches_done < rec.batches_planned
            else ""
        )
        self.recording = rec

    def iter_chunks(
        self, rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        return self._rec.iter_chunks(rows)

    def read(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self._rec.read(start, stop)

    def iter_output_chunks(
        self, rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(first_row, outputs) only: the outputs dataset alone is a fraction of the file."""
        for start in range(0, self.n_rows, rows):
            yield start, self._rec.outputs[start : min(start + rows, self.n_rows)]

    def peer_config(self) -> dict[str, Any]:
        """bspysmg's dict (amplitude/offset as numpy arrays), batches as recorded."""
        cfg = self.config.model_copy(deep=True)
        cfg.input_data.number_batches = self.batches_done
        return _sorted(bspysmg_config_dict(cfg))

    def close(self) -> None:
        self._rec.close()


def open_source(path: str | os.PathLike) -> RecordingSource | BspysmgFolder:
    """A recording (.h5) or a bspysmg sampling folder (or its IO.dat / config file)."""
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path} not found")
    folder = bspysmg_folder_of(path)
    if folder.is_dir():
        if not is_bspysmg_folder(folder) and any(folder.glob("*.h5")):
            raise FileFormatError(
                f"{folder} is not a bspysmg sampling folder (no IO.dat + sampler_configs.json)",
                "Give the recording file (.h5) itself, or a folder written by bspysmg's sampler.",
            )
        return BspysmgFolder(folder)
    if is_recording(path):
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


# --- merging ----------------------------------------------------------------------------

#: What must agree for rows of two recordings to form one dataset, and why.
_MUST_MATCH = (
    ("inputs", lambda c: c.n_inputs, "activation electrode count"),
    ("outputs", lambda c: c.n_outputs, "readout electrode count"),
    ("activation channels", lambda c: list(c.layout().activation_channels), "DAQ wiring"),
    ("readout channels", lambda c: list(c.layout().readout_channels), "DAQ wiring"),
    ("amplification", lambda c: list(c.driver.amplification), "output scale (nA per V)"),
    ("inverted_output", lambda c: c.driver.inverted_output, "output sign"),
    ("activation_sampling_frequency", lambda c: c.fs, "rate"),
    (
        "readout_sampling_frequency",
        lambda c: c.driver.instruments_setup.readout_sampling_frequency,
        "averaging per point",
    ),
    ("batch_points", lambda c: c.batch_points, "batch length"),
    ("voltage ranges", lambda c: c.voltage_ranges().tolist(), "input ranges"),
    ("amplitude", lambda c: np.round(c.amplitude(), 12).tolist(), "wave ranges (electrode_info)"),
    ("offset", lambda c: np.round(c.offset(), 12).tolist(), "wave ranges (electrode_info)"),
)
#: May differ between merged sources: they change coverage, not what a row means.
MAY_DIFFER = (
    "input_distribution (sine/sawtooth)",
    "input_frequency",
    "phase",
    "random_phase_shift_each",
    "number_batches",
    "ramp_time",
    "data_name / save_directory",
)


def merge_problems(sources: Sequence[RowSource]) -> list[str]:
    """Why each source cannot join the first; empty when all can be merged."""
    problems = []
    first = sources[0]
    for other in sources[1:]:
        for name, get, why in _MUST_MATCH:
            a, b = get(first.config), get(other.config)
            if a != b:
                problems.append(
                    f"{other.path}: {name} is {b}, but {a} in {first.path} ({why} must agree)"
                )
    return problems


def check_mergeable(sources: Sequence[RowSource]) -> None:
    problems = merge_problems(sources)
    if problems:
        raise MergeError(
            "these recordings cannot be merged into one dataset:\n"
            + "\n".join(f"  - {p}" for p in problems),
            "Merge only recordings of the same device and setup; wave shape, frequencies "
            "and phases may differ.",
        )


class MergedSource:
    """Several compatible sources read one after the other as one table."""

    def __init__(self, sources: Sequence[RowSource]) -> None:
        if not sources:
            raise ValueError("nothing to merge")
        check_mergeable(sources)
        self.sources = list(sources)
        first = self.sources[0]
        self.path = first.path
        self.config = first.config
        self.batch_points = first.batch_points
        self.fs = float(first.config.fs)
        self.n_rows = sum(s.n_rows for s in self.sources)
        self.batches_done = sum(s.batches_done for s in self.sources)
        self.batches_planned = sum(s.batches_planned for s in self.sources)
        self.input_names, self.output_names = first.input_names, first.output_names
        self.note = "; ".join(s.note for s in self.sources if s.note)

    def iter_chunks(
        self, rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        offset = 0
        for source in self.sources:
            for first, x, y in source.iter_chunks(rows):
                yield offset + first, x, y
            offset += source.n_rows

    def peer_config(self) -> dict[str, Any]:
        """The first source's dict; keys that differ become 'mixed' (the peer's merge rule)."""
        configs = [s.peer_config() for s in self.sources]
        merged = configs[0]
        inputs = merged["input_data"]
        for key in (
            "input_distribution",
            "input_frequency",
            "phase",
            "random_phase_shift_each",
            "ramp_time",
        ):
            values = [c["input_data"].get(key) for c in configs]
            if any(_differs(values[0], v) for v in values[1:]):
                inputs[key] = "mixed"
        inputs["number_batches"] = self.batches_done
        merged["merged_from"] = [
            {"path": str(s.path), "rows": s.n_rows, "batches": s.batches_done} for s in self.sources
        ]
        return merged

    def close(self) -> None:
        for source in self.sources:
            source.close()


def reads_outputs_alone(source: Any) -> bool:
    """Whether the outputs can be read without the inputs (a cheap first pass)."""
    return all(hasattr(p, "iter_output_chunks") for p in getattr(source, "sources", [source]))


def output_chunks(source: Any, rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """(first_row, outputs) blocks, reading only outputs where the storage allows."""
    parts = getattr(source, "sources", [source])
    offset = 0
    for part in parts:
        if hasattr(part, "iter_output_chunks"):
            blocks = part.iter_output_chunks(rows)
        else:
            blocks = ((first, y) for first, _, y in part.iter_chunks(rows))
        for first, y in blocks:
            yield offset + first, y
        offset += part.n_rows


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return not np.array_equal(np.asarray(a), np.asarray(b))
    return a != b


class NpzSource:
    """A bspysmg-style npz (inputs, outputs, config) read in chunks, under the pickle rule.

    The arrays are always readable; the config comes from our JSON key, or
    from the peer's pickle only with `trust_pickle=True`. Without a readable
    config, `peer_config()` raises the reason (exports that need it fail
    clearly; CSV does not need it).
    """

    note = ""

    def __init__(self, path: str | os.PathLike, trust_pickle: bool = False) -> None:
        self.path = Path(path)
        (rows, n_in), _ = _table_info(self.path, "inputs")
        (rows_out, n_out), _ = _table_info(self.path, "outputs")
        if rows != rows_out:
            raise FileFormatError(f"{self.path}: {rows} input rows but {rows_out} output rows")
        self.n_rows, self.n_inputs, self.n_outputs = rows, n_in, n_out
        self.input_names = [f"Input {i}" for i in range(n_in)]
        self.output_names = [f"Output {i}" for i in range(n_out)]
        self._config: dict | None = None
        self._config_error: FileFormatError | None = None
        try:
            self._config = read_npz_config(self.path, trust_pickle)
        except FileFormatError as exc:
            self._config_error = exc
        self.batch_points, self.fs = rows, 0.0
        if self._config is not None:
            try:
                typed = self.config
                self.batch_points, self.fs = typed.batch_points, float(typed.fs)
            except SamplelabError:
                pass
        self.batches_done = self.batches_planned = max(1, rows // self.batch_points)

    @property
    def config(self) -> SamplingConfig:
        """The typed config (electrode_info and merge notes set aside)."""
        data = {k: v for k, v in self.peer_config().items() if k not in _DERIVED_KEYS}
        return parse_config(data, str(self.path))

    def read(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows [start, stop), streamed up to `stop` (npz members cannot seek)."""
        stop = self.n_rows if stop is None else min(stop, self.n_rows)
        xs, ys = [], []
        for first, x, y in self.iter_chunks():
            a, b = max(start, first), min(stop, first + len(x))
            if a < b:
                xs.append(x[a - first : b - first])
                ys.append(y[a - first : b - first])
            if first + len(x) >= stop:
                break
        if not xs:
            return np.empty((0, self.n_inputs)), np.empty((0, self.n_outputs))
        return np.concatenate(xs), np.concatenate(ys)

    def iter_chunks(
        self, rows: int = DEFAULT_CHUNK_ROWS
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        xs = iter_npz_rows(self.path, "inputs", rows)
        ys = iter_npz_rows(self.path, "outputs", rows)
        for (first, x), (_, y) in zip(xs, ys):
            yield first, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def peer_config(self) -> dict[str, Any]:
        if self._config is None:
            assert self._config_error is not None
            raise self._config_error
        return copy.deepcopy(self._config)

    def close(self) -> None:
        """Nothing stays open between reads."""


_DERIVED_KEYS = ("electrode_info", "merged_from")


def _table_info(path: Path, key: str) -> tuple[tuple[int, int], np.dtype]:
    shape, dtype = npz_array_info(path, key)
    if dtype.hasobject or dtype.kind not in "biuf" or len(shape) != 2:
        raise FileFormatError(
            f"{path}: {key!r} is a {dtype} array of shape {shape}, "
            "expected a 2-D table of numbers (rows x channels)"
        )
    return (int(shape[0]), int(shape[1])), dtype


def open_export_source(
    path: str | os.PathLike, trust_pickle: bool = False
) -> RecordingSource | BspysmgFolder | NpzSource:
    """What `samplelab export` reads: a recording, a sampling folder or an npz dataset."""
    if Path(path).suffix == ".npz" and Path(path).is_file():
        return NpzSource(path, trust_pickle)
    return open_source(path)


def open_sources(paths: Sequence[str | os.PathLike]) -> RowSource:
    """One source, or a MergedSource of several; closes what it opened on failure."""
    opened: list[Any] = []
    try:
        for path in paths:
            opened.append(open_source(path))
        return opened[0] if len(opened) == 1 else MergedSource(opened)
    except BaseException:
        for source in opened:
            source.close()
        raise
