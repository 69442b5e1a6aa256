"""Held levels on NI hardware, through nidaqmx's real Task code over the fake: frames
continue from the level the outputs hold (a finite AO task keeps its last sample), the
channels are told to keep it when idle, and every way out ramps to 0 V."""

from __future__ import annotations

import numpy as np
import pytest
from fakes.ni_daq import FakeDAQ, install_fake
from fakes.ni_hardware import daq_error
from fakes.ni_lab import cdaq_config, expected_nA, nidaq_config, wired_lab
from fakes.ni_outputs import ZERO_VOLTS
from nidaqmx.constants import AOIdleOutputBehavior
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqReadError

from backend.acquisition.safety import MAX_SLEW_V_PER_S
from backend.characterise.panel import DevicePanel
from backend.characterise.panelwave import PanelSettings
from backend.devices.held import HeldOutputs, slewed_ramp
from backend.devices.nidaq import NIDevice
from backend.errors import DeviceError, DeviceOverflowError

STEP = MAX_SLEW_V_PER_S / 1000 + 1e-9
MAINTAIN = AOIdleOutputBehavior.MAINTAIN_EXISTING_VALUE.value
LEVELS = np.array([0.4, -0.6, 0.0, 0.2, 0.0, 0.1, -0.3])


def lab(monkeypatch, config) -> FakeDAQ:
    return install_fake(monkeypatch, wired_lab(config))


def electrodes(config) -> tuple[str, ...]:
    return config.layout().activation_channels


def run_panel(config, frames: list, count: int, slew: float = 10.0, **wave) -> DevicePanel:
    panel = DevicePanel(
        NIDevice(config), PanelSettings(0.05, slew, **wave), frames.append, paced=False
    )
    panel.set_levels(LEVELS)
    panel.run(max_frames=count)
    return panel


@pytest.mark.parametrize("make_config", [cdaq_config, nidaq_config])
def test_the_outputs_hold_their_level_between_frames_and_read_right(monkeypatch, make_config):
    config = make_config()
    daq = lab(monkeypatch, config)
    frames: list = []
    run_panel(config, frames, 10)
    for frame in frames:  # every point of every frame read back, aligned
        np.testing.assert_allclose(frame.outputs, expected_nA(config, daq, frame.inputs), atol=1e-9)
    for name, level in zip(electrodes(config), LEVELS):
        seen = daq.scope_of(name)
        reached = int(np.argmax(seen == level)) if level else 0
        end = len(seen) - 1 - int(np.argmax(seen[::-1] != 0.0)) if level else 0
        # from the moment the level is reached until the ramp at the end: that level only,
        # through the gaps between frames too (no return to 0 V)
        later = seen[reached : end - 100]
        assert (later == level).all(), name
    lead = 40 if config.driver.instrument_type == "cdaq_to_nidaq" else 0
    frame_tasks = [c for c in daq.calls("cfg_samp_clk_timing") if c.args[-1] == 50 + lead]
    assert len(frame_tasks) == 1  # one AO task (and its AI pair) for all ten frames
    assert daq.largest_step(electrodes(config)) <= STEP
    assert not any(daq.levels.values()) and daq.open_tasks() == []


def test_every_timed_ao_channel_is_told_to_keep_its_last_value(monkeypatch):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    for device in daq.devices.values():
        device.ao_idle = ZERO_VOLTS  # a module whose default would drop to 0 V between frames
    frames: list = []
    run_panel(config, frames, 6)
    timed = [t for t in daq.tasks.values() if t.ao and t.samples is not None]
    assert timed and all(t.idle == dict.fromkeys(t.ao, MAINTAIN) for t in timed)
    assert "cDAQ1Mod3/ao7" in timed[0].idle  # the sync output as well
    for name, level in zip(electrodes(config), LEVELS):
        if level:
            seen = daq.scope_of(name)
            assert (seen[int(np.argmax(seen == level)) : -200] == level).all()
    assert daq.largest_step(electrodes(config)) <= STEP


def test_modules_without_the_idle_setting_work_and_hold(monkeypatch, caplog):
    config = cdaq_config()
    daq = lab(monkeypatch, config)
    for device in daq.devices.values():
        device.ao_idle = None
    frames: list = []
    run_panel(config, frames, 6)
    assert daq.calls("set_chan_attribute_int32")  # asked, refused, carried on
    assert all(not t.idle for t in daq.tasks.values())
    assert daq.largest_step(electrodes(config)) <= STEP and not any(daq.levels.values())


