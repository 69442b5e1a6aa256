"""Outputs that appear whole or not at all, even when a worker dies mid-job.

A job writes into a hidden sibling of its output folder whose name holds a tag
(the run's id and the job's key); only complete output is moved into place: the
whole folder renamed when `out` is new, else each file moved into it (as the
peer's postprocess writes into an existing sampling folder).
A retry of the same job first removes what a lost attempt left under the same
tag, so Dask's retry produces exactly the files one clean run would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from backend.errors import SamplelabError

PREFIX = ".samplelab-staging-"


def staging_path(out: Path, tag: str) -> Path:
    """The hidden folder beside `out` that a job tagged `tag` writes into."""
    return out.with_name(f"{PREFIX}{out.name}-{tag}")


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike, tag: str) -> Iterator[Path]:
    """Yield an empty folder; on success its files are in `out`."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SamplelabError(f"{out} is a file, not a folder", "Choose another --out folder.")
    stage = staging_path(out, tag)
    shutil.rmtree(stage, ignore_errors=True)  # a lost attempt's leftovers
    out.parent.mkdir(parents=True, exist_ok=True)
    stage.mkdir()
    try:
        yield stage
        if out.exists():
            for item in sorted(stage.iterdir()):
                os.replace(item, out / item.name)
            stage.rmdir()
        else:
            os.replace(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def remove_leftovers(out: str | os.PathLike, tag: str) -> None:
    """Remove what an attempt tagged `tag` left (the driver's last sweep after a run)."""
    shutil.rmtree(staging_path(Path(out), tag), ignore_errors=True)
