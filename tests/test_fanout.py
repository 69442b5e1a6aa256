"""Several sources postprocessed each on its own: here and on a real Dask LocalCluster."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from backend.errors import SamplelabError
from backend.fanout import JobSpec, run_jobs
from backend.postprocess.job import STAGING_PREFIX as PREFIX
from backend.postprocess.job import postprocess
from backend.postprocess.many import PostprocessOptions, output_folders, postprocess_each

OPTIONS = PostprocessOptions(figure=False)


def big_recording(path: Path, batches: int, seed: int = 1) -> Path:
    """A recording of the 7x1 sawtooth preset on the analytic model, written directly."""
    from backend.acquisition.waves import BatchPlan
    from backend.config import load_config
    from backend.devices.models import AnalyticModel
    from backend.recording.writer import RecordingWriter
    from resources import preset_path

    config = load_config(preset_path("dnpu-7x1-sawtooth")).model_copy(deep=True)
    config.input_data.number_batches = batches
    plan = BatchPlan(config, seed=seed)
    model = AnalyticModel(config.voltage_ranges(), config.n_outputs, seed=0, scale_nA=175.0)
    with RecordingWriter.create(path, config, {"kind": "test"}, seed=seed) as writer:
        for i in range(len(plan)):
            batch = plan.batch(i)
            writer.append(i, batch.inputs, model(batch.inputs), batch.phases, batch.t0, 0.0, 0.0)
    return path


def arrays(folder: Path) -> dict[str, np.ndarray]:
    out = {}
    for npz in sorted(folder.glob("*.npz")):
        with np.load(npz, allow_pickle=False) as data:
            for key in ("inputs", "outputs"):
                out[f"{npz.name}:{key}"] = data[key]
    return out


def assert_same_outputs(a: Path, b: Path) -> None:
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    got, want = arrays(a), arrays(b)
    assert got.keys() == want.keys() and got
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def no_staging_left(root: Path) -> bool:
    return not [p for p in root.rglob(f"{PREFIX}*")]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("sources")
    return [big_recording(folder / f"rec{i}.h5", batches=4 + i, seed=i) for i in range(3)]


@pytest.fixture(scope="module")
def reference(sources, tmp_path_factory) -> Path:
    """Each source postprocessed the ordinary way, one call each."""
    root = tmp_path_factory.mktemp("reference")
    for source in sources:
        postprocess(source, root / f"{source.stem}_postprocessed", figure=False)
    return root


def test_each_source_gets_its_own_folder_and_a_bad_one_fails_alone(tmp_path, sources, reference):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not hdf5 at all")
    listed = [sources[0], bad, sources[1]]
    outcomes = postprocess_each(listed, output_folders(listed, tmp_path / "out"), OPTIONS)
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    assert "broken.h5" in outcomes[1].error
    for outcome in [outcomes[0], outcomes[2]]:
        assert outcome.result["rows_in"] > outcome.result["rows_kept"] > 0
        assert_same_outputs(
            Path(outcome.result["out_dir"]), reference / outcome.result["out_dir"].split("/")[-1]
        )
        assert Path(outcome.result["out_dir"]).parent == tmp_path / "out"
    assert not (tmp_path / "out" / "broken_postprocessed").exists()
    assert no_staging_left(tmp_path)


def test_two_sources_that_would_share_a_folder_are_refused_before_anything_runs(tmp_path):
    a, b = tmp_path / "x" / "rec.h5", tmp_path / "y" / "rec.h5"
    with pytest.raises(SamplelabError, match="would both write into"):
        output_folders([a, b], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_retried_job_starts_clean_and_the_last_sweep_removes_a_lost_attempt(
    tmp_path, sources, reference
):
    """A killed worker runs no cleanup: its tagged staging folder stays until a retry or
    the end of the run removes it."""
    out = tmp_path / "out" / "rec0_postprocessed"
    lost = out / f"{PREFIX}run-0"
    lost.mkdir(parents=True)
    (lost / "postprocessed_data.npz").write_bytes(b"half written")
    postprocess(sources[0], out, figure=False, staging_tag="run-0")  # the retry
    assert_same_outputs(out, reference / "rec0_postprocessed")
    assert no_staging_left(tmp_path)
    # a job lost for good: the driver's last sweep removes its folder and the empty output
    empty = tmp_path / "gone"
    (empty / f"{PREFIX}run-1").mkdir(parents=True)
    from backend.postprocess.many import sweep_leftovers

    sweep_leftovers([empty], ["run-1"], existed=[False])
    assert not empty.exists()


def test_an_existing_sampling_folder_receives_the_files_beside_io_dat(tmp_path, bspysmg_folder):
    import shutil as sh

    folder = tmp_path / "sampling"
    sh.copytree(bspysmg_folder, folder)
    for name in ("postprocessed_data.npz", "charging_signal.npz", "reference_batch.npz"):
        (folder / name).unlink()
    outcomes = postprocess_each([folder], None, OPTIONS)
    assert outcomes[0].ok and outcomes[0].result["out_dir"] == str(folder)
    assert (folder / "IO.dat").is_file() and (folder / "postprocessed_data.npz").is_file()
    assert no_staging_left(tmp_path)


def _square(x: int) -> int:
    if x < 0:
        raise SamplelabError(f"negative input {x}")
    return x * x


def test_run_jobs_here_keeps_order_and_reports_each_job():
    seen = []
    specs = [JobSpec(f"k{i}", f"job {i}", _square, (x,)) for i, x in enumerate([3, -1, 4])]
    outcomes = run_jobs(specs, progress=lambda p: seen.append((p.done, p.total)))
    assert [(o.status, o.result) for o in outcomes] == [("ok", 9), ("failed", None), ("ok", 16)]
    assert outcomes[1].error == "negative input -1"
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)


def test_without_the_extra_the_options_name_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.startswith("dask"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    from backend.fanout.cluster import require_distributed

    with pytest.raises(SamplelabError, match=r"samplelab\[distributed\]"):
        require_distributed()


# --- on a real Dask LocalCluster (two worker processes) -------------------------------------

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster():
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.mark.timeout(120)
def test_on_a_cluster_outputs_equal_local_runs_and_failures_stay_apart(
    tmp_path, cluster, sources, reference
):
    bad = tmp_path / "missing.h5"
    listed = [*sources, bad]
    outs = output_folders(listed, tmp_path / "out")
    outcomes = postprocess_each(listed, outs, OPTIONS, scheduler=cluster.scheduler_address)
    assert [o.status for o in outcomes] == ["ok", "ok", "ok", "failed"]
    assert "not found" in outcomes[3].error
    for out in outs[:3]:
        assert_same_outputs(out, reference / out.name)
    assert no_staging_left(tmp_path)


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_job_still_ends_with_every_output_correct(tmp_path, cluster):
    """Kill the worker process that runs a job while its staging folder exists."""
    client = distributed.Client(cluster)
    try:
        source = big_recording(tmp_path / "long.h5", batches=600)
        want = tmp_path / "want"
        postprocess(source, want, figure=False)
        pids = client.run(os.getpid)  # worker address -> process id
        import threading

        outcome: list = []
        runner = threading.Thread(
            target=lambda: outcome.extend(
                postprocess_each(
                    [source], [tmp_path / "got"], OPTIONS, scheduler=cluster.scheduler_address
                )
            )
        )
        runner.start()
        killed = None
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline:
            if list((tmp_path / "got").glob(f"{PREFIX}*")):
                busy = [w for w, keys in client.processing().items() if keys]
                if busy:
                    killed = pids[busy[0]]
                    os.kill(killed, signal.SIGKILL)
            time.sleep(0.002)
        runner.join(120)
        assert killed is not None, "the job ended before the test could kill its worker"
        assert [o.status for o in outcome] == ["ok"], outcome
        assert_same_outputs(tmp_path / "got", want)
        assert no_staging_left(tmp_path)
    finally:
        client.close()
        shutil.rmtree(tmp_path / "got", ignore_errors=True)


# --- the command line ------------------------------------------------------------------------


def test_cli_several_sources_print_a_table_and_fail_if_any_failed(tmp_path, capsys, sources):
    from app.cli import main

    code = main(
        ["postprocess", str(sources[0]), str(tmp_path / "nope.h5"), "--out", str(tmp_path), "-q"]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "1 of 2 sources failed" in err and "Traceback" not in err
    header, ok_row, failed_row = out.splitlines()[:3]
    assert header.split()[:5] == ["source", "rows", "kept", "output", "status"]
    assert "ok (" in ok_row and "failed:" in failed_row and "not found" in failed_row
    assert out.splitlines()[-1] == str(tmp_path / f"{sources[0].stem}_postprocessed")


def test_cli_merge_as_a_flag_merges_the_sources_into_one(tmp_path, capsys, sources):
    from app.cli import main

    out = tmp_path / "merged"
    code = main(["postprocess", str(sources[0]), str(sources[1]), "--merge", "--out", str(out)])
    printed = capsys.readouterr().out.splitlines()
    assert code == 0 and printed[-1] == str(out)
    rows = [postprocess(s, tmp_path / s.stem, figure=False).summary["rows_in"] for s in sources[:2]]
    assert f"rows        {sum(rows)} in" in "\n".join(printed)


def test_cli_cluster_options_without_the_extra_name_it(tmp_path, capsys, sources, monkeypatch):
    from app.cli import main
    from backend.fanout import cluster

    def missing(option="--scheduler/--workers"):
        raise SamplelabError(f"{option} needs Dask", cluster.INSTALL_HINT)

    monkeypatch.setattr(cluster, "require_distributed", missing)
    code = main(["postprocess", str(sources[0]), "--workers", "2", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "pip install 'samplelab[distributed]'" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
