"""Training data in memory, read through the data layer: arrays, config and provenance.

A DATASET is a postprocessed npz (the peer's or ours), a recording, a
bspysmg sampling folder, a folder holding `postprocessed_data.npz`, or a
dataset export folder (`train.npz`, `validation.npz`, `test.npz`). One
source is split by percentages; two or three are train, validation and test,
in that order, as in the peer's `dataset_paths`. Every file is opened with
`backend.data.kinds.open_reader` and its sampling config comes from
`backend.datasets.export.source_config`: no reader of our own here.

Rows are held as float32 tensors-to-be (inputs in V, targets = outputs /
amplification, computed in float64 first, as the peer does), so training
indexes memory instead of calling a Dataset per item. Each file read is
hashed (sha256) for the run's provenance.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.formats.bspysmg import CONFIG_NAME, IODAT_NAME
from backend.data.kinds import open_reader
from backend.datasets.export import check_sources, source_config
from backend.datasets.splits import SPLIT_NAMES
from backend.errors import FileFormatError, SamplelabError
from backend.jobs import CancelToken, JobControl, ProgressFn

POSTPROCESSED_NAME = "postprocessed_data.npz"
CHUNK_ROWS = 1 << 18


@dataclass(frozen=True)
class SourceFile:
    path: str
    bytes: int
    sha256: str


@dataclass
class DataSource:
    """One dataset that was read: what it is, which split it feeds, its files' digests."""

    path: str
    kind: str
    role: str  # "all" (to be split), "train", "validation" or "test"
    rows: int
    files: list[SourceFile] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind,
            "role": self.role,
            "rows": self.rows,
            "files": [vars(f) for f in self.files],
        }


@dataclass
class TrainingData:
    """All rows of every source, end to end, and which rows a given split holds."""

    inputs: np.ndarray  # (n, d_in) float32, volts
    targets: np.ndarray  # (n, d_out) float32, outputs / amplification
    amplification: np.ndarray  # (d_out,) float64
    sampling_configs: dict  # the first source's peer config, electrode_info included
    sources: list[DataSource]
    extra_configs: dict = field(default_factory=dict)  # '<split>_sampling_configs'
    given: dict[str, np.ndarray] | None = None  # split name -> rows, when files name splits

    @property
    def n_rows(self) -> int:
        return len(self.inputs)

    @property
    def d_in(self) -> int:
        return self.inputs.shape[1]

    @property
    def d_out(self) -> int:
        return self.targets.shape[1]

    @property
    def electrode_info(self) -> dict:
        return self.sampling_configs["electrode_info"]


def plain(value: Any) -> Any:
    """`value` with numpy arrays and scalars turned into lists and Python numbers.

    torch's weights_only loader accepts only plain types; the peer's configs
    hold numpy arrays (voltage ranges, amplitudes).
    """
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def expand_sources(paths: list[str | os.PathLike]) -> list[tuple[Path, str]]:
    """(file, role) pairs for the DATASET arguments (see the module docstring)."""
    if not paths:
        raise SamplelabError(
            "no dataset given", "Name a postprocessed npz, a recording or a folder."
        )
    if len(paths) == 1 and Path(paths[0]).is_dir():
        folder = Path(paths[0])
        named = [(folder / f"{name}.npz", name) for name in SPLIT_NAMES]
        if named[0][0].is_file():
            return [(p, role) for p, role in named if p.is_file()]
        if (folder / POSTPROCESSED_NAME).is_file():
            return [(folder / POSTPROCESSED_NAME, "all")]
        return [(folder, "all")]
    if len(paths) > 3:
        raise SamplelabError(
            f"{len(paths)} datasets given; give one (to split) or train, validation and test",
            "Merge recordings into one dataset first with `samplelab dataset`.",
        )
    if len(paths) == 1:
        return [(Path(paths[0]), "all")]
    for p in paths:
        if Path(p).is_dir():
            raise SamplelabError(f"{p} is a folder; with several datasets give files")
    return [(Path(p), role) for p, role in zip(paths, SPLIT_NAMES)]


