"""The one registry of file kinds: what a file is (`detect_kind`) and how to read it.

`open_reader` (lazy) and `load_data` (into memory) open any kind as a 2-D table;
`samplelab info`, file streams, sampling sources and the browser all ask here.

What a file is, is decided by its content first (HDF5, npy, zip and MATLAB
signatures) and its name second, so a misnamed file still opens and a file
that only pretends to be something gives a clear `FileFormatError`.

Kinds: samplelab recordings and stream files, any HDF5 file, MATLAB .mat (v4/v5 and v7.3),
.npy (memory-mapped), .npz (incl. bspysmg's), bspysmg sampling folders and
IO.dat, raw binary + sidecar, csv/tsv/txt, torch .pt, pickle and joblib (the
last two only with `trust_pickle=True`). The formats load on use (`# on use: off
start-up`): the Recordings page imports this registry before the window paints.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.reader import ArrayReader, Reader
from backend.errors import FileFormatError
from backend.files import check_regular, open_regular

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".he5", ".nc")
TORCH_SUFFIXES = (".pt", ".pth")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".p")
JOBLIB_SUFFIXES = (".jl", ".joblib")
RAW_SUFFIXES = (".bin", ".raw", ".dat")


@dataclass(frozen=True)
class FileKind:
    """One kind of file: its name, its label for people, how to open it, how to spot it.

    `open(path, key, *, trust_pickle, order, settings)` returns a `Reader`.
    Kinds inside an HDF5 or npz container are spotted by their `hdf5_format`
    attribute or their npz member names (`npz_members`, none of `npz_without`).
    """

    name: str
    label: str
    open: Callable[..., Reader]
    hdf5_format: str | None = None
    npz_members: frozenset[str] = frozenset()
    npz_without: frozenset[str] = frozenset()


#: Modules above the data layer that add kinds (each defines FILE_KINDS). A new kind
#: from such a package is one module plus its name here; data-layer kinds are a line
#: in `_BUILT_IN` below and a module in backend/data/formats.
KIND_PROVIDERS = ("backend.characterise.readers",)
SUPPORTED = (
    "samplelab recordings, stream files and other HDF5 (.h5), MATLAB (.mat), numpy (.npy, .npz), "
    "bspysmg folders (IO.dat + sampler_configs.json), raw binary with a sidecar "
    "(.bin + .json/.yaml), text tables (.csv, .tsv, .txt), torch (.pt), "
    "pickle/joblib (.pkl, .jl; with trust_pickle)"
)


def detect_kind(path: str | os.PathLike) -> str:
    """The kind of a file or folder (a name in `file_kinds()`); FileFormatError when unknown."""
    # on use: kinds loads at start-up, the formats (h5py...) after
    from backend.data.formats.bspysmg import CONFIG_NAME, IODAT_NAME, is_bspysmg_folder
    from backend.data.formats.raw import find_sidecar

    path = Path(path)
    if path.is_dir():
        if is_bspysmg_folder(path):
            return "bspysmg-folder"
        for name in (IODAT_NAME, CONFIG_NAME):  # a FIFO or device in a file's place
            if os.path.lexists(path / name):
                check_regular(path / name, name)
        names = sorted(p.name for p in path.iterdir())[:20]
        raise FileFormatError(
            f"{path} is a folder but not a bspysmg sampling folder",
            f"A sampling folder holds IO.dat and sampler_configs.json; this one holds: "
            f"{', '.join(names) or 'nothing'}.",
        )
    if not path.exists():
        raise FileFormatError(f"file not found: {path}")
    try:
        with open_regular(path, "data file") as fh:  # never a FIFO or device
            head = fh.read(512)
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror}") from None
    suffix = path.suffix.lower()
    if suffix == ".mat" or head.startswith(b"MATLAB"):
        return "mat"
    if head.startswith(b"\x89HDF\r\n\x1a\n") or suffix in HDF5_SUFFIXES:
        # on use: kinds loads at start-up, the formats (h5py...) after
        from backend.data.formats.hdf5files import STREAM_FORMAT, hdf5_format, is_hdf5
        from backend.recording.reader import FORMAT_NAME

        if not is_hdf5(path):
            raise FileFormatError(f"{path} is not an HDF5 file (no HDF5 signature)")
        fmt = hdf5_format(path)
        if fmt == FORMAT_NAME:
            return "recording"
        return "stream" if fmt == STREAM_FORMAT else (_contained_kind(hdf5_format=fmt) or "hdf5")
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        if suffix in TORCH_SUFFIXES or _zip_is_torch(path):
            return "torch"
        return _npz_kind(path) or "npz"
    if suffix in TORCH_SUFFIXES:
        return "torch"
    if suffix in PICKLE_SUFFIXES:
        return "pickle"
    if suffix in JOBLIB_SUFFIXES:
        return "joblib"
    if find_sidecar(path) is not None:
        return "raw"
    if path.name == IODAT_NAME or head.startswith(b"# Input 0"):
        return "iodat"
    if suffix in (".csv", ".tsv", ".txt"):
        return "table"
    if suffix in RAW_SUFFIXES:
        # a whitespace table of numbers (IO.dat-like) or raw binary needing a sidecar
        return "iodat" if _numeric_text(head) else "raw"
    if suffix in (".npy", ".npz"):
        raise FileFormatError(f"{path} is not a valid {suffix} file (wrong signature)")
    raise FileFormatError(f"{path}: unknown kind of file", f"Supported: {SUPPORTED}.")


def _npz_kind(path: Path) -> str | None:
    """A registered kind from an npz's member names (headers only), else None."""
    from backend.data.formats.npzfile import npz_keys  # on use: off start-up

    try:
        members = set(npz_keys(path))
    except Exception:  # not ours to judge: the npz opener gives the clear message
        return None
    return _contained_kind(npz_members=members)


