"""Many independent jobs (one per recording, one per training run), here or on Dask.

`run_jobs` takes a list of `JobSpec` and returns one `JobOutcome` each, in the
order given: in this process one after another, or on a Dask distributed cluster
(`scheduler=` an address, or `workers=` N local worker processes). A failing job
never stops the others; its outcome carries the message. Jobs that write files
stage them (e.g. `backend.postprocess.job.Staging` with a tag), so a lost worker
leaves no partial output and a retried job writes the same files.
"""

from backend.fanout.executor import JobOutcome, JobSpec, run_jobs

__all__ = ["JobOutcome", "JobSpec", "run_jobs"]
