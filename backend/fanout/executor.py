"""Run independent jobs here or on Dask, one outcome per job, failures kept apart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.errors import Cancelled, SamplelabError
from backend.fanout.cluster import RemoteCancel, dask_client
from backend.jobs import CancelToken, JobControl, JobProgress, ProgressFn


@dataclass(frozen=True)
class JobSpec:
    """One job: `fn(*args, **kwargs)`, importable by name so a Dask worker can run it.

    `reports`: `fn` also takes `progress=` and `cancel=` (the `backend.jobs` contract).
    Here both are passed, so it reports within itself; on Dask only `cancel` (a
    `RemoteCancel`: a worker cannot call back into this process). Either way a
    cancel stops it between chunks and it leaves nothing behind.
    """

    key: str  # unique in a run; names the job's staging folder and its Dask task
    label: str  # what the user calls it (a source path, a run name)
    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    reports: bool = False


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


@dataclass(frozen=True)
class JobUpdate:
    """News of one job (by its index in the specs), for a caller that shows each job:
    it started here, how far it is (`progress`, jobs with `reports` run here), or how
    it ended (`outcome`). Jobs on a cluster only end."""

    index: int
    progress: JobProgress | None = None
    outcome: JobOutcome | None = None


UpdateFn = Callable[[JobUpdate], None]


def run_jobs(
    specs: Sequence[JobSpec],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    on_update: UpdateFn | None = None,
) -> list[JobOutcome]:
    """Run every job; outcomes in the order of `specs`. Progress counts finished jobs;
    `on_update` hears of each job (`JobUpdate`), from the thread that called.

    Without `scheduler` or `workers` the jobs run here, one after another. A job's
    `SamplelabError` (or any other exception, reported as a bug) fails that job only.
    A cancel raises `Cancelled` once the running jobs have stopped (between their
    chunks, with `reports`; without, a cluster drops the jobs not started); the
    outcomes already told through `on_update` stand.
    """
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError("job keys must be unique")
    ctl = JobControl(progress, cancel)
    tell = on_update or (lambda _update: None)
    if scheduler is None and workers is None:
        return _run_here(specs, ctl, cancel, tell)
    with dask_client(scheduler, workers) as client:
        return _run_on(client, specs, retries, ctl, cancel, tell)


def _message(exc: BaseException) -> str:
    if isinstance(exc, SamplelabError):
        return str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {exc} (a bug in samplelab; please report it)"


def _run_here(
    specs: Sequence[JobSpec], ctl: JobControl, cancel: CancelToken | None, tell: UpdateFn
) -> list[JobOutcome]:
    outcomes = []
    for done, spec in enumerate(specs):
        ctl.report("jobs", done, len(specs))
        tell(JobUpdate(done))
        kwargs = dict(spec.kwargs)
        if spec.reports:
            kwargs.update(progress=lambda p, i=done: tell(JobUpdate(i, p)), cancel=cancel)
        start = time.perf_counter()
        try:
            result = spec.fn(*spec.args, **kwargs)
        except Cancelled:
            raise
        except Exception as exc:
            outcome = JobOutcome(spec.key, spec.label, "failed", error=_message(exc))
        else:
            outcome = JobOutcome(spec.key, spec.label, "ok", result)
        outcome.seconds = time.perf_counter() - start
        outcomes.append(outcome)
        tell(JobUpdate(done, outcome=outcome))
    ctl.report("jobs", len(specs), len(specs))
    return outcomes


def _run_on(
    client: Any,
    specs: Sequence[JobSpec],
    retries: int,
    ctl: JobControl,
    cancel: CancelToken | None,
    tell: UpdateFn,
) -> list[JobOutcome]:
    from dask.distributed import Event, as_completed  # optional extra

    start = time.perf_counter()
    stop = Event(f"samplelab-cancel-{uuid.uuid4().hex}", client=client)
    remote = RemoteCancel(stop.name)

    def submit(s: JobSpec) -> Any:
        kwargs = {**s.kwargs, "cancel": remote} if s.reports else s.kwargs
        return client.submit(_timed, s.fn, s.args, kwargs, key=s.key, pure=False, retries=retries)

    futures = {submit(s): s for s in specs}
    if cancel is not None:
        # Jobs that read the event stop by themselves (and are waited for); others
        # that have not started are dropped.
        cancel.on_cancel(lambda: (stop.set(), client.cancel(_deaf(futures))))
    index = {s.key: i for i, s in enumerate(specs)}
    outcomes: dict[str, JobOutcome] = {}
    ctl.report("jobs", 0, len(specs))
    for future in as_completed(futures):
        spec = futures[future]
        if future.status == "finished":
            result, seconds = future.result()
            outcomes[spec.key] = JobOutcome(spec.key, spec.label, "ok", result, seconds=seconds)
        elif future.status == "cancelled" or isinstance(future.exception(), Cancelled):
            outcomes[spec.key] = JobOutcome(spec.key, spec.label, "cancelled", error="cancelled")
        else:
            outcomes[spec.key] = JobOutcome(
                spec.key, spec.label, "failed", error=_message(future.exception())
            )
        if outcomes[spec.key].seconds == 0.0:
            outcomes[spec.key].seconds = time.perf_counter() - start
        tell(JobUpdate(index[spec.key], outcome=outcomes[spec.key]))
        if cancel is None or not cancel.cancelled:
            ctl.report("jobs", len(outcomes), len(specs))
    ctl.check()
    return [outcomes[s.key] for s in specs]


def _deaf(futures: dict[Any, JobSpec]) -> list[Any]:
    """The futures of jobs that cannot hear a cancel (no `reports`)."""
    return [f for f, s in futures.items() if not s.reports]


def _timed(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, float]:
    """On the worker: the job's result and how long it took there."""
    start = time.perf_counter()
    return fn(*args, **kwargs), time.perf_counter() - start
