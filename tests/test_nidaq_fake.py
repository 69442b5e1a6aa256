"""The scripted NI-DAQmx driver (tests/fakes) held to the driver's contract and to physics.

The fake lives in the `fakes` package; this module re-exports its names, so
`from test_nidaq_fake import FakeDAQ, install_fake, ...` keeps working.
"""

from __future__ import annotations

import numpy as np
import pytest
from fakes.ni_daq import (
    REAL_SELECT_INTERPRETER,
    FakeDAQ,
    FakeTask,
    Write,
    install_fake,
    install_missing_driver,
)
from fakes.ni_hardware import FakeDevice, daq_error, delta_sigma_module, lab_devices
from fakes.ni_lab import cdaq_config, expected_nA, multi_config, nidaq_config, wired_lab
from fakes.ni_signals import (
    JUNK_FIRST_SAMPLE_V,
    free_running_indices,
    held,
    ripple,
    triggered_indices,
)
from nidaqmx.constants import AcquisitionType, TaskMode
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqError

__all__ = [
    "JUNK_FIRST_SAMPLE_V",
    "REAL_SELECT_INTERPRETER",
    "FakeDAQ",
    "FakeDevice",
    "FakeTask",
    "Write",
    "cdaq_config",
    "daq_error",
    "delta_sigma_module",
    "expected_nA",
    "install_fake",
    "install_missing_driver",
    "lab_devices",
    "multi_config",
    "nidaq_config",
    "wired_lab",
]


# --- the fake held to the driver's contract ---------------------------------------------------
@pytest.fixture
def daq(monkeypatch) -> FakeDAQ:
    return install_fake(monkeypatch)


def test_real_task_code_reaches_the_fake_and_wrong_calls_fail(daq):
    import nidaqmx

    with nidaqmx.Task() as task:
        task.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        assert task.name == "_unnamedTask<1>"
        with pytest.raises(AssertionError, match="unexpected NI-DAQmx call"):
            task.ao_channels.add_ao_current_chan("cDAQ1Mod3/ao1")
        with pytest.raises(TypeError):  # the autospec enforces the driver's signatures
            daq.interpreter.start_task(task=1, bogus=2)
    assert daq.open_tasks() == []


def test_fake_rejects_a_wrongly_shaped_write_through_the_real_writer(daq):
    import nidaqmx
    from nidaqmx.stream_writers import AnalogMultiChannelWriter

    with nidaqmx.Task() as task:
        for ch in ("cDAQ1Mod3/ao0", "cDAQ1Mod3/ao1"):
            task.ao_channels.add_ao_voltage_chan(ch, min_val=-1.0, max_val=1.0)
        task.timing.cfg_samp_clk_timing(1000, sample_mode=AcquisitionType.FINITE, samps_per_chan=5)
        writer = AnalogMultiChannelWriter(task.out_stream)
        with pytest.raises(DaqError):  # nidaqmx's own shape check: 3 rows for 2 channels
            writer.write_many_sample(np.zeros((3, 5)))
        with pytest.raises(AssertionError, match="full buffer"):
            writer.write_many_sample(np.zeros((2, 4)))
        assert writer.write_many_sample(np.zeros((2, 5))) == 5
    assert len(daq.writes) == 1


def test_fake_unknown_channel_and_injected_failures(daq):
    import nidaqmx

    with nidaqmx.Task() as task:
        with pytest.raises(DaqError) as info:
            task.ai_channels.add_ai_voltage_chan("cDAQ9Mod1/ai0")
        assert info.value.error_type == DAQmxErrors.INVALID_DEVICE_ID
        daq.fail("start_task", daq_error(DAQmxErrors.PAL_RESOURCE_RESERVED), call=2)
        task.ai_channels.add_ai_voltage_chan("cDAQ1Mod4/ai0")
        task.timing.cfg_samp_clk_timing(2000, sample_mode=AcquisitionType.FINITE, samps_per_chan=3)
        task.start()
        task.stop()
        with pytest.raises(DaqError) as info:
            task.start()
        assert info.value.error_code == -50103


