"""One job contract: every long backend job takes `progress=` and `cancel=` (backend.jobs).

The list below names every job; a new job belongs in it. A source scan makes sure no
backend function brings back the old conventions (`on_progress`/`cancelled` callables,
`is_set()` events standing in for tokens).
"""

from __future__ import annotations

import inspect
import re
import threading

import pytest
from conftest import ROOT

from backend.characterise.consistency import check_consistency
from backend.characterise.iv import measure_iv
from backend.characterise.panel import DevicePanel
from backend.data.chunks import ChunkProcessor
from backend.data.pipeline import ChunkPipeline
from backend.data.reader import Reader
from backend.datasets.chunkstore import build_chunk_store
from backend.datasets.export import export_dataset
from backend.display.pyramid import Pyramid
from backend.errors import Cancelled
from backend.export.exporters import export
from backend.fanout.executor import run_jobs
from backend.jobs import CancelToken, JobControl, JobProgress
from backend.models.data import load_training_data
from backend.models.evaluate import evaluate_model
from backend.models.sweep import train_sweep
from backend.models.training import train_surrogate
from backend.postprocess.job import postprocess
from backend.postprocess.many import postprocess_each
from backend.postprocess.preview import scan_row_means
from backend.sampling.selftest import run_selftest
from backend.sampling.session import start_session
from backend.streams.run import run_stream

JOBS = [
    postprocess, postprocess_each, scan_row_means, export, export_dataset, build_chunk_store,
    ChunkProcessor, ChunkPipeline, Pyramid.update, Reader.channel_ranges, run_stream,
    measure_iv, check_consistency, DevicePanel.run, run_selftest, train_surrogate, train_sweep,
    evaluate_model, load_training_data, run_jobs,
]  # fmt: skip


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.__qualname__)
def test_every_job_takes_progress_and_a_cancel_token(job):
    params = inspect.signature(job).parameters
    assert "progress" in params and "cancel" in params
    assert "CancelToken" in str(params["cancel"].annotation)


def test_no_backend_function_takes_the_old_callables():
    old = re.compile(r"^\s+(on_progress|cancelled): .*(ProgressFn|CancelFn|Callable)", re.M)
    event = re.compile(r"cancel\.is_set\(\)|def is_cancelled|class _TokenEvent")
    offenders = {}
    for path in [*(ROOT / "backend").rglob("*.py"), *(ROOT / "app").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        found = event.findall(text)  # the app's own Qt callbacks may be called on_progress
        if path.parts[-2:] != ("sampling", "session.py") and "backend" in path.parts:
            found += old.findall(text)  # (the session's live stats: on_progress(Progress))
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_job_control_checks_the_token_before_it_reports():
    token, seen = CancelToken(), []
    control = JobControl(seen.append, token)
    control.report("reading", 1, 4)
    token.cancel()
    with pytest.raises(Cancelled):
        control.report("reading", 2, 4)
    assert seen == [JobProgress("reading", 1, 4)] and control.cancelled


def test_a_sampling_session_stops_on_its_token_even_while_paused(tmp_path, config):
    token = CancelToken()
    session = start_session(config, "simulated", path=tmp_path / "rec.h5", seed=1, cancel=token)
    assert session.token is token
    session.pause()
    runner = threading.Thread(target=lambda: setattr(session, "result", session.run()))
    runner.start()
    token.cancel()  # no session.cancel(): the job contract's token is enough
    runner.join(30)
    assert not runner.is_alive()
    assert session.result.status == "cancelled"