def _numeric_text(head: bytes) -> bool:
    """Whether a file starts like a whitespace-separated table of numbers."""
    whole = head.splitlines() if len(head) < 512 else head.splitlines()[:-1]  # last may be cut
    lines = [ln for ln in whole if ln.strip() and not ln.startswith(b"#")]
    if not lines:
        return False
    try:
        return all(float(v) is not None for v in lines[0].split())
    except ValueError:
        return False


def _zip_is_torch(path: Path) -> bool:
    import zipfile  # on use: off start-up

    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("data.pkl") for n in zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
        return False


def open_reader(
    path: str | os.PathLike,
    key: str | int | None = None,
    columns: Any = None,
    *,
    trust_pickle: bool = False,
    kind: str | None = None,
    order: str | None = None,
    verified: bool = False,
    **raw_settings: Any,
) -> Reader:
    """A lazy reader for any supported file, indexed as [observations, channels].

    `key` picks a dataset/variable/member in multi-array files; `columns`
    keeps some channels (names or indices). `order` ('samples'|'channels')
    says how a 2-D array is laid out when the file cannot say (HDF5, npy).
    `raw_settings` (dtype, n_channels, order, offset, sampling_frequency)
    describe a raw file without a sidecar or override its sidecar.
    `verified=True` (readers of every row: exports, training) checks an npz's stored
    members' zip CRC-32 in one pass first; browsing leaves it off and stays lazy.
    """
    path = Path(path)
    if order not in (None, "samples", "channels"):
        raise FileFormatError(f"order must be 'samples' or 'channels', not {order!r}")
    kind = kind or detect_kind(path)
    entry = file_kinds().get(kind)
    if entry is None:
        raise FileFormatError(f"unknown kind {kind!r}", f"Kinds: {', '.join(file_kinds())}.")
    opener = entry.open
    if key is not None and (entry.hdf5_format or entry.npz_members):
        from backend.data.formats.hdf5files import is_hdf5  # on use: off start-up

        opener = _hdf5 if is_hdf5(path) else _npz  # a key reads one member as is
    if kind == "raw" and order is not None:
        raw_settings["order"] = order
    reader = opener(
        path, key, trust_pickle=trust_pickle, order=order, settings=raw_settings, verified=verified
    )
    reader.reopen = open_reader
    reader.open_args = {
        "path": os.fspath(path),
        "key": key,
        "trust_pickle": trust_pickle,
        "kind": kind,
        "order": order,
        **raw_settings,
    }
    if columns is not None:
        reader = reader.select(columns)
    return reader


def load_data(
    path: str | os.PathLike,
    key: str | int | None = None,
    columns: Any = None,
    *,
    trust_pickle: bool = False,
    **options: Any,
) -> np.ndarray:
    """The whole table (or the chosen key/columns) of any supported file, as a 2-D array."""
    with open_reader(path, key, columns, trust_pickle=trust_pickle, **options) as reader:
        return reader.read()


def describe_file(
    path: str | os.PathLike, key: str | int | None = None, trust_pickle: bool = False
) -> dict:
    """Plain-JSON facts about any file; recordings get their full summary."""
    kind = detect_kind(path)
    if kind == "recording" and key is None:
        from backend.recording.reader import Recording  # on use: off start-up

        with Recording(path) as rec:
            summary = rec.summary()
        summary["kind"] = "recording"
        return summary
    with open_reader(path, key, trust_pickle=trust_pickle, kind=kind) as reader:
        facts = reader.describe()
    if key is not None:
        facts["key"] = key
    return facts


# --- openers --------------------------------------------------------------------
def _recording(path: Path, key: Any, **_: Any) -> Reader:
    from backend.data.formats.hdf5files import HDF5Reader, RecordingReader  # on use: off start-up

    if key is not None:  # a recording is HDF5 too: any dataset can be asked for
        return HDF5Reader(path, str(key).lstrip("/"))
    return RecordingReader(path)


def _stream(path: Path, key: Any, **_: Any) -> Reader:
    from backend.data.formats.hdf5files import HDF5Reader  # on use: off start-up
    from backend.data.formats.streamfile import StreamFileReader

    if key is not None:
        return HDF5Reader(path, str(key).lstrip("/"))
    return StreamFileReader(path)  # only the rows /rows counts: safe while it is written


def _hdf5(path: Path, key: Any, order: str | None = None, **_: Any) -> Reader:
    from backend.data.formats.hdf5files import HDF5Reader, pick_dataset  # on use: off start-up

    return HDF5Reader(path, pick_dataset(path, key), order=order or "samples")