def test_fake_reserves_the_channels_of_a_running_task(daq):
    import nidaqmx
    from nidaqmx.stream_writers import AnalogMultiChannelWriter

    with nidaqmx.Task() as running, nidaqmx.Task() as other:
        running.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        running.timing.cfg_samp_clk_timing(
            1000, sample_mode=AcquisitionType.FINITE, samps_per_chan=2
        )
        AnalogMultiChannelWriter(running.out_stream).write_many_sample(np.zeros((1, 2)))
        running.start()
        other.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        writer = AnalogMultiChannelWriter(other.out_stream, auto_start=True)
        with pytest.raises(DaqError) as info:
            writer.write_one_sample(np.zeros(1))
        assert info.value.error_type == DAQmxErrors.PAL_RESOURCE_RESERVED
        running.stop()
        writer.write_one_sample(np.zeros(1))
    assert daq.levels == {"cDAQ1Mod3/ao0": 0.0}


# --- habits of real hardware -----------------------------------------------------------------
def test_sample_clocks_are_coerced_and_reported_once_verified(monkeypatch):
    import nidaqmx

    daq = install_fake(monkeypatch, FakeDAQ([*lab_devices(), delta_sigma_module()]))
    with nidaqmx.Task() as ao, nidaqmx.Task() as ai, nidaqmx.Task() as ds:
        ao.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        ao.timing.cfg_samp_clk_timing(3000, sample_mode=AcquisitionType.FINITE, samps_per_chan=4)
        assert ao.timing.samp_clk_rate == 3000  # not verified yet: the value asked for
        ao.control(TaskMode.TASK_VERIFY)
        assert ao.timing.samp_clk_rate == pytest.approx(80e6 / 26667)  # 2999.96 Hz
        ai.ai_channels.add_ai_voltage_chan("Dev1/ai0")
        ai.timing.cfg_samp_clk_timing(10000, sample_mode=AcquisitionType.FINITE, samps_per_chan=4)
        ai.control(TaskMode.TASK_VERIFY)
        assert ai.timing.samp_clk_rate == 10000.0  # 100 MHz / 10000 exactly
        ds.ai_channels.add_ai_voltage_chan("cDAQ1Mod5/ai0")
        ds.timing.cfg_samp_clk_timing(2000, sample_mode=AcquisitionType.FINITE, samps_per_chan=4)
        ds.control(TaskMode.TASK_VERIFY)
        assert ds.timing.samp_clk_rate == 2048.0  # 51.2 kS/s / 25: the next rate up
    assert daq.open_tasks() == []


def test_routes_are_resolved_at_commit_not_when_configured(monkeypatch):
    import nidaqmx

    install_fake(monkeypatch)
    for terminal, code in (
        ("/cDAQ1/ai/StartTrigger", None),
        ("/cDAQ1/segment1/ai/StartTrigger", None),  # brains-py's documented spelling
        ("/cDAQ1Mod4/ai/StartTrigger", DAQmxErrors.INVALID_ROUTING_SOURCE_TERMINAL_NAME_ROUTING),
        ("/cDAQ9/ai/StartTrigger", DAQmxErrors.DEV_ABSENT_OR_UNAVAILABLE_ROUTING),
        ("/Dev1/ai/StartTrigger", DAQmxErrors.NO_COMMON_TRIG_LINE_FOR_ROUTE_ROUTING),
    ):
        with nidaqmx.Task() as ao:
            ao.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
            ao.timing.cfg_samp_clk_timing(
                1000, sample_mode=AcquisitionType.FINITE, samps_per_chan=4
            )
            ao.triggers.start_trigger.cfg_dig_edge_start_trig(terminal)  # never fails here
            if code is None:
                ao.control(TaskMode.TASK_COMMIT)
                continue
            with pytest.raises(DaqError) as info:
                ao.control(TaskMode.TASK_COMMIT)
            assert info.value.error_type == code, terminal


def test_committed_tasks_hold_their_channels_until_cleared(monkeypatch):
    import nidaqmx
    from nidaqmx.stream_writers import AnalogMultiChannelWriter

    install_fake(monkeypatch)
    with nidaqmx.Task() as held_task:
        held_task.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        held_task.timing.cfg_samp_clk_timing(
            1000, sample_mode=AcquisitionType.FINITE, samps_per_chan=2
        )
        held_task.control(TaskMode.TASK_COMMIT)
        with nidaqmx.Task() as other:
            other.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
            writer = AnalogMultiChannelWriter(other.out_stream, auto_start=True)
            with pytest.raises(DaqError) as info:
                writer.write_one_sample(np.zeros(1))
            assert info.value.error_type == DAQmxErrors.PAL_RESOURCE_RESERVED


