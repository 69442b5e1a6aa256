"""NIDevice on the real nidaqmx Task code over a scripted driver (see test_nidaq_fake)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from nidaqmx.constants import AcquisitionType, Edge, TerminalConfiguration, VoltageUnits
from test_nidaq_fake import (
    FakeDAQ,
    cdaq_config,
    expected_nA,
    install_fake,
    multi_config,
    nidaq_config,
    wired_lab,
)

from backend.acquisition.waves import BatchPlan, RampedBatch
from backend.devices import make_device
from backend.devices.ni_driver import batch_timeout_s
from backend.devices.ni_sync import find_sync_edge
from backend.devices.nidaq import NIDevice
from backend.errors import DeviceError, SafetyError


def lab(monkeypatch, config) -> FakeDAQ:
    return install_fake(monkeypatch, wired_lab(config))


def ramped_batch(data: np.ndarray, ramp: int, index: int = 0) -> RampedBatch:
    return RampedBatch(index, data, ramp, data.shape[1] - 2 * ramp, np.zeros(len(data)), 0.0)


# --- cdaq_to_cdaq ------------------------------------------------------------------------
@pytest.mark.parametrize("inverted", [True, False])
def test_cdaq_outputs_are_averaged_amplified_and_signed(monkeypatch, inverted):
    config = cdaq_config(inverted_output=inverted)
    daq = lab(monkeypatch, config)
    plan = BatchPlan(config, seed=3)
    with make_device("nidaq", config) as device:
        assert isinstance(device, NIDevice)
        for i in range(3):
            batch = plan.batch(i)
            out = device.sample(batch)
            np.testing.assert_allclose(out, expected_nA(config, daq, batch.inputs), atol=1e-9)
    # the numbers themselves: electrode weights 0.1(j+1)/7, bias 0.05 V, 39.17 nA/V
    x = plan.batch(0).inputs[0]
    volts = 0.05 + sum(0.1 * (j + 1) / 7 * x[j] for j in range(7))
    assert out.shape == (50, 1)
    first = expected_nA(config, daq, plan.batch(0).inputs)[0, 0]
    assert first == pytest.approx(volts * 39.17 * (-1 if inverted else 1))


def test_cdaq_channels_ranges_timing_and_trigger(monkeypatch):
    config = cdaq_config()
    daq = lab(monkeypatch, config)
    with NIDevice(config) as device:
        device.sample(BatchPlan(config).batch(0))
    ao_calls = daq.calls("create_ao_voltage_chan")[:7]
    ranges = config.voltage_ranges()
    for call, ch, (lo, hi) in zip(ao_calls, [6, 0, 7, 5, 2, 4, 3], ranges):
        _handle, name, virtual, min_val, max_val, units, scale = call.args
        assert name == f"cDAQ1Mod3/ao{ch}" and virtual == "" and scale == ""
        assert (min_val, max_val) == pytest.approx((lo - 0.01, hi + 0.01))
        assert units == VoltageUnits.VOLTS.value
    ai_call = daq.calls("create_ai_voltage_chan")[0]
    assert ai_call.args[1:] == (
        "cDAQ1Mod4/ai0",
        "",
        TerminalConfiguration.DEFAULT.value,
        -4.0,
        4.0,
        VoltageUnits.VOLTS.value,
        "",
    )
    finite = AcquisitionType.FINITE.value
    timing = [c.args[1:] for c in daq.calls("cfg_samp_clk_timing")]
    # 70 ramped points at 1000 Hz; 2 readout points each at 2000 Hz, plus the dropped first
    assert timing == [
        (1000.0, "", Edge.RISING.value, finite, 70),
        (2000.0, "", Edge.RISING.value, finite, 141),
    ]
    trigger = daq.calls("cfg_dig_edge_start_trig")
    assert [c.args[1] for c in trigger] == ["/cDAQ1/ai/StartTrigger"]
    starts = [c.args[0] for c in daq.calls("start_task")]
    assert daq.tasks[starts[0]].ao and daq.tasks[starts[1]].ai  # armed AO, then the trigger


def test_timeouts_are_seconds_from_the_batch_duration(monkeypatch):
    config = cdaq_config()
    data = config.to_bspysmg()
    data["input_data"].update(batch_time=2.0, ramp_time=0.5)  # 3000 points = 3 s
    long = type(config).model_validate(data)
    daq = lab(monkeypatch, long)
    with NIDevice(long, timeout_margin_s=1.5) as device:
        device.sample(BatchPlan(long).batch(0))
    expected = 3.0 * 1.1 + 1.5
    assert daq.read_timeouts == [pytest.approx(expected)]
    assert daq.wait_timeouts == [pytest.approx(expected)]
    assert daq.batch_writes()[0].timeout == pytest.approx(expected)
    assert expected < 3000  # never the points-as-seconds mistake
    assert batch_timeout_s(70, 1000) == pytest.approx(0.077 + 2.0)


def test_tasks_are_reused_for_equal_lengths_and_recreated_when_it_changes(monkeypatch):
    config = cdaq_config()
    daq = lab(monkeypatch, config)
    plan = BatchPlan(config)
    device = NIDevice(config)
    device.open()
    for i in range(4):
        device.sample(plan.batch(i))
    assert len(daq.calls("create_task")) == 2  # one AO and one AI task for every batch
    first = {t.handle for t in daq.open_tasks()}
    assert len(first) == 2

    longer = np.zeros((7, 90))
    longer[:, 10:80] = 0.1
    out = device.sample(ramped_batch(longer, ramp=10))
    assert out.shape == (70, 1)
    assert all(daq.tasks[h].closed for h in first)
    assert len(daq.open_tasks()) == 2 and len(daq.calls("create_task")) == 4
    timing = [c.args[-1] for c in daq.calls("cfg_samp_clk_timing")]
    assert timing[-2:] == [90, 181]
    device.close()
    assert daq.open_tasks() == []


def test_multiple_devices_with_masks(monkeypatch):
    config = multi_config()
    daq = lab(monkeypatch, config)
    plan = BatchPlan(config, seed=1)
    with NIDevice(config) as device:
        batch = plan.batch(0)
        out = device.sample(batch)
    ao = [c.args[1] for c in daq.calls("create_ao_voltage_chan")[:7]]
    assert ao == [
        "cDAQ1Mod3/ao0",
        "cDAQ1Mod3/ao2",
        "cDAQ1Mod3/ao3",
        "cDAQ1Mod1/ao5",
        "cDAQ1Mod1/ao6",
        "cDAQ1Mod1/ao8",
        "cDAQ1Mod1/ao9",
    ]
    limits = [v for c in daq.calls("create_ao_voltage_chan")[:3] for v in c.args[3:5]]
    assert limits == pytest.approx([-1.21, 0.61, -0.71, 0.31, -0.51, 0.51])
    assert [c.args[1] for c in daq.calls("create_ai_voltage_chan")[:2]] == [
        "cDAQ1Mod4/ai0",
        "cDAQ1Mod2/ai1",
    ]
    assert out.shape == (50, 2)
    np.testing.assert_allclose(out, expected_nA(config, daq, batch.inputs), atol=1e-9)
    assert np.all(np.sign(out) == np.sign(expected_nA(config, daq, batch.inputs)))


# --- cdaq_to_nidaq -------------------------------------------------------------------------
@pytest.mark.parametrize("lag", [0, 1, 17, 39])
def test_nidaq_aligns_the_readout_on_the_sync_spike(monkeypatch, lag):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    daq.default_lag = lag
    plan = BatchPlan(config, seed=2)
    with NIDevice(config) as device:
        batch = plan.batch(1)
        out = device.sample(batch)
        assert device.describe()["sync_channels"] == ["cDAQ1Mod3/ao7", "Dev1/ai7"]
    np.testing.assert_allclose(out, expected_nA(config, daq, batch.inputs), atol=1e-9)
    ao = daq.calls("create_ao_voltage_chan")
    assert ao[7].args[1] == "cDAQ1Mod3/ao7" and ao[7].args[3:5] == (-5.0, 5.0)
    ai = daq.calls("create_ai_voltage_chan")
    assert [c.args[1] for c in ai[:2]] == ["Dev1/ai0", "Dev1/ai7"]
    assert ai[1].args[4:6] == (-5.0, 5.0)
    assert daq.calls("cfg_dig_edge_start_trig") == []  # no shared trigger
    frame = daq.batch_writes()[0].data
    lead = int(1000 * 0.04)
    assert frame.shape == (8, lead + 70)
    assert not frame[:7, :lead].any() and np.array_equal(frame[:7, lead:], batch.data)
    assert np.flatnonzero(frame[7]).tolist() == [lead] and frame[7, lead] == 1.0
    timing = [c.args[-1] for c in daq.calls("cfg_samp_clk_timing")]
    assert timing == [lead + 70, 2 * (lead + 70)]


def test_nidaq_missing_spike_then_success_on_retry(monkeypatch, caplog):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    daq.lags = [55, 40, 3]  # spike before the readout started; exactly at its start; fine
    batch = BatchPlan(config).batch(0)
    with caplog.at_level(logging.WARNING), NIDevice(config) as device:
        out = device.sample(batch)
    assert len(daq.batch_writes()) == 3
    np.testing.assert_allclose(out, expected_nA(config, daq, batch.inputs), atol=1e-9)
    assert "attempt 2 of 4" in caplog.text


def test_nidaq_gives_up_after_four_attempts(monkeypatch):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    daq.lags = [40, 41, 60, 100, 3]
    device = NIDevice(config)
    device.open()
    with pytest.raises(
        DeviceError, match="sync spike from cDAQ1Mod3/ao7 never arrived on Dev1/ai7"
    ):
        device.sample(BatchPlan(config).batch(0))
    assert len(daq.batch_writes()) == 4
    assert daq.open_tasks() == []  # the failed batch's tasks are gone
    device.close()
    assert daq.levels and not any(daq.levels.values())  # and every output is at 0 V


def test_nidaq_refuses_sync_channels_used_as_electrodes(monkeypatch):
    lab(monkeypatch, nidaq_config())
    with pytest.raises(DeviceError, match="cDAQ1Mod3/ao7 for the sync spike"):
        NIDevice(nidaq_config(activation_channels=[6, 0, 7, 5, 2, 4, 3]))
    with pytest.raises(DeviceError, match="Dev1/ai7 for the sync spike"):
        NIDevice(nidaq_config(readout_channels=[7]))


def test_sync_edge_rules():
    io = 2
    sync = np.zeros(200)
    assert find_sync_edge(sync, io, 100).edge is None  # no spike at all
    sync[10:12] = 1.0
    assert find_sync_edge(sync, io, 100).edge == 10
    assert find_sync_edge(sync, io, 191).edge is None  # too few samples after it
    assert find_sync_edge(sync, io, 190).edge == 10
    split = sync.copy()
    split[10:13] = [0.45, 1.0, 0.3]  # samples caught while the DAC settled
    assert find_sync_edge(split, io, 100).edge == 10
    early = np.zeros(200)
    early[0:2] = 1.0
    assert find_sync_edge(early, io, 100).edge is None  # the readout may have missed the edge
    wide = np.zeros(200)
    wide[10:20] = 1.0
    assert "10 samples wide" in find_sync_edge(wide, io, 100).reason
    tall = sync.copy()
    tall[10:12] = 4.9
    assert "4.9 V" in find_sync_edge(tall, io, 100).reason
    two = sync.copy()
    two[50:52] = 1.0
    assert "2 pulses" in find_sync_edge(two, io, 100).reason
    noisy = sync.copy()
    noisy[80] = -0.4
    assert "not quiet" in find_sync_edge(noisy, io, 100).reason


# --- zero, close, describe --------------------------------------------------------------------
def test_set_zero_writes_zeros_to_every_ao_channel(monkeypatch):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    with NIDevice(config) as device:
        device.sample(BatchPlan(config).batch(0))
        before = len(daq.zero_writes())
        device.set_zero()
        zero = daq.zero_writes()[before]
        assert zero.channels == device.ao_names and len(zero.channels) == 8
        assert zero.auto_start is True and zero.data.shape == (8,)
        assert daq.levels == dict.fromkeys(device.ao_names, 0.0)
        device.sample(BatchPlan(config).batch(1))  # tasks come back after a zero
    assert daq.open_tasks() == []


def test_close_zeroes_and_clears_every_task_even_after_a_failed_batch(monkeypatch):
    from nidaqmx.error_codes import DAQmxErrors
    from nidaqmx.errors import DaqReadError
    from test_nidaq_fake import daq_error

    config = cdaq_config()
    daq = lab(monkeypatch, config)
    device = NIDevice(config)
    device.open()
    daq.fail("read_analog_f64", daq_error(DAQmxErrors.INPUT_FIFO_OVERFLOW, cls=DaqReadError))
    with pytest.raises(DeviceError):
        device.sample(BatchPlan(config).batch(0))
    assert daq.open_tasks() == []
    device.set_zero()
    assert daq.levels == dict.fromkeys(device.ao_names, 0.0)
    device.close()
    assert daq.open_tasks() == [] and device.is_open is False
    assert all(t.closed for t in daq.tasks.values())


def test_describe_is_plain_json(monkeypatch):
    config = multi_config()
    lab(monkeypatch, config)
    described = NIDevice(config).describe()
    assert json.loads(json.dumps(described)) == described
    assert described["kind"] == "nidaq" and described["driver_version"] == "24.5.0"
    assert described["instrument_type"] == "cdaq_to_cdaq"
    assert described["readout_channels"] == ["cDAQ1Mod4/ai0", "cDAQ1Mod2/ai1"]
    assert described["activation_sampling_frequency"] == 1000
    assert described["readout_sampling_frequency"] == 2000
    assert described["trigger_source"] == "cDAQ1" and described["sync_channels"] is None


# --- safety: nothing unsafe reaches the driver ---------------------------------------------------
def unsafe_batches(config) -> dict[str, RampedBatch]:
    good = BatchPlan(config).batch(0)
    out = {}
    for name, (row, col, value) in {
        "above range": (0, 35, 0.75),  # electrode 0 allows [-1.2, 0.6]
        "below range": (6, 35, -0.9),  # electrode 6 allows [-0.7, 0.3]
        "not starting at 0 V": (2, 0, 0.01),
        "not ending at 0 V": (3, -1, -0.01),
        "NaN": (1, 20, np.nan),
    }.items():
        data = good.data.copy()
        data[row, col] = value
        out[name] = ramped_batch(data, good.ramp_points)
    return out


@pytest.mark.parametrize(
    "case", ["above range", "below range", "not starting at 0 V", "not ending at 0 V", "NaN"]
)
def test_unsafe_batches_never_reach_the_writer(monkeypatch, case):
    config = cdaq_config()
    daq = lab(monkeypatch, config)
    with NIDevice(config) as device:
        batch = unsafe_batches(config)[case]
        with pytest.raises(SafetyError):
            device.sample(batch)
        with pytest.raises(SafetyError):  # bypassing the base class: the writer path refuses too
            device._sample(batch)
        daq.interpreter.write_analog_f64.assert_not_called()
    assert daq.batch_writes() == []


def test_writer_guard_holds_the_global_limit_and_the_sync_row(monkeypatch):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    with NIDevice(config) as device:
        device.write_ranges[0] = (-1.9, 1.9)  # even a corrupted range table stops at 1.6 V
        data = BatchPlan(config).batch(0).data.copy()
        data[0, 30] = 1.7
        with pytest.raises(SafetyError):
            device._sample(ramped_batch(data, config.ramp_points))
        daq.interpreter.write_analog_f64.assert_not_called()


def test_ranges_outside_two_volts_are_refused_before_any_task(monkeypatch):
    data = cdaq_config().to_bspysmg()
    data["driver"]["instruments_setup"]["activation_voltage_ranges"][3] = [-2.5, 0.5]
    config = type(cdaq_config()).model_validate(data)
    daq = lab(monkeypatch, config)
    with pytest.raises(SafetyError, match=r"cDAQ1Mod3/ao5: range \[-2.5, 0.5\] V"):
        NIDevice(config)
    daq.interpreter.create_task.assert_not_called()


def test_sample_needs_an_open_device(monkeypatch):
    config = cdaq_config()
    daq = lab(monkeypatch, config)
    with pytest.raises(DeviceError, match="not open"):
        NIDevice(config).sample(BatchPlan(config).batch(0))
    daq.interpreter.write_analog_f64.assert_not_called()
