"""`samplelab devices --plan CONFIG`: what a session would send, exactly, driving nothing."""

from __future__ import annotations

import json

import pytest
import yaml
from fakes.ni_daq import FakeDAQ, install_fake, install_missing_driver
from fakes.ni_hardware import delta_sigma_module, lab_devices
from fakes.ni_lab import cdaq_config, multi_config, nidaq_config, wired_lab
from nidaqmx.constants import TaskMode

from app.cli import main
from backend.acquisition.waves import BatchPlan
from backend.config import save_config
from backend.devices.ni_plan import ni_plan
from backend.devices.nidaq import NIDevice


def plan_cli(capsys, config, tmp_path, *extra) -> tuple[int, str, str]:
    path = save_config(config, tmp_path / "lab.yaml")
    code = main(["devices", "--plan", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("make", [cdaq_config, nidaq_config, multi_config])
def test_the_plan_is_what_the_device_sends(monkeypatch, make):
    config = make()
    daq = install_fake(monkeypatch, wired_lab(config))
    plan = ni_plan(config)
    with NIDevice(config) as device:
        device.sample(BatchPlan(config).batch(0))
    ao = [c.args[1:5] for c in daq.calls("create_ao_voltage_chan")]
    ai = [(c.args[1], c.args[4], c.args[5]) for c in daq.calls("create_ai_voltage_chan")]
    sent_ao = [(c.name, "", c.min_v, c.max_v) for c in plan.activation.channels]
    assert ao[: len(sent_ao)] == sent_ao
    assert ai[: len(plan.readout.channels)] == [
        (c.name, c.min_v, c.max_v) for c in plan.readout.channels
    ]
    timing = [c.args[1:] for c in daq.calls("cfg_samp_clk_timing")][:2]
    assert [(t[0], t[-1]) for t in timing] == [
        (plan.activation.rate_hz, plan.activation.samples_per_channel),
        (plan.readout.rate_hz, plan.readout.samples_per_channel),
    ]
    triggers = [c.args[1] for c in daq.calls("cfg_dig_edge_start_trig")]
    assert triggers == ([plan.activation.trigger] if plan.activation.trigger else [])
    assert daq.read_timeouts[0] == pytest.approx(plan.timeout_s)
    zero = daq.zero_writes()[-1].channels
    assert zero == tuple(c.name for c in plan.zero_channels)


def test_plan_without_a_driver_prints_the_plan_unchecked(monkeypatch, tmp_path, capsys):
    install_missing_driver(monkeypatch)
    code, out, _ = plan_cli(capsys, nidaq_config(), tmp_path)
    assert code == 0
    assert "NI-DAQmx driver not found" in out and "not checked" in out
    assert "cDAQ1Mod3/ao7  sync       [-5, 5] V" in out
    assert "Dev1/ai0  readout    [-4, 4] V" in out
    assert "terminal config DEFAULT" in out and "110 samples per channel" in out
    assert "220 samples per channel" in out  # (40 lead-in + 70) x 2
    assert "sync: cDAQ1Mod3/ao7 -> Dev1/ai7, one 1 V spike at activation point 40" in out
    assert "timeout: 2.12 s" in out and "0 V on pause, stop, error and exit: 8 AO" in out


def test_plan_with_the_driver_checks_rates_and_the_route_and_drives_nothing(
    monkeypatch, tmp_path, capsys
):
    daq = install_fake(monkeypatch, wired_lab(cdaq_config()))
    code, out, _ = plan_cli(capsys, cdaq_config(), tmp_path)
    assert code == 0, out
    assert "driver: NI-DAQmx 24.5.0" in out
    assert "1000 Hz requested, 1000 Hz from NI-DAQmx (as configured)" in out
    assert "on /cDAQ1/ai/StartTrigger (listed by NI-DAQmx)" in out
    assert "masked" not in out
    daq.interpreter.write_analog_f64.assert_not_called()
    daq.interpreter.start_task.assert_not_called()
    assert {c.args[1] for c in daq.calls("task_control")} == {TaskMode.TASK_VERIFY.value}
    assert daq.open_tasks() == []


def test_plan_names_coerced_rates_and_unknown_terminals(monkeypatch, tmp_path, capsys):
    data = cdaq_config().to_bspysmg()
    data["driver"]["instruments_setup"].update(
        readout_instrument="cDAQ1Mod5", trigger_source="cDAQ1Mod4"
    )
    config = type(cdaq_config()).model_validate(data)
    install_fake(monkeypatch, FakeDAQ([*lab_devices(), delta_sigma_module()]))
    code, out, _ = plan_cli(capsys, config, tmp_path)
    assert code == 1
    assert "2000 Hz requested, 2048 Hz from NI-DAQmx (DIFFERS)" in out
    assert "problem: readout_sampling_frequency is 2000 Hz but cDAQ1Mod5 runs" in out
    assert "/cDAQ1Mod4/ai/StartTrigger (NOT listed by NI-DAQmx)" in out


def test_plan_json_and_masked_channels(monkeypatch, tmp_path, capsys):
    install_missing_driver(monkeypatch)
    code, out, _ = plan_cli(capsys, multi_config(), tmp_path, "--json")
    assert code == 0
    data = json.loads(out)
    roles = {c["name"]: c["role"] for c in data["plan"]["zero_channels"]}
    assert roles["cDAQ1Mod3/ao1"] == "masked" and roles["cDAQ1Mod1/ao7"] == "masked"
    assert data["driver"]["driver_version"] is None
    assert data["plan"]["activation"]["trigger"] == "/cDAQ1/ai/StartTrigger"


def test_a_bad_config_is_one_clear_message(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    data = nidaq_config().to_bspysmg()
    data["driver"]["instruments_setup"]["readout_channels"] = [7]
    path.write_text(yaml.safe_dump(data))
    assert main(["devices", "--plan", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Dev1/ai7 carries the 1 V cdaq_to_nidaq sync spike" in err and "Traceback" not in err
