"""The worker bridge: a job on a thread, its progress and outcome as Qt signals."""

from __future__ import annotations

import threading

import pytest

from app.workers import CancelToken, Worker, WorkerPool
from backend.errors import DeviceError


def run_worker(qtbot, job, **kwargs) -> tuple[Worker, dict]:
    seen: dict = {"progress": [], "main_thread": []}
    worker = Worker(job, **kwargs)
    main = threading.get_ident()

    def on_progress(value):
        seen["progress"].append(value)
        seen["main_thread"].append(threading.get_ident() == main)

    worker.progress.connect(on_progress)
    worker.succeeded.connect(lambda r: seen.setdefault("result", r))
    worker.failed.connect(lambda e: seen.setdefault("error", e))
    worker.cancelled.connect(lambda: seen.setdefault("cancelled", True))
    with qtbot.waitSignal(worker.done, timeout=10_000):
        worker.start()
    return worker, seen


def test_progress_is_coalesced_but_the_newest_value_always_arrives(qtbot):
    def job(report, token):
        for i in range(2000):
            report(i)
        return "done"

    worker, seen = run_worker(qtbot, job, progress_interval_s=0.05)
    assert seen["result"] == "done"
    assert 1 <= len(seen["progress"]) < 2000
    assert seen["progress"][-1] == 1999
    assert all(seen["main_thread"])  # delivered on the GUI thread
    assert not worker.running


def test_a_failing_job_hands_over_its_exception(qtbot):
    def job(report, token):
        raise DeviceError("the device is gone", "plug it back in")

    _, seen = run_worker(qtbot, job)
    assert isinstance(seen["error"], DeviceError)
    assert seen["error"].__traceback__ is not None
    assert "result" not in seen


def test_cancel_reaches_the_job_and_forwards_to_callbacks(qtbot):
    started = threading.Event()
    forwarded = []

    def job(report, token: CancelToken):
        token.on_cancel(lambda: forwarded.append("session.cancel"))
        started.set()
        while True:
            token.raise_if_cancelled()
            threading.Event().wait(0.005)

    worker = Worker(job)
    with qtbot.waitSignal(worker.cancelled, timeout=10_000):
        worker.start()
        started.wait(5)
        worker.cancel()
    assert worker.wait(5)
    assert forwarded == ["session.cancel"]


def test_cancel_before_the_callback_exists_still_reaches_it():
    token = CancelToken()
    token.cancel()
    called = []
    token.on_cancel(lambda: called.append(True))
    assert called == [True] and token.cancelled
    with pytest.raises(Exception) as info:
        token.raise_if_cancelled()
    assert type(info.value).__name__ == "Cancelled"


def test_pool_tracks_running_workers_until_they_end(qtbot):
    pool = WorkerPool()
    release = threading.Event()
    results = []
    worker = pool.run(lambda r, t: release.wait(5) and 42, "waits", on_result=results.append)
    assert pool.running() == [worker]
    assert not pool.wait_all(0.05)
    release.set()
    assert pool.wait_all(5)
    qtbot.waitUntil(lambda: results == [42])
    qtbot.waitUntil(lambda: pool.running() == [])


def test_a_worker_runs_once(qtbot):
    worker, seen = run_worker(qtbot, lambda report, token: 1)
    assert seen["result"] == 1
    with pytest.raises(RuntimeError):
        worker.start()


def test_handlers_already_see_the_worker_finished(qtbot):
    """A result handler that re-enables controls must not find the job still running."""
    import threading

    from PySide6.QtCore import Qt

    from app.workers import Worker

    seen = []
    release = threading.Event()

    def job(report, token):
        release.wait(5)
        return 42

    worker = Worker(job, "finished-first")
    # Direct connections run at the moment of emission: the ordering is checked exactly.
    for signal in (worker.succeeded, worker.done):
        signal.connect(lambda *_: seen.append(worker.running), Qt.ConnectionType.DirectConnection)
    worker.start()
    release.set()
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5_000)
    assert seen == [False, False]


def test_a_job_outliving_its_worker_object_ends_quietly(qtbot, monkeypatch):
    """A window closed mid-job deletes the worker's QObject; the thread must not crash."""
    import shiboken6

    crashes = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    release = threading.Event()

    def job(report, token):
        release.wait(5)
        report("late progress")
        return "late result"

    worker = Worker(job, "orphan", progress_interval_s=0.0)
    worker.start()
    thread = worker._thread
    shiboken6.delete(worker)
    release.set()
    thread.join(5)
    assert not thread.is_alive() and crashes == []
