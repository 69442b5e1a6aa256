"""Leaving the outputs safe (issue 13, items 3 and 7): every configured AO channel to 0 V,
and a batch cut short ramped down from where it stopped, not stepped."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from fakes.ni_daq import FakeDAQ, install_fake
from fakes.ni_hardware import daq_error
from fakes.ni_lab import cdaq_config, multi_config, nidaq_config, wired_lab
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqReadError

from backend.acquisition.waves import BatchPlan
from backend.devices.nidaq import NIDevice
from backend.errors import DeviceError, DeviceOverflowError, DeviceTimeoutError
from backend.sampling.session import start_session

MASKED = ("cDAQ1Mod3/ao1", "cDAQ1Mod1/ao7")  # switched off by multi_config's masks


def lab(monkeypatch, config) -> FakeDAQ:
    return install_fake(monkeypatch, wired_lab(config))


def overflow() -> DaqReadError:
    return daq_error(DAQmxErrors.INPUT_FIFO_OVERFLOW, cls=DaqReadError)


# --- item 3: masked channels are outputs too ----------------------------------------------
def test_set_zero_covers_masked_channels_with_their_own_limits(monkeypatch):
    config = multi_config()
    daq = lab(monkeypatch, config)
    daq.levels = dict.fromkeys(MASKED, 0.3)  # left there by another program
    with NIDevice(config) as device:
        assert not set(MASKED) & set(device.ao_names)  # never sampled
        device.sample(BatchPlan(config).batch(0))
        device.set_zero()
        zero = daq.zero_writes()[-1]
        assert set(MASKED) <= set(zero.channels) and len(zero.channels) == 9
        assert device.last_zero == zero.channels
    assert all(daq.levels[c] == 0.0 for c in MASKED)
    # the masked channels' driver limits are their own configured ranges +- 10 mV
    limits = {c.args[1]: c.args[3:5] for c in daq.calls("create_ao_voltage_chan")}
    assert limits["cDAQ1Mod3/ao1"] == pytest.approx((-1.01, 1.01))
    assert limits["cDAQ1Mod1/ao7"] == pytest.approx((-1.21, 0.61))


@pytest.mark.parametrize("how", ["complete", "cancelled", "failed", "paused"])
def test_every_configured_output_is_zeroed_however_a_session_ends(monkeypatch, tmp_path, how):
    config = multi_config()
    daq = lab(monkeypatch, config)
    session = start_session(config, "nidaq", path=tmp_path / f"{how}.h5", seed=1)
    if how == "failed":
        daq.fail("read_analog_f64", overflow(), call=2)
    if how == "cancelled":
        session.add_listener(lambda result: session.cancel())
    paused_zero: list[tuple[str, ...]] = []
    if how == "paused":

        def resume_when_paused() -> None:
            while session.state != "paused":
                time.sleep(0.001)
            paused_zero.append(daq.zero_writes()[-1].channels)  # zeroed while paused
            session.resume()

        def pause_once(result) -> None:
            if result.index == 0:
                session.pause()
                threading.Thread(target=resume_when_paused, daemon=True).start()

        session.add_listener(pause_once)
    result = session.run()
    assert result.status == ("complete" if how == "paused" else how)
    assert daq.open_tasks() == []
    assert set(daq.zero_writes()[-1].channels) >= set(MASKED)
    assert set(daq.levels) >= set(MASKED) and not any(daq.levels.values())
    if how == "paused":
        assert paused_zero and set(paused_zero[0]) >= set(MASKED)


def test_nidaq_zero_includes_the_sync_output(monkeypatch):
    config = nidaq_config()
    daq = lab(monkeypatch, config)
    with NIDevice(config) as device:
        device.set_zero()
    assert "cDAQ1Mod3/ao7" in daq.zero_writes()[-1].channels


# --- item 7: an aborted batch is ramped down --------------------------------------------------
def ramp_writes(daq: FakeDAQ, config) -> list:
    return [w for w in daq.batch_writes() if w.data.shape[1] == config.ramp_points]


@pytest.mark.parametrize("make_config", [cdaq_config, nidaq_config])
def test_an_aborted_batch_ramps_down_from_where_it_stopped(monkeypatch, make_config):
    config = make_config()
    daq = lab(monkeypatch, config)
    daq.abort_generated = 45  # the generation got this far before the read failed
    device = NIDevice(config)
    device.open()
    batch = BatchPlan(config, seed=4).batch(0)
    daq.fail("read_analog_f64", overflow())
    with pytest.raises(DeviceOverflowError):
        device.sample(batch)
    frame = daq.batch_writes()[0].data
    stopped = frame[:, 44]
    assert np.abs(stopped).max() > 0.1  # mid-wave: a step to 0 V would be large
    ramps = ramp_writes(daq, config)
    assert len(ramps) == 1 and device.ramps_down == 1
    ramp = ramps[0].data
    np.testing.assert_allclose(ramp[:, 0], stopped)
    assert not ramp[:, -1].any()
    np.testing.assert_allclose(ramp, stopped[:, None] * np.linspace(1, 0, config.ramp_points))
    steps = np.abs(np.diff(np.concatenate([stopped[:, None], ramp], axis=1), axis=1))
    assert steps.max() <= np.abs(stopped).max() / (config.ramp_points - 1) + 1e-12
    ramp_timing = daq.calls("cfg_samp_clk_timing")[-1].args[1:]
    assert ramp_timing[0] == config.fs and ramp_timing[-1] == config.ramp_points
    assert not any(daq.levels.values()) and daq.open_tasks() == []
    # the outputs went level -> ramp -> 0 V: no zero write came before the ramp
    ramp_index = next(i for i, w in enumerate(daq.writes) if w is ramps[0])
    assert not [w for w in daq.writes[:ramp_index] if w.data.ndim == 1]
    device.close()


def test_a_batch_that_never_started_needs_no_ramp(monkeypatch):
    config = cdaq_config()
    daq = lab(monkeypatch, config)
    device = NIDevice(config)
    device.open()
    # the AI start fails: the armed AO never saw its trigger, the outputs never left 0 V
    daq.fail("start_task", daq_error(DAQmxErrors.PAL_RESOURCE_RESERVED), call=2)
    with pytest.raises(DeviceError):
        device.sample(BatchPlan(config).batch(0))
    assert ramp_writes(daq, config) == [] and device.ramps_down == 0
    device.close()
    assert not any(daq.levels.values())


def test_when_the_stop_point_is_unknown_zero_still_follows(monkeypatch, caplog):
    config = cdaq_config()
    daq = lab(monkeypatch, config)
    device = NIDevice(config)
    device.open()
    daq.fail("read_analog_f64", daq_error(DAQmxErrors.SAMPLES_NOT_YET_AVAILABLE, cls=DaqReadError))
    daq.fail("get_write_attribute_uint64", daq_error(DAQmxErrors.DEVICE_REMOVED))
    with pytest.raises(DeviceTimeoutError):
        device.sample(BatchPlan(config).batch(0))
    assert "cannot tell where the outputs stopped" in caplog.text
    assert ramp_writes(daq, config) == []
    device.close()  # the on-demand zero write still brings every output to 0 V
    assert not any(daq.levels.values())


def test_a_session_that_fails_mid_batch_ramps_then_zeroes(monkeypatch, tmp_path):
    config = cdaq_config()
    daq = lab(monkeypatch, config)
    daq.abort_generated = 30
    session = start_session(config, "nidaq", path=tmp_path / "cut.h5", seed=2)
    daq.fail("read_analog_f64", overflow(), call=3)
    result = session.run()
    assert result.status == "failed" and result.batches_done == 2
    kinds = ["ramp" if w.data.ndim == 2 and w.data.shape[1] == 10 else
             "zero" if w.data.ndim == 1 else "batch" for w in daq.writes]  # fmt: skip
    first_zero = kinds.index("zero")
    assert kinds[:first_zero] == ["batch", "batch", "batch", "ramp"]
    assert session.device.ramps_down == 1
    assert not any(daq.levels.values())