def file_digest(path: Path, control: JobControl | None = None) -> SourceFile:
    """sha256 of a file, read in 4 MiB pieces (cancellable)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while piece := fh.read(1 << 22):
            digest.update(piece)
            size += len(piece)
            if control is not None:
                control.check()
    return SourceFile(str(path.resolve()), size, digest.hexdigest())


def _files_of(path: Path) -> list[Path]:
    if path.is_dir():  # a bspysmg sampling folder: what its reader reads
        return [path / IODAT_NAME, path / CONFIG_NAME]
    return [path]


def _read_rows(
    reader: Any, n_in: int, steps: int, control: JobControl, done: list[int], total: int
):
    n = reader.n_rows
    keep = len(range(0, n, steps))
    n_out = reader.n_channels - n_in
    inputs = np.empty((keep, n_in), dtype=np.float32)
    outputs = np.empty((keep, n_out), dtype=np.float64)
    at = 0
    for start in range(0, n, CHUNK_ROWS * steps):
        stop = min(n, start + CHUNK_ROWS * steps)
        x, y = reader.read_column_groups(start, stop, [n_in, n_out])
        x, y = x[::steps], y[::steps]
        inputs[at : at + len(x)] = x
        outputs[at : at + len(y)] = y
        at += len(x)
        done[0] += stop - start
        control.report("reading", done[0], total)
    return inputs, outputs


def load_training_data(
    paths: list[str | os.PathLike],
    steps: int = 1,
    *,
    trust_pickle: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> TrainingData:
    """Every row of the datasets named, in memory, with config and provenance."""
    control = JobControl(progress, cancel)
    pairs = expand_sources(paths)
    readers, configs = [], []
    try:
        for path, _role in pairs:
            reader = open_reader(path, trust_pickle=trust_pickle, verified=True)
            readers.append(reader)
            configs.append(source_config(reader, trust_pickle))
        n_in = check_sources(readers, configs)
        total = sum(r.n_rows for r in readers)
        done = [0]
        xs, ys, sources = [], [], []
        for (path, role), reader in zip(pairs, readers):
            x, y = _read_rows(reader, n_in, steps, control, done, total)
            xs.append(x)
            ys.append(y)
            sources.append(DataSource(str(path.resolve()), reader.kind, role, len(x)))
    finally:
        for reader in readers:
            reader.close()
    if not all(len(x) for x in xs):
        empty = [s.path for s, x in zip(sources, xs) if not len(x)]
        raise SamplelabError(f"{', '.join(empty)} holds no rows to train on")
    amplification = np.atleast_1d(np.asarray(configs[0]["driver"]["amplification"], float))
    if len(amplification) not in (1, ys[0].shape[1]):
        raise FileFormatError(
            f"{sources[0].path}: {ys[0].shape[1]} outputs but {len(amplification)} amplifications"
        )
    amplification = np.broadcast_to(amplification, (ys[0].shape[1],)).copy()
    hashed = sum(f.stat().st_size for p, _ in pairs for f in _files_of(p))
    seen = 0
    for source, (path, _role) in zip(sources, pairs):
        for f in _files_of(path):
            source.files.append(file_digest(f, control))
            seen += source.files[-1].bytes
            control.report("hashing", seen, hashed, unit="B")
    given = None
    if pairs[0][1] != "all":
        bounds = np.cumsum([0, *(len(x) for x in xs)])
        given = {role: np.arange(bounds[i], bounds[i + 1]) for i, (_p, role) in enumerate(pairs)}
    extra = {
        f"{role}_sampling_configs": plain(configs[i])
        for i, (_p, role) in enumerate(pairs)
        if i > 0 and role != "all"
    }
    return TrainingData(
        inputs=np.concatenate(xs) if len(xs) > 1 else xs[0],
        targets=(np.concatenate(ys) / amplification).astype(np.float32),
        amplification=amplification,
        sampling_configs=plain(configs[0]),
        sources=sources,
        extra_configs=extra,
        given=given,
    )
