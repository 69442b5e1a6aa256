"""Run independent jobs here or on Dask, one outcome per job, failures kept apart."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.errors import Cancelled, SamplelabError
from backend.fanout.cluster import dask_client
from backend.jobs import CancelToken, JobControl, ProgressFn


@dataclass(frozen=True)
class JobSpec:
    """One job: `fn(*args, **kwargs)`, importable by name so a Dask worker can run it."""

    key: str  # unique in a run; names the job's staging folder and its Dask task
    label: str  # what the user calls it (a source path, a run name)
    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass
class JobOutcome:
    """What became of one job: `ok` with its result, or `failed` / `cancelled` with why."""

    key: str
    label: str
    status: str  # ok | failed | cancelled
    result: Any = None
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_jobs(
    specs: Sequence[JobSpec],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> list[JobOutcome]:
    """Run every job; outcomes in the order of `specs`. Progress counts finished jobs.

    Without `scheduler` or `workers` the jobs run here, one after another. A job's
    `SamplelabError` (or any other exception, reported as a bug) fails that job only.
    """
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError("job keys must be unique")
    ctl = JobControl(progress, cancel)
    if scheduler is None and workers is None:
        return _run_here(specs, ctl)
    with dask_client(scheduler, workers) as client:
        return _run_on(client, specs, retries, ctl, cancel)


def _message(exc: BaseException) -> str:
    if isinstance(exc, SamplelabError):
        return str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {exc} (a bug in samplelab; please report it)"


def _run_here(specs: Sequence[JobSpec], ctl: JobControl) -> list[JobOutcome]:
    outcomes = []
    for done, spec in enumerate(specs):
        ctl.report("jobs", done, len(specs))
        start = time.perf_counter()
        try:
            result = spec.fn(*spec.args, **spec.kwargs)
        except Cancelled:
            raise
        except Exception as exc:
            outcome = JobOutcome(spec.key, spec.label, "failed", error=_message(exc))
        else:
            outcome = JobOutcome(spec.key, spec.label, "ok", result)
        outcome.seconds = time.perf_counter() - start
        outcomes.append(outcome)
    ctl.report("jobs", len(specs), len(specs))
    return outcomes


def _run_on(
    client: Any,
    specs: Sequence[JobSpec],
    retries: int,
    ctl: JobControl,
    cancel: CancelToken | None,
) -> list[JobOutcome]:
    from dask.distributed import as_completed

    start = time.perf_counter()
    futures = {
        client.submit(_timed, s.fn, s.args, s.kwargs, key=s.key, pure=False, retries=retries): s
        for s in specs
    }
    if cancel is not None:
        cancel.on_cancel(lambda: client.cancel(list(futures)))
    outcomes: dict[str, JobOutcome] = {}
    ctl.report("jobs", 0, len(specs))
    for future in as_completed(futures):
        spec = futures[future]
        if future.status == "finished":
            result, seconds = future.result()
            outcomes[spec.key] = JobOutcome(spec.key, spec.label, "ok", result, seconds=seconds)
        elif future.status == "cancelled":
            outcomes[spec.key] = JobOutcome(spec.key, spec.label, "cancelled", error="cancelled")
        else:
            outcomes[spec.key] = JobOutcome(
                spec.key, spec.label, "failed", error=_message(future.exception())
            )
        if spec.key in outcomes and outcomes[spec.key].seconds == 0.0:
            outcomes[spec.key].seconds = time.perf_counter() - start
        if cancel is None or not cancel.cancelled:
            ctl.report("jobs", len(outcomes), len(specs))
    ctl.check()
    return [outcomes[s.key] for s in specs]


def _timed(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, float]:
    """On the worker: the job's result and how long it took there."""
    start = time.perf_counter()
    return fn(*args, **kwargs), time.perf_counter() - start