def test_free_running_clocks_phase_and_drift():
    # AI at 2x starting 3.25 AO periods late: samples at 3.25, 3.75, 4.25, ... AO periods
    index = free_running_indices(6, 3.25, 1000.0, 2000.0, 0.0, 0.0)
    assert index.tolist() == [3, 3, 4, 4, 5, 5]
    # a tick exactly on an update sees the new sample
    assert free_running_indices(3, 2.0, 1000.0, 2000.0, 0.0, 0.0).tolist() == [2, 2, 3]
    # the AO clock 100 ppm fast: 10 000 AO periods later the AI is one sample behind
    late = free_running_indices(20001, 0.5, 1000.0, 2000.0, 100.0, 0.0)
    assert late[0] == 0 and late[-1] == 10001
    assert triggered_indices(5, 2).tolist() == [-1, 0, 0, 1, 1]
    row = np.array([0.1, 0.2, 0.3])
    assert held(row, np.array([-1, 0, 2, 5]), 0.0).tolist() == [0.0, 0.1, 0.3, 0.3]
    for io in (2, 3, 4):  # the ripple vanishes in any io consecutive samples
        r = ripple(40, io, 0.01)
        assert np.abs(np.convolve(r, np.ones(io), "valid")).max() < 1e-12


def test_an_aborted_generation_leaves_the_outputs_where_it_stopped(monkeypatch):
    import nidaqmx
    from nidaqmx.stream_writers import AnalogMultiChannelWriter

    daq = install_fake(monkeypatch)
    daq.abort_generated = 3
    with nidaqmx.Task() as ao:
        ao.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        ao.timing.cfg_samp_clk_timing(1000, sample_mode=AcquisitionType.FINITE, samps_per_chan=5)
        AnalogMultiChannelWriter(ao.out_stream).write_many_sample(
            np.array([[0.0, 0.2, 0.4, 0.2, 0.0]])
        )
        ao.start()
        ao.stop()
        assert ao.out_stream.total_samp_per_chan_generated == 3
    assert daq.levels == {"cDAQ1Mod3/ao0": 0.4}


@pytest.mark.parametrize("idle", ["default", "zero", "set to keep", "not settable"])
def test_a_finished_generation_holds_its_last_sample_unless_idle_is_zero(monkeypatch, idle):
    import nidaqmx
    from nidaqmx.constants import AOIdleOutputBehavior
    from nidaqmx.stream_writers import AnalogMultiChannelWriter

    daq = install_fake(monkeypatch)
    module = daq.devices["cDAQ1Mod3"]
    module.ao_idle = {"zero": AOIdleOutputBehavior.ZERO_VOLTS.value, "not settable": None,
                      "set to keep": AOIdleOutputBehavior.ZERO_VOLTS.value}.get(
        idle, module.ao_idle)  # fmt: skip
    with nidaqmx.Task() as ao:
        channel = ao.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        keep = AOIdleOutputBehavior.MAINTAIN_EXISTING_VALUE
        if idle == "set to keep":
            channel.ao_idle_output_behavior = keep
        if idle == "not settable":
            with pytest.raises(DaqError) as refused:
                channel.ao_idle_output_behavior = keep
            assert refused.value.error_code == -200452
        ao.timing.cfg_samp_clk_timing(1000, sample_mode=AcquisitionType.FINITE, samps_per_chan=3)
        AnalogMultiChannelWriter(ao.out_stream).write_many_sample(np.array([[0.1, 0.2, 0.3]]))
        ao.start()
        ao.wait_until_done(timeout=1.0)
        ao.stop()
    dropped = idle == "zero"
    assert daq.levels["cDAQ1Mod3/ao0"] == (0.0 if dropped else 0.3)
    scope = [0.0, 0.1, 0.2, 0.3, 0.0] if dropped else [0.0, 0.1, 0.2, 0.3]
    assert daq.scope_of("cDAQ1Mod3/ao0").tolist() == scope
    assert daq.largest_step(["cDAQ1Mod3/ao0"]) == pytest.approx(0.3 if dropped else 0.1)
