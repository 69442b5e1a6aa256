"""Postprocess several sources each on its own: here, or fanned out on Dask.

Each source becomes one job writing its own output folder through
`backend.fanout.staged_folder`; one failing source does not stop the others.
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
from backend.fanout import JobOutcome, JobSpec, run_jobs, staged_folder
from backend.fanout.staging import remove_leftovers
from backend.jobs import CancelToken, ProgressFn


@dataclass(frozen=True)
class PostprocessOptions:
    """The knobs of `backend.postprocess.postprocess` that every job shares."""

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
    from backend.postprocess import default_output_dir

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
    """One source into `out`, staged: a plain dict of what it did (it crosses processes)."""
    from backend.postprocess import postprocess, refuse_read_only

    out_path = Path(out)
    refuse_read_only(out_path)
    with staged_folder(out_path, tag) as stage:
        result = postprocess(
            source,
            stage,
            clip=options.clip,
            charging_batches=options.charging_batches,
            reference_batches=options.reference_batches,
            figure=options.figure,
        )
        files = sorted(p.name for p in result.files.values())
    s = result.summary
    return {
        "source": source,
        "out_dir": str(out_path),
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
        # A job lost with its worker may have left its staging folder; nothing else does.
        for spec, out in zip(specs, outs):
            remove_leftovers(out, spec.args[3])
