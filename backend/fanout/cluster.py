"""Where fanned-out jobs run: an existing Dask scheduler, or a local cluster we start.

Dask is an optional extra (`pip install samplelab[distributed]`); without it the
options that need it say so in one message instead of a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from backend.errors import Cancelled, SamplelabError

INSTALL_HINT = "Install the extra with: pip install 'samplelab[distributed]'"


def require_distributed(option: str = "--scheduler/--workers") -> Any:
    """The `dask.distributed` module, or a user error naming the extra to install."""
    try:
        import dask.distributed as distributed  # optional extra
    except ImportError:
        raise SamplelabError(
            f"{option} runs jobs on Dask distributed, which is not installed here",
            INSTALL_HINT,
        ) from None
    return distributed


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A connected `distributed.Client`; a local cluster started for `workers` is shut after.

    Local workers are processes with one thread each: our jobs are CPU-bound numpy
    and HDF5 work, and HDF5 serialises threads of one process anyway.
    """
    distributed = require_distributed()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise SamplelabError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                "Check the address (tcp://HOST:8786) and that `dask scheduler` runs there.",
            ) from None
        with client:
            yield client
        return
    if workers is None or workers < 1:
        raise SamplelabError(f"--workers must be >= 1 (got {workers})")
    # Dask logs every worker's start and stop, and warns when it has to kill a worker
    # that is slow to exit at shutdown; its workers log a failed job with its traceback.
    # Each job's outcome is reported by us instead.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: a second run never warns about 8787
        silence_logs=logging.CRITICAL,
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


class RemoteCancel:
    """A cancel token a job on a Dask worker reads: a named `distributed.Event` that the
    caller sets. The job stops between its chunks and cleans up as it does here, so a
    cancelled run waits for it instead of tearing the files away under it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._event: Any = None

    def __getstate__(self) -> dict:
        return {"name": self.name, "_event": None}  # the Event is bound to a client

    @property
    def cancelled(self) -> bool:
        if self._event is None:
            from dask.distributed import Event  # optional extra

            self._event = Event(self.name)
        return bool(self._event.is_set())

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled()