@pytest.mark.parametrize("make_config", [cdaq_config, nidaq_config])
def test_a_held_frame_cut_short_ramps_down_from_where_it_stopped(monkeypatch, make_config):
    config = make_config()
    daq = lab(monkeypatch, config)
    lead = 40 if config.driver.instrument_type == "cdaq_to_nidaq" else 0
    daq.abort_generated = lead + 25
    daq.fail("read_analog_f64", daq_error(DAQmxErrors.INPUT_FIFO_OVERFLOW, cls=DaqReadError),
             call=4)  # fmt: skip
    frames: list = []
    with pytest.raises(DeviceOverflowError):
        run_panel(config, frames, 10, 5.0, wave_amplitude_v=0.05, wave_frequency_hz=5.0)
    assert len(frames) == 3
    cut = daq.batch_writes()[3].data  # the fourth frame, stopped after lead + 25 samples
    stopped = cut[: len(LEVELS), lead + 24]
    assert np.abs(stopped).max() > 0.2
    ramp = daq.batch_writes()[4].data[: len(LEVELS)]
    assert np.abs(ramp[:, 0] - stopped).max() <= STEP and not ramp[:, -1].any()
    assert ramp.shape[1] >= config.ramp_points  # never more abrupt than sampling's ramps
    zero = next(i for i, w in enumerate(daq.writes) if w.data.ndim == 1)
    assert zero > daq.writes.index(daq.batch_writes()[4])  # ramp first, then the 0 V write
    assert daq.largest_step(electrodes(config)) <= STEP
    assert not any(daq.levels.values()) and daq.open_tasks() == []


def test_a_missed_sync_spike_ramps_back_and_runs_the_frame_again(monkeypatch):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    daq.lags = [2.0, 2.0, 40.5, 2.0]  # the third frame's first readout starts after its spike
    device = NIDevice(config)
    with device, HeldOutputs(device) as held:
        levels = np.zeros(7)
        outputs = []
        for k in range(3):
            ramp = slewed_ramp(levels, LEVELS * (k + 1) / 3, 10.0, 1000.0, 50)
            outputs.append((ramp, held.frame(ramp)))
            levels = ramp[:, -1]
        assert device.sync_stats.rejected == 1 and device.sync_stats.batches == 3
    ramp, out = outputs[2]
    np.testing.assert_allclose(out, expected_nA(config, daq, ramp.T), atol=1e-9)
    writes = [w.data for w in daq.batch_writes()]
    back = writes[3][:7]  # AO only: from the end of the missed try back to where it started
    np.testing.assert_allclose(back[:, 0], ramp[:, -1], atol=STEP)
    np.testing.assert_array_equal(back[:, -1], outputs[1][0][:, -1])
    np.testing.assert_array_equal(writes[4][:7, 40:], ramp)  # then the same frame again
    assert daq.largest_step(electrodes(config)) <= STEP
    assert not any(daq.levels.values()) and daq.open_tasks() == []


def test_a_ramp_back_that_cannot_start_ramps_down_from_where_the_outputs_really_are(monkeypatch):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    daq.lags = [2.0, 40.5]  # the second frame's spike is missed
    # starts: frame 1 AO, AI; frame 2 AO, AI; then the ramp back's AO start fails
    daq.fail("start_task", daq_error(DAQmxErrors.PAL_RESOURCE_RESERVED), call=5)
    device = NIDevice(config)
    with device, HeldOutputs(device) as held:
        first = slewed_ramp(np.zeros(7), LEVELS / 2, 10.0, 1000.0, 50)
        held.frame(first)
        second = slewed_ramp(first[:, -1], LEVELS, 10.0, 1000.0, 50)
        with pytest.raises(DeviceError):
            held.frame(second)
        assert not held.level.any()  # ramped down at once, from the second frame's end
    ramp = daq.batch_writes()[-1].data[:7]
    np.testing.assert_allclose(ramp[:, 0], LEVELS, atol=STEP)
    assert daq.largest_step(electrodes(config)) <= STEP
    assert not any(daq.levels.values()) and daq.open_tasks() == []
