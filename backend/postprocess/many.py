"""Postprocess several sources each on its own: here, or fanned out on Dask.

Each source becomes one job writing its own output folder through a tagged
`backend.postprocess.job.Staging` folder, so a retry after a lost worker starts
clean and the run's last sweep removes what a lost attempt left; one failing
source does not stop the others.
The jobs read and write by path, so on a cluster every worker must see the
same file system (see docs/distributed.md).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.errors import SamplelabError
from backend.fanout import JobOutcome, JobSpec, run_jobs
from backend.files import discard
from backend.jobs import CancelToken, ProgressFn
from backend.postprocess.job import Staging, default_output_dir, postprocess


@dataclass(frozen=True)
class PostprocessOptions:
    """The knobs of `backend.postprocess.job.postprocess` that every job shares."""

    clip: Any = "default"
    charging_batches: int = 40
    reference_batches: int = 15
    figure: bool = True


def output_folders(
    sources: Sequence[str | os.PathLike], out_root: str | os.PathLike | None
) -> list[Path]:
    """Each source's output folder: its default, or a folder named after it in `out_root`.

    Two sources that would write into one folder are refused before anything runs.
    """
    outs = []
    for source in sources:
        default = default_output_dir(source)
        outs.append(default if out_root is None else Path(out_root) / default.name)
    seen: dict[Path, str] = {}
    for source, out in zip(sources, outs):
        key = out.resolve()
        if key in seen:
            raise SamplelabError(
                f"{seen[key]} and {source} would both write into {out}",
                "Give the sources distinct names, or postprocess them in two runs.",
            )
        seen[key] = str(source)
    return outs


def postprocess_job(source: str, out: str, options: PostprocessOptions, tag: str) -> dict:
    """One source into `out`, staged under `tag`: a plain dict of what it did (it crosses
    processes)."""
    result = postprocess(
        source,
        out,
        clip=options.clip,
        charging_batches=options.charging_batches,
        reference_batches=options.reference_batches,
        figure=options.figure,
        staging_tag=tag,
    )
    files = sorted(p.name for p in result.files.values())
    s = result.summary
    return {
        "source": source,
        "out_dir": str(out),
        "rows_in": s["rows_in"],
        "rows_kept": s["rows_kept"],
        "percent_dropped": s["percent_dropped"],
        "files": files,
    }


def postprocess_each(
    sources: Sequence[str | os.PathLike],
    outs: Sequence[str | os.PathLike] | None = None,
    options: PostprocessOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> list[JobOutcome]:
    """Every source postprocessed on its own; one outcome per source, in order.

    `outs` names each source's output folder (default: `output_folders(sources, None)`).
    """
    options = options or PostprocessOptions()
    outs = output_folders(sources, None) if outs is None else [Path(o) for o in outs]
    if len(outs) != len(sources):
        raise ValueError("one output folder per source")
    run_id = uuid.uuid4().hex[:8]
    existed = [out.exists() for out in outs]
    specs = [
        JobSpec(
            key=f"postprocess-{run_id}-{i}",
            label=str(source),
            fn=postprocess_job,
            args=(str(source), str(out), options, f"{run_id}-{i}"),
        )
        for i, (source, out) in enumerate(zip(sources, outs))
    ]
    try:
        return run_jobs(
            specs, scheduler=scheduler, workers=workers, progress=progress, cancel=cancel
        )
    finally:
        sweep_leftovers(outs, [spec.args[3] for spec in specs], existed)


def sweep_leftovers(outs: Sequence[Path], tags: Sequence[str], existed: Sequence[bool]) -> None:
    """What jobs lost with their workers left: their staging folders, and output folders
    made for them that stayed empty. Nothing else is touched."""
    for out, tag, was_there in zip(outs, tags, existed):
        discard(Staging.leftover(out, tag))
        if not was_there and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
