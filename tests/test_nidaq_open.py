"""Opening an NI session (issue 13, items 5 and 6): both tasks committed at open, routes
resolved before the recording exists, routing codes said in words, brains-py's
`cDAQ1/segment1` trigger form, and sample clocks read back and held to the config."""

from __future__ import annotations

import pytest
from fakes.ni_daq import FakeDAQ, install_fake
from fakes.ni_hardware import daq_error, delta_sigma_module, lab_devices
from fakes.ni_lab import cdaq_config, expected_nA, nidaq_config, wired_lab
from nidaqmx.constants import TaskMode
from nidaqmx.error_codes import DAQmxErrors

from backend.acquisition.waves import BatchPlan
from backend.devices.ni_driver import translated_error
from backend.devices.ni_plan import start_trigger_terminal
from backend.devices.nidaq import NIDevice
from backend.errors import DeviceError, RoutingError
from backend.sampling.session import start_session


def with_setup(config, **setup):
    data = config.to_bspysmg()
    data["driver"]["instruments_setup"].update(setup)
    return type(config).model_validate(data)


def test_both_tasks_are_committed_at_open_before_anything_is_written(monkeypatch):
    config = cdaq_config()
    daq = install_fake(monkeypatch, wired_lab(config))
    device = NIDevice(config)
    device.open()
    commits = [c.args for c in daq.calls("task_control")]
    assert [a[1] for a in commits] == [TaskMode.TASK_COMMIT.value] * 2
    assert {daq.tasks[a[0]].ai != [] for a in commits} == {True, False}  # AI and AO
    daq.interpreter.write_analog_f64.assert_not_called()
    assert device.rates == (1000.0, 2000.0)
    assert device.describe()["sample_clock_rates"] == [1000.0, 2000.0]
    device.close()


@pytest.mark.parametrize(
    ("trigger_source", "code", "meaning"),
    [
        ("cDAQ1Mod4", -89120, "does not exist on that device"),
        ("cDAQ9", -89130, "absent or unavailable"),
        ("Dev1", -89139, "no trigger line connects"),
    ],
)
def test_a_wrong_trigger_source_fails_at_open_before_the_recording_exists(
    monkeypatch, tmp_path, trigger_source, code, meaning
):
    config = with_setup(cdaq_config(), trigger_source=trigger_source)
    daq = install_fake(monkeypatch, wired_lab(config))
    path = tmp_path / "never.h5"
    with pytest.raises(RoutingError) as info:
        start_session(config, "nidaq", path=path)
    message = str(info.value)
    assert f"NI-DAQmx error {code}" in message and meaning in message
    assert f"/{trigger_source}/ai/StartTrigger" in message and "trigger_source" in message
    assert info.value.ni_error_code == code
    assert not path.exists()
    assert daq.open_tasks() == [] and daq.batch_writes() == []


def test_brains_py_segment_form_is_accepted(monkeypatch):
    assert start_trigger_terminal("cDAQ1/segment1") == "/cDAQ1/segment1/ai/StartTrigger"
    assert start_trigger_terminal("cDAQ1") == "/cDAQ1/ai/StartTrigger"
    assert start_trigger_terminal("/cDAQ1/ai/StartTrigger") == "/cDAQ1/ai/StartTrigger"
    config = with_setup(cdaq_config(), trigger_source="cDAQ1/segment1")
    assert config.problems() == []
    daq = install_fake(monkeypatch, wired_lab(config))
    batch = BatchPlan(config).batch(0)
    with NIDevice(config) as device:
        out = device.sample(batch)
    assert [c.args[1] for c in daq.calls("cfg_dig_edge_start_trig")] == [
        "/cDAQ1/segment1/ai/StartTrigger"
    ]
    assert out == pytest.approx(expected_nA(config, daq, batch.inputs), abs=1e-9)


@pytest.mark.parametrize(
    "name",
    [
        "INVALID_ROUTING_SOURCE_TERMINAL_NAME_ROUTING",
        "DEV_ABSENT_OR_UNAVAILABLE_ROUTING",
        "INVALID_ROUTING_SOURCE_TERMINAL_NAME",
        "ROUTING_HARDWARE_BUSY_ROUTING",
        "TRIG_LINE_NOT_FOUND_ROUTING",
        "ROUTE_NOT_SUPPORTED_BY_HW",
    ],
)
def test_routing_codes_become_routing_errors_in_words(name):
    error = translated_error(daq_error(getattr(DAQmxErrors, name), "NI text."), "committing")
    assert isinstance(error, RoutingError)
    assert "(NI text.)" in error.message and "trigger_source" in error.hint
    assert error.message.index("committing: ") < error.message.index("(NI text.)")
    said = error.message.split("committing: ")[1]
    assert not said.startswith("(")  # a meaning in words comes first


# --- item 6: sample clocks read back ----------------------------------------------------------
def test_a_coerced_readout_clock_refuses_the_session_naming_both_rates(monkeypatch, tmp_path):
    config = with_setup(cdaq_config(), readout_instrument="cDAQ1Mod5")
    daq = install_fake(
        monkeypatch, wired_lab(config, FakeDAQ([*lab_devices(), delta_sigma_module()]))
    )
    path = tmp_path / "never.h5"
    with pytest.raises(DeviceError) as info:
        start_session(config, "nidaq", path=path)
    message = str(info.value)
    assert (
        "readout_sampling_frequency is 2000 Hz but cDAQ1Mod5 runs its sample clock at 2048 Hz"
        in message
    )
    assert "samplelab devices --plan" in message
    assert not path.exists() and daq.open_tasks() == [] and daq.batch_writes() == []


def test_a_coerced_activation_clock_refuses_the_session(monkeypatch):
    config = nidaq_config(activation_sampling_frequency=3000, readout_sampling_frequency=6000)
    data = config.to_bspysmg()
    data["input_data"].update(batch_time=1 / 60, ramp_time=1 / 300)
    config = type(config).model_validate(data)
    daq = install_fake(monkeypatch, wired_lab(config))
    with pytest.raises(
        DeviceError,
        match=r"activation_sampling_frequency is 3000 Hz but cDAQ1Mod3 "
        r"runs its sample clock at 2999\.96",
    ):
        NIDevice(config).open()
    assert daq.open_tasks() == []


def test_rates_are_checked_again_when_tasks_are_rebuilt(monkeypatch):
    """After a pause the tasks are rebuilt: a module swapped meanwhile is still caught."""
    config = cdaq_config()
    daq = install_fake(monkeypatch, wired_lab(config))
    device = NIDevice(config)
    device.open()
    device.set_zero()  # releases the tasks, as a pause does
    daq.devices["cDAQ1Mod4"].rates = (1024.0, 2048.0, 4096.0)
    with pytest.raises(DeviceError, match="2048 Hz"):
        device.sample(BatchPlan(config).batch(0))
    device.close()
    assert daq.open_tasks() == []