def _mat(path: Path, key: Any, **_: Any) -> Reader:
    from backend.data.formats.matlab import open_mat  # on use: off start-up

    return open_mat(path, key)


def _npy(path: Path, key: Any, order: str | None = None, **_: Any) -> Reader:
    from backend.data.formats.npzfile import read_npy_header  # on use: off start-up
    from backend.data.formats.raw import BinaryReader

    try:
        with open(path, "rb") as fh:
            shape, fortran, dtype = read_npy_header(fh, str(path))
            offset = fh.tell()
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror}") from None
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise FileFormatError(f"{path} holds {dtype} data, not numbers")
    if len(shape) not in (1, 2):
        raise FileFormatError(f"{path} holds a {len(shape)}-D array {shape}, not a 2-D table")
    rows, n = (shape[0], 1) if len(shape) == 1 else shape
    stored = "channels" if (fortran and len(shape) == 2) else "samples"
    if order == "channels" and len(shape) == 2:  # the array is (channels, rows)
        rows, n = n, rows
        stored = "samples" if fortran else "channels"
    if n == 0:
        return ArrayReader(np.empty((rows, 0), dtype), path=path, kind="npy")
    return BinaryReader(path, dtype, n, order=stored, offset=offset, n_rows=rows, kind="npy")


def _npz(path: Path, key: Any, trust_pickle: bool = False, **options: Any) -> Reader:
    from backend.data.formats.npz import open_npz  # on use: off start-up

    return open_npz(path, key, trust_pickle, verified=options.get("verified", False))


def _folder(path: Path, key: Any, **_: Any) -> Reader:
    from backend.data.formats.bspysmg import open_bspysmg_folder  # on use: off start-up

    return open_bspysmg_folder(path)


def _raw(path: Path, key: Any, settings: dict | None = None, **_: Any) -> Reader:
    from backend.data.formats.raw import open_raw  # on use: off start-up

    return open_raw(path, **(settings or {}))


def _table(path: Path, key: Any, **_: Any) -> Reader:
    from backend.data.formats.tables import open_table  # on use: off start-up

    return open_table(path)


def _torch(path: Path, key: Any, **_: Any) -> Reader:
    from backend.data.formats.containers import pick_array  # on use: off start-up
    from backend.data.formats.torchfiles import load_torch_file  # torch: on use

    try:
        obj = load_torch_file(path)
    except FileFormatError:
        raise
    except Exception as exc:  # torch's unpickler lets some damage through as other errors
        raise FileFormatError(
            f"{path} is not a readable torch file ({type(exc).__name__})"
        ) from None
    array, names = pick_array(obj, key, str(path))
    return ArrayReader(array, names=names, path=path, kind="torch")


def _pickled(path: Path, key: Any, trust_pickle: bool = False, joblib: bool = False,
             **_: Any) -> Reader:  # fmt: skip
    from backend.data.formats.containers import load_pickle, pick_array  # on use: off start-up

    array, names = pick_array(load_pickle(path, trust_pickle, joblib), key, str(path))
    return ArrayReader(array, names=names, path=path, kind="joblib" if joblib else "pickle")


_BUILT_IN = (
    FileKind("recording", "samplelab recording", _recording),
    FileKind("stream", "samplelab stream", _stream),
    FileKind("hdf5", "HDF5", _hdf5),
    FileKind("mat", "MATLAB", _mat),
    FileKind("npy", "numpy .npy", _npy),
    FileKind("npz", "numpy .npz", _npz),
    FileKind("bspysmg-folder", "bspysmg sampling folder", _folder),
    FileKind("iodat", "IO.dat table", _folder),
    FileKind("raw", "raw binary + sidecar", _raw),
    FileKind("table", "text table", _table),
    FileKind("torch", "torch file", _torch),
    FileKind("pickle", "pickle (trusted files only)", _pickled),
    FileKind("joblib", "joblib (trusted files only)",
             lambda path, key, **kw: _pickled(path, key, joblib=True, **kw)),
)  # fmt: skip


@cache
def file_kinds() -> dict[str, FileKind]:
    """Every kind by name: the data layer's own, then those of `KIND_PROVIDERS`."""
    kinds = {kind.name: kind for kind in _BUILT_IN}
    for module in KIND_PROVIDERS:
        for kind in importlib.import_module(module).FILE_KINDS:
            kinds[kind.name] = kind
    return kinds


def kind_labels() -> dict[str, str]:
    """What each kind is called in the browser and in `samplelab info`."""
    return {name: kind.label for name, kind in file_kinds().items()}


def _contained_kind(hdf5_format: str | None = None, npz_members: set[str] | None = None):
    """The kind an HDF5 `format` attribute or an npz's member names say, if any."""
    for kind in file_kinds().values():
        if hdf5_format is not None and kind.hdf5_format == hdf5_format:
            return kind.name
        if (
            npz_members is not None
            and kind.npz_members
            and kind.npz_members <= npz_members
            and not kind.npz_without & npz_members
        ):
            return kind.name
    return None
