"""Consistency checks: the peer's ground truth reproduced, drift caught, nothing unsafe sent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from chartools import LIFECYCLE, SpyDevice
from conftest import BSPYSMG_FIXTURES, small_config

from app.cli import main
from app.commands.consistency import EXIT_DRIFTED
from backend.characterise.checkfiles import read_consistency
from backend.characterise.consistency import (
    CheckProgress,
    Limits,
    check_consistency,
    load_stored_signals,
    verdict_of,
)
from backend.config import save_config
from backend.errors import Cancelled, FileFormatError, SafetyError, SamplelabError
from backend.jobs import CancelToken


@pytest.mark.parametrize("wave", ["sawtooth", "sine"])
def test_cli_reproduces_the_peers_consistency_results(tmp_path, wave, capsys):
    folder = BSPYSMG_FIXTURES / f"small_{wave}"
    life = BSPYSMG_FIXTURES / LIFECYCLE.format(wave)
    out = tmp_path / "check"
    args = ["consistency", str(folder), "--device", "simulated", "--model"]
    args += [str(life / "training_data.pt"), "--noise", "0", "--repetitions", "3"]
    code = main([*args, "--out", str(out), "-q"])
    printed, err = capsys.readouterr()
    assert code == EXIT_DRIFTED, err  # the peer's surrogate does not fit its reference batch
    assert Path(printed.strip().splitlines()[-1]) == out / "consistency_results.npz"
    assert "verdict: drifted" in err
    peer = np.load(life / "consistency_results.npz")
    ours = np.load(out / "consistency_results.npz", allow_pickle=False)
    assert set(ours.files) == {"results", "deviations", "correlation", "deviation_chargeup"}
    for key in peer.files:
        assert ours[key].shape == peer[key].shape, key
        np.testing.assert_allclose(ours[key], peer[key], rtol=0, atol=1e-4, err_msg=key)
    verdict = json.loads((out / "consistency_verdict.json").read_text())
    assert verdict["status"] == "drifted" and verdict["repetitions"] == 3
    assert verdict["failed_repetitions"] == [1, 2, 3]
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == [
        "consistency_check.png",
        "deviations_while_charging_up.png",
        "diff_mean-ref.png",
        "first_batch.png",
        "hist_deviations.png",
    ]


@pytest.fixture(scope="module")
def sampled(tmp_path_factory) -> Path:
    """A recording of the analytic simulated device, postprocessed: the folder to check."""
    tmp = tmp_path_factory.mktemp("sampled")
    config = save_config(small_config(number_batches=8), tmp / "config.yaml")
    args = ["sample", str(config), "--out", str(tmp / "rec"), "--seed", "3", "--model", "analytic"]
    assert main([*args, "-q"]) == 0
    recording = next((tmp / "rec").glob("*.h5"))
    args = ["postprocess", str(recording), "--out", str(tmp / "pp"), "-q"]
    assert main([*args, "--charging-batches", "3", "--reference-batches", "2"]) == 0
    return tmp / "pp"


def test_an_unchanged_device_is_consistent_and_a_shifted_one_drifted(sampled, tmp_path, capsys):
    args = ["consistency", str(sampled), "--model", "analytic", "--repetitions", "3"]
    assert main([*args, "--out", str(tmp_path / "same"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "verdict: consistent" in err
    same = read_consistency(tmp_path / "same" / "consistency_results.npz")
    assert same.deviations.max() < 1.5 and same.correlation.min() > 0.999
    assert same.verdict["status"] == "consistent"
    shifted = [*args, "--shift", "12", "--out", str(tmp_path / "shifted"), "-q"]
    assert main(shifted) == EXIT_DRIFTED
    err = capsys.readouterr().err
    assert "verdict: drifted" in err and "repetition(s) 1, 2, 3" in err
    drifted = read_consistency(tmp_path / "shifted" / "consistency_results.npz")
    assert drifted.deviations.min() > 11 and drifted.deviations.max() < 13
    assert drifted.deviation_chargeup.min() > 11
    # the correlation alone does not see an offset; a tighter correlation limit still passes
    assert drifted.correlation.min() > 0.999


def test_check_reports_live_and_leaves_the_device_at_zero(sampled):
    signals = load_stored_signals(sampled)
    device = SpyDevice(signals.config, noise_nA=0.5, drift_nA=2.0, seed=1)
    seen: list[CheckProgress] = []
    result = check_consistency(device, signals, 2, progress=seen.append, limits=Limits(5, 0.9))
    assert device.at_zero() and device.closed == 1
    assert len(device.sent) == 3 + 2 * 2
    ramp = signals.config.ramp_points
    for data in device.sent:  # the sampler's ramps around every replayed batch
        assert data.shape[1] == signals.batch_points + 2 * ramp
        assert (data[:, 0] == 0).all() and (data[:, -1] == 0).all()
    final = [p for p in seen if isinstance(p, CheckProgress)][-1]
    assert final.done == final.total == 7
    assert final.deviations == tuple(result.deviations) and len(final.deviation_chargeup) == 3
    assert [len(p.deviations) for p in seen if p.stage == "reference"] == [0, 0, 1, 1, 1, 2]
    assert result.verdict.consistent


def test_cancel_and_faults_end_at_zero_with_nothing_written(sampled, tmp_path):
    signals = load_stored_signals(sampled)
    token = CancelToken()
    device = SpyDevice(signals.config)

    def cancel_after_two(p):
        if p.done == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        check_consistency(device, signals, 3, progress=cancel_after_two, cancel=token)
    assert len(device.sent) == 2 and device.at_zero()
    from chartools import faulty

    for fault in ("timeout@1", "overflow@4", "disconnect@2"):
        device = faulty(signals.config, fault)
        with pytest.raises(SamplelabError):
            check_consistency(device, signals, 2)
        assert device.at_zero(), fault


def test_stored_signals_outside_the_ranges_never_reach_the_device(sampled, tmp_path):
    folder = Path(shutil.copytree(sampled, tmp_path / "narrow"))
    signals = load_stored_signals(folder)
    narrow = signals.config.model_copy(deep=True)
    narrow.driver.instruments_setup.activation_voltage_ranges[0] = (-0.2, 0.2)
    device = SpyDevice(narrow)
    with pytest.raises(SafetyError, match=r"stored charging signal, batch [0-9]+: refused"):
        check_consistency(device, signals, 1)
    assert device.sent == [] and not device.is_open and device.zeroed == 0


def test_folders_that_cannot_be_checked_say_why(sampled, tmp_path):
    with pytest.raises(FileFormatError, match="not a folder"):
        load_stored_signals(tmp_path / "nothing")
    folder = Path(shutil.copytree(sampled, tmp_path / "no_charge"))
    (folder / "charging_signal.npz").unlink()
    with pytest.raises(FileFormatError, match=r"charging_signal\.npz"):
        load_stored_signals(folder)
    peer = Path(shutil.copytree(BSPYSMG_FIXTURES / "small_sine", tmp_path / "peer"))
    (peer / "sampler_configs.json").unlink()
    with pytest.raises(FileFormatError, match="pickle") as err:  # never unpickled unasked
        load_stored_signals(peer)
    assert "sampler_configs.json" in err.value.message
    assert load_stored_signals(peer, trust_pickle=True).config.fs == 2500
    wrong = Path(shutil.copytree(BSPYSMG_FIXTURES / "small_sawtooth", tmp_path / "wrong"))
    shutil.copy(BSPYSMG_FIXTURES / "small_sine" / "sampler_configs.json", wrong)
    with pytest.raises(FileFormatError, match="150 rows is not a whole number of 100-row"):
        load_stored_signals(wrong)


def test_surrogate_compared_beside(tmp_path, capsys):
    folder = BSPYSMG_FIXTURES / "small_sine"
    pt = BSPYSMG_FIXTURES / LIFECYCLE.format("sine") / "training_data.pt"
    args = ["consistency", str(folder), "--model", str(pt), "--compare-model", str(pt)]
    assert main([*args, "--out", str(tmp_path), "-q"]) == EXIT_DRIFTED
    ours = np.load(tmp_path / "consistency_results.npz", allow_pickle=False)
    assert ours["model_deviations"] == pytest.approx([0.0], abs=1e-9)
    assert ours["model_deviation_chargeup"] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert ours["model_outputs"].shape == (100, 1)


def test_verdict_rules():
    limits = Limits(max_rmse_nA=2.0, min_correlation=0.9)
    v = verdict_of(np.array([1.0, 1.5]), np.array([0.99, 0.95]), limits)
    assert v.consistent and v.worst_rmse_nA == 1.5 and v.failed == ()
    v = verdict_of(np.array([1.0, 2.5]), np.array([0.99, 0.95]), limits)
    assert v.status == "drifted" and v.failed == (1,) and "repetition(s) 2" in v.text()
    v = verdict_of(np.array([1.0]), np.array([float("nan")]), limits)
    assert v.status == "drifted"
    with pytest.raises(SamplelabError):
        Limits(max_rmse_nA=0)
    with pytest.raises(SamplelabError):
        Limits(min_correlation=1.5)
