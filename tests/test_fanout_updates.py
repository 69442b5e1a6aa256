"""What a caller showing each job hears (`on_update`), and a cancel in the middle of a job."""

from __future__ import annotations

from pathlib import Path

import pytest
from fanouttools import assert_same_outputs, big_recording, no_staging_left

from backend.errors import Cancelled
from backend.jobs import CancelToken
from backend.postprocess.job import postprocess
from backend.postprocess.many import PostprocessOptions, output_folders, postprocess_each

OPTIONS = PostprocessOptions(figure=False)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("recordings")
    return [big_recording(folder / f"r{i}.h5", batches=4 + 2 * i, seed=i) for i in range(3)]


def test_each_source_tells_its_start_its_progress_and_its_outcome(tmp_path, recordings):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"no hdf5 here")
    listed = [recordings[0], bad, recordings[1]]
    updates = []
    outcomes = postprocess_each(
        listed, output_folders(listed, tmp_path / "out"), OPTIONS, on_update=updates.append
    )
    ended = {u.index: u.outcome.status for u in updates if u.outcome is not None}
    assert ended == {0: "ok", 1: "failed", 2: "ok"}
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    for i in (0, 2):
        mine = [u for u in updates if u.index == i]
        assert mine[0].progress is None and mine[0].outcome is None  # started
        steps = [u.progress for u in mine if u.progress is not None]
        assert steps and steps[-1].done <= steps[-1].total  # rows of its own passes
        assert mine[-1].outcome is not None and mine[-1].outcome.result["rows_kept"] > 0
    # updates come in the order the jobs run: job 1 starts after job 0 ended
    first_of = {i: next(n for n, u in enumerate(updates) if u.index == i) for i in range(3)}
    last_of = {i: max(n for n, u in enumerate(updates) if u.index == i) for i in range(3)}
    assert last_of[0] < first_of[1] < last_of[1] < first_of[2]


def test_a_cancel_in_a_running_job_stops_it_and_keeps_the_finished_ones(tmp_path, recordings):
    """Here the running job stops between its chunks: its folder stays as it was, the
    finished source's output is complete, the pending one never starts."""
    big = big_recording(tmp_path / "big.h5", batches=200, seed=5)
    listed = [recordings[0], big, recordings[2]]
    outs = output_folders(listed, tmp_path / "out")
    token = CancelToken()
    updates = []

    def on_update(update):
        updates.append(update)
        if update.index == 1 and update.progress is not None and update.progress.done > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        postprocess_each(listed, outs, OPTIONS, cancel=token, on_update=on_update)
    assert {u.index for u in updates} == {0, 1}
    assert [u.outcome.status for u in updates if u.outcome] == ["ok"]
    want = tmp_path / "want"
    postprocess(recordings[0], want, figure=False)
    assert_same_outputs(outs[0], want)
    assert not outs[1].exists() and not outs[2].exists()
    assert no_staging_left(tmp_path)


distributed = pytest.importorskip("dask.distributed")


@pytest.mark.timeout(180)
def test_a_cancel_on_a_cluster_waits_for_the_running_jobs_to_stop_cleanly(tmp_path, recordings):
    """The running jobs read the cancel between their chunks and clean up themselves, so the
    cluster is shut only once nothing is being written: no partial folder, the finished
    source's folder complete."""
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    bigs = [big_recording(tmp_path / f"big{i}.h5", batches=300, seed=9 + i) for i in range(2)]
    listed = [recordings[0], *bigs, recordings[1]]
    outs = output_folders(listed, tmp_path / "out")
    token = CancelToken()
    updates = []

    def on_update(update):
        updates.append(update)
        if update.outcome is not None and update.outcome.ok:
            token.cancel()

    with pytest.raises(Cancelled):
        postprocess_each(listed, outs, OPTIONS, workers=2, cancel=token, on_update=on_update)
    ended = {u.index: u.outcome.status for u in updates}
    assert ended[0] == "ok" and set(ended) == {0, 1, 2, 3}
    assert list(ended.values()).count("ok") == 1, ended  # the others stopped, not finished
    want = tmp_path / "want"
    postprocess(recordings[0], want, figure=False)
    assert_same_outputs(outs[0], want)
    assert not any(out.exists() for out in outs[1:])
    assert no_staging_left(tmp_path)
