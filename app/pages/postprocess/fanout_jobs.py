"""Each source on its own, for the Postprocess page: plain functions run on workers.

The page's "Each on its own" choice runs `backend.postprocess.many.postprocess_each`
(the same jobs, folders and files as `samplelab postprocess A B --out DIR`), here or
on Dask. `inspect_each` opens every source alone, so one that cannot be read stays
listed and fails alone when run; `run_each` turns the backend's per-job updates into
snapshots of every source's row (`EachState`), which the page's worker reports (a
snapshot, so the worker's coalescing of progress never loses a row's news). No Qt.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.pages.postprocess.jobs import (
    Report,
    SourceFacts,
    SourcesInfo,
    inspect_sources,
    result_names,
)
from backend.errors import SamplelabError

#: How the page names where the jobs run (settings values).
WHERE_KINDS = ("here", "local", "scheduler")


@dataclass(frozen=True)
class EachInfo(SourcesInfo):
    """Sources opened one by one: `problems` holds why a source cannot be opened."""

    problems: dict[str, str] = field(default_factory=dict)


def inspect_each(paths: Sequence[str]) -> EachInfo:
    """Open every source on its own; an unreadable one is kept with its reason."""
    facts: list[SourceFacts] = []
    infos: list[SourcesInfo] = []
    problems: dict[str, str] = {}
    for path in paths:
        try:
            info = inspect_sources([path])
        except Exception as exc:  # shown beside the source; the run reports it again
            problems[path] = exc.message if isinstance(exc, SamplelabError) else str(exc)
            continue
        infos.append(info)
        facts.extend(info.sources)
    first = infos[0] if infos else None
    clips = {tuple(i.default_clip or ()) for i in infos}
    return EachInfo(
        [str(p) for p in paths],
        facts,
        sum(i.rows for i in infos),
        first.output_names if first else [],
        first.amplification if first else [],
        first.default_clip if first and len(clips) == 1 else None,
        first.default_out if first else Path(paths[0]).parent,
        problems,
    )


def distributed_missing() -> str | None:
    """Why the cluster choices cannot be used here (the extra to install), or None."""
    from backend.fanout.cluster import INSTALL_HINT

    if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
        return f"Dask distributed is not installed. {INSTALL_HINT}"
    return None


@dataclass(frozen=True)
class Where:
    """Where the jobs run: here one after another, a local cluster, or a scheduler."""

    kind: str = "here"  # one of WHERE_KINDS
    workers: int = 2
    address: str = ""

    def problem(self) -> str | None:
        """Why a run cannot start with this choice (None: it can)."""
        if self.kind == "here":
            return None
        missing = distributed_missing()
        if missing:
            return missing
        if self.kind == "scheduler" and not self.address.strip():
            return "Enter the scheduler's address (tcp://HOST:8786)."
        return None

    def kwargs(self) -> dict[str, Any]:
        """`scheduler=` / `workers=` of `postprocess_each`."""
        if self.kind == "local":
            return {"workers": self.workers}
        if self.kind == "scheduler":
            return {"scheduler": self.address.strip()}
        return {}

    def describe(self) -> str:
        if self.kind == "local":
            return f"on a local Dask cluster of {self.workers} worker processes"
        if self.kind == "scheduler":
            return f"on the Dask cluster at {self.address.strip()}"
        return "here, one after another"


@dataclass(frozen=True)
class EachRequest:
    paths: list[str]
    out_root: Path | None  # None: each source's own default folder
    clip: Any
    charging_batches: int
    reference_batches: int
    where: Where = Where()

    def outs(self) -> list[Path]:
        """Each source's folder; two that would share one are refused before anything runs."""
        from backend.postprocess.many import output_folders

        return output_folders(self.paths, self.out_root)


def folders_with_results(outs: Sequence[str | os.PathLike]) -> list[Path]:
    """The output folders that already hold results a run would replace."""
    names = result_names()
    return [Path(o) for o in outs if any((Path(o) / n).exists() for n in names)]


@dataclass(frozen=True)
class SourceRow:
    """One source's line in the results table."""

    source: str
    out: Path
    state: str = "waiting"  # waiting | queued | running | ok | failed | cancelled
    stage: str = ""
    fraction: float = 0.0
    rows_in: int | None = None
    rows_kept: int | None = None
    error: str = ""
    seconds: float = 0.0

    @property
    def ended(self) -> bool:
        return self.state in ("ok", "failed", "cancelled")

    def status_text(self) -> str:
        if self.state == "ok":
            return f"ok ({self.seconds:.1f} s)"
        if self.state == "failed":  # the row names the source: its name is enough
            return f"failed: {self.error.replace(self.source, Path(self.source).name)}"
        if self.state == "cancelled":
            return "cancelled: nothing written"
        if self.state == "running":
            return f"{self.stage or 'starting'} {100 * self.fraction:.0f} %"
        return "queued on the cluster" if self.state == "queued" else "waiting"


@dataclass(frozen=True)
class EachState:
    """Every source's row, as one snapshot; where the jobs run and write."""

    rows: tuple[SourceRow, ...]
    where: str = ""  # "on a local Dask cluster of 2 worker processes"
    into: str = ""  # "into DIR" or "each into a folder beside it"

    def title(self, summary: str = "") -> str:
        n = len(self.rows)
        text = f"{n} source{'s' * (n != 1)} {self.where}, {self.into}"
        return f"{text}: {summary}" if summary else text

    @property
    def done(self) -> int:
        return sum(r.ended for r in self.rows)

    @property
    def fraction(self) -> float:
        if not self.rows:
            return 1.0
        running = sum(r.fraction for r in self.rows if r.state == "running")
        return min(1.0, (self.done + running) / len(self.rows))

    def counts(self) -> dict[str, int]:
        return {s: sum(r.state == s for r in self.rows) for s in ("ok", "failed", "cancelled")}

    def cancelled(self) -> EachState:
        """The rows that had not ended, marked cancelled (after a cancel)."""
        rows = tuple(r if r.ended else replace(r, state="cancelled") for r in self.rows)
        return replace(self, rows=rows)


def run_each(request: EachRequest, report: Report, token: Any) -> EachState:
    """Postprocess every source on its own (cancellable: finished folders stay)."""
    from backend.postprocess.many import PostprocessOptions, postprocess_each

    outs = request.outs()
    first = "waiting" if request.where.kind == "here" else "queued"
    rows = [SourceRow(p, out, first) for p, out in zip(request.paths, outs)]
    where = request.where.describe()
    into = f"into {request.out_root}" if request.out_root else "each into a folder beside it"
    report(EachState(tuple(rows), where, into))

    def on_update(update: Any) -> None:
        row = rows[update.index]
        outcome = update.outcome
        if outcome is None:
            p = update.progress
            stage, fraction = (p.stage, p.fraction) if p is not None else ("", 0.0)
            rows[update.index] = replace(row, state="running", stage=stage, fraction=fraction)
        else:
            r = outcome.result or {}
            rows[update.index] = replace(
                row,
                state=outcome.status,
                fraction=1.0,
                rows_in=r.get("rows_in"),
                rows_kept=r.get("rows_kept"),
                error=outcome.error,
                seconds=outcome.seconds,
            )
        report(EachState(tuple(rows), where, into))

    options = PostprocessOptions(
        clip=request.clip,
        charging_batches=request.charging_batches,
        reference_batches=request.reference_batches,
    )
    postprocess_each(
        request.paths,
        outs,
        options,
        cancel=token,
        on_update=on_update,
        **request.where.kwargs(),
    )
    return EachState(tuple(rows), where, into)
