"""What the Recordings page's folder tree shows about files, found without Qt (workers).

`kind_of_name` guesses from a name (the tree lists files at once),
`kind_of_folder` recognises bspysmg sampling folders, and `scan_folder` (on a
worker) finds what each file of a folder really is (`detect_kind`), and a
recording's status and rows, for the tree's Kind, Status and Rows columns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from backend.data.kinds import HDF5_SUFFIXES, detect_kind, kind_labels, open_reader
from backend.display.pyramid import OVERVIEW_SUFFIX
from backend.errors import SamplelabError
from backend.jobs import CancelToken

#: Folders with more entries than this are not scanned for file kinds.
MAX_SCAN = 2000

_SUFFIX_GUESS = {
    **dict.fromkeys(HDF5_SUFFIXES, "HDF5 / recording"),
    ".mat": "MATLAB",
    ".npy": "numpy .npy",
    ".npz": "numpy .npz",
    ".pt": "torch file",
    ".pth": "torch file",
    ".csv": "text table",
    ".tsv": "text table",
    ".txt": "text table",
    ".dat": "IO.dat / raw",
    ".bin": "raw binary",
    ".raw": "raw binary",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".jl": "joblib",
    ".joblib": "joblib",
}
#: Cache files the browser itself writes: not listed.
HIDDEN_SUFFIXES = (OVERVIEW_SUFFIX,)
UNOPENABLE = "cannot be opened"


def kind_of_name(name: str) -> str | None:
    """A guess from the file name alone (the tree lists these before scanning)."""
    if name.lower().endswith(HIDDEN_SUFFIXES):
        return None
    return _SUFFIX_GUESS.get(Path(name).suffix.lower())


def kind_of_folder(path: str | os.PathLike) -> str | None:
    """'bspysmg sampling folder' for a folder with IO.dat and sampler_configs.json."""
    path = Path(path)
    if not (path / "IO.dat").is_file():  # cheap test first: most folders are plain
        return None
    try:
        return kind_labels().get(detect_kind(path))
    except SamplelabError:
        return None


def scan_folder(
    folder: str | os.PathLike, cancel: CancelToken | None = None
) -> dict[str, dict[str, Any]]:
    """path -> {'kind', 'status', 'rows', 'modified'} of each file in `folder`.

    `kind` is what `detect_kind` says (or why the file cannot be opened); a
    recording's status and rows come from its attributes and batch table, and
    other files' rows only where a header tells them (no table is parsed).
    """
    found: dict[str, dict[str, Any]] = {}
    try:
        entries = sorted(Path(folder).iterdir())[:MAX_SCAN]
    except OSError:
        return found
    for path in entries:
        if cancel is not None and cancel.cancelled:
            break
        if not path.is_file() or path.name.lower().endswith(HIDDEN_SUFFIXES):
            continue
        facts: dict[str, Any] = {"status": "", "rows": None}
        try:
            facts["modified"] = path.stat().st_mtime
            kind = detect_kind(path)
            facts["kind"] = kind_labels().get(kind, "data")
            facts.update(_status_and_rows(path, kind))
        except SamplelabError as exc:  # the name, not the whole path, fits the column
            facts["kind"] = f"{UNOPENABLE}: {exc.message.replace(str(path), path.name)}"
        except OSError as exc:
            facts["kind"] = f"{UNOPENABLE}: {exc}"
        found[str(path)] = facts
    return found


#: Kinds whose row count a header gives (text tables would have to be read through).
_ROWS_FROM_HEADER = ("stream", "npy", "npz", "hdf5", "mat")


def _status_and_rows(path: Path, kind: str) -> dict[str, Any]:
    """Status and rows where cheap to read; {} when not (the kind is known all the same)."""
    try:
        if kind == "recording":
            from backend.recording.reader import Recording

            with Recording(path) as rec:
                return {"status": rec.status, "rows": int(rec.n_rows)}
        if kind in _ROWS_FROM_HEADER:
            with open_reader(path, kind=kind) as reader:
                return {"rows": int(reader.n_rows)}
    except (SamplelabError, OSError):
        pass
    return {}
