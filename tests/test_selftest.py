"""`samplelab selftest` end to end: on the simulated device, and on the fake NI driver."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import small_config
from fakes.ni_daq import FakeDAQ, install_fake, install_missing_driver
from fakes.ni_hardware import daq_error, delta_sigma_module, lab_devices
from fakes.ni_lab import cdaq_config, nidaq_config, wired_lab
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqWriteError

from app.cli import main
from backend.config import save_config
from backend.errors import Cancelled, SafetyError
from backend.jobs import CancelToken
from backend.recording.reader import Recording
from backend.sampling.selftest import (
    MAX_AMPLITUDE_V,
    SelftestPlan,
    report_path,
    run_selftest,
    selftest_config,
)


def checks(report) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["selftest", *argv, "-q"])
    out, err = capsys.readouterr()
    return code, out, err


# --- the test waves ----------------------------------------------------------------------------
def test_test_waves_stay_small_and_inside_every_range():
    data = small_config().to_bspysmg()
    data["driver"]["instruments_setup"]["activation_voltage_ranges"][1] = [0.0, 0.05]
    data["driver"]["instruments_setup"]["activation_voltage_ranges"][2] = [-0.03, 0.6]
    config = type(small_config()).model_validate(data)
    test = selftest_config(config, batches=5, amplitude_v=0.1)
    assert test.number_batches == 5 and test.problems() == []
    assert test.ramp_points == config.ramp_points  # never faster ramps than the lab's
    plan = SelftestPlan(test, seed=0)
    waves = np.concatenate([plan.batch(i).data for i in range(5)], axis=1)
    ranges = config.voltage_ranges()
    assert (waves.min(axis=1) >= np.maximum(ranges[:, 0], -0.1) - 1e-12).all()
    assert (waves.max(axis=1) <= np.minimum(ranges[:, 1], 0.1) + 1e-12).all()
    assert 0.04 < waves[1].max() <= 0.05 and -0.03 <= waves[2].min() < -0.02
    assert not plan.batch(0).data.any() and not plan.batch(4).data.any()  # 0 V first and last
    assert plan.batch(2).data.any()


@pytest.mark.parametrize("amplitude", [0.0, -0.1, MAX_AMPLITUDE_V + 0.01, 1.2])
def test_large_or_empty_test_waves_are_refused(amplitude):
    with pytest.raises(SafetyError, match="small test waves only"):
        selftest_config(small_config(), amplitude_v=amplitude)


def test_a_config_outside_the_safety_rules_is_refused_before_any_device(monkeypatch, tmp_path):
    daq = install_fake(monkeypatch, wired_lab(cdaq_config()))
    config = cdaq_config().model_copy(deep=True)
    config.driver.instruments_setup.activation_voltage_ranges[0] = (-1.8, 0.6)
    with pytest.raises(SafetyError, match="exceeds the global activation limit"):
        run_selftest(config, "nidaq", out_dir=tmp_path)
    daq.interpreter.create_task.assert_not_called()
    assert list(tmp_path.iterdir()) == []


# --- simulated device (runs in CI) ------------------------------------------------------------
def test_selftest_on_the_simulated_device_end_to_end(tmp_path, capsys):
    config = save_config(small_config(), tmp_path / "lab.yaml")
    code, out, err = run_cli(
        capsys, str(config), "--device", "simulated", "--out", str(tmp_path), "--batches", "6"
    )
    assert code == 0, err
    assert "PASS  batches" in out and "PASS  0 V at the end" in out
    assert "SKIP  sync" in out and "self-test PASSED" in out
    recording = Path(out.strip().splitlines()[-1])
    with Recording(recording) as rec:
        assert rec.batches_done == 6 and rec.status == "complete"
        inputs, _ = rec.read()
    assert np.abs(inputs).max() <= 0.1 + 1e-12
    assert not inputs[:50].any() and not inputs[-50:].any()
    report = json.loads(report_path(recording).read_text())
    assert report["passed"] is True and report["recording"] == str(recording)


# --- NI-DAQmx on the fake driver --------------------------------------------------------------
def unlocked(daq: FakeDAQ) -> FakeDAQ:
    daq.ao_offsets = {"cDAQ1Mod3/ao7": -1.5e-3, "cDAQ1Mod3/ao6": 1e-3}
    daq.ai_offsets = {"Dev1/ai7": 2e-3, "Dev1/ai0": -1e-3}
    daq.clock_ppm = {"cDAQ1": 20.0, "Dev1": -30.0}
    daq.lags = [1 + 0.37 * i % 30 for i in range(100)]
    return daq


def test_selftest_passes_on_a_healthy_cdaq_to_nidaq_rig(monkeypatch, tmp_path):
    config = nidaq_config()
    daq = install_fake(monkeypatch, unlocked(wired_lab(config)))
    report = run_selftest(config, "nidaq", out_dir=tmp_path, batches=30)
    assert report.passed, report.checks
    assert checks(report) == {
        "tasks and routes": "pass",
        "sample clocks": "pass",
        "batches": "pass",
        "sync": "pass",
        "read timing": "pass",
        "readout": "pass",
        "0 V at the end": "pass",
    }
    detail = {c.name: c.detail for c in report.checks}
    assert "spike found in 30 of 30 batches at the first attempt" in detail["sync"]
    assert "8 AO channels" in detail["0 V at the end"]  # seven electrodes and the sync output
    assert "AO 1000 Hz, AI 2000 Hz" in detail["sample clocks"]
    written = np.concatenate([w.data for w in daq.batch_writes()], axis=1)
    assert np.abs(written[:7]).max() <= 0.1 + 1e-12  # electrodes: small test waves only
    assert set(np.unique(written[7])) == {0.0, 1.0}  # the sync row: zeros and the spike
    assert not any(daq.levels.values())


def test_selftest_reports_a_wrong_route_without_a_recording(monkeypatch, tmp_path, capsys):
    config = cdaq_config()
    data = config.to_bspysmg()
    data["driver"]["instruments_setup"]["trigger_source"] = "cDAQ1Mod4"
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(data))
    install_fake(monkeypatch, wired_lab(config))
    code, out, _ = run_cli(capsys, str(path), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "FAIL  tasks and routes  the start-trigger route could not be made" in out
    assert "-89120" in out and "self-test FAILED" in out
    assert not (tmp_path / "out").exists()


def test_selftest_reports_coerced_clocks(monkeypatch, tmp_path):
    data = cdaq_config().to_bspysmg()
    data["driver"]["instruments_setup"]["readout_instrument"] = "cDAQ1Mod5"
    config = type(cdaq_config()).model_validate(data)
    daq = FakeDAQ([*lab_devices(), delta_sigma_module()])
    install_fake(monkeypatch, wired_lab(config, daq))
    report = run_selftest(config, "nidaq", out_dir=tmp_path, batches=4)
    assert checks(report)["sample clocks"] == "fail" and not report.passed
    assert "2048 Hz" in next(c.detail for c in report.checks if c.name == "sample clocks")


def test_selftest_warns_about_late_readouts_and_fails_without_a_spike(monkeypatch, tmp_path):
    config = nidaq_config()
    daq = install_fake(monkeypatch, wired_lab(config))
    daq.lags = [2.5, 41.0, 3.5, 3.5, 3.5, 3.5]  # one readout started after the spike
    report = run_selftest(config, "nidaq", out_dir=tmp_path / "late", batches=5)
    assert checks(report)["sync"] == "warn" and report.passed
    daq.nimax_sine = {"Dev1/ai7": 60.0}  # an NI MAX simulated card: never a spike
    report = run_selftest(config, "nidaq", out_dir=tmp_path / "sine", batches=5)
    assert checks(report)["sync"] == "fail" and checks(report)["batches"] == "fail"
    assert not report.passed and not any(daq.levels.values())


def test_selftest_fails_when_the_outputs_cannot_be_zeroed(monkeypatch, tmp_path):
    config = cdaq_config()
    daq = install_fake(monkeypatch, wired_lab(config))
    lost = daq_error(DAQmxErrors.DEV_ABSENT_OR_UNAVAILABLE, cls=DaqWriteError)
    daq.fail("write_analog_f64", lost, call=5)  # 4 batches, then the two 0 V writes
    daq.fail("write_analog_f64", lost, call=6)
    report = run_selftest(config, "nidaq", out_dir=tmp_path, batches=4)
    assert checks(report)["0 V at the end"] == "fail" and not report.passed


def test_selftest_without_the_driver_says_so(monkeypatch, tmp_path, capsys):
    install_missing_driver(monkeypatch)
    code, _, err = run_cli(capsys, "--out", str(tmp_path))
    assert code == 1 and "NI-DAQmx driver not found" in err
    assert list(tmp_path.iterdir()) == []


def test_selftest_can_be_cancelled(tmp_path):
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.done)
        if p.done == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        run_selftest(small_config(), "simulated", out_dir=tmp_path, batches=8,
                     progress=progress, cancel=token)  # fmt: skip
    assert seen[:2] == [1, 2] and len(seen) < 8
