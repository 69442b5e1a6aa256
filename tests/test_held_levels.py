"""Held levels: each layer refuses a frame that jumps or leaves a range on its own, and no
panel action sequence (levels, waves, slew rates, pauses, cancels, faults, Ctrl+C at any
point) puts a sample outside a range, a step above the slew bound, or leaves the outputs
anywhere but at 0 V; on the simulated device and through nidaqmx's real Task code."""

from __future__ import annotations

import contextlib
import threading
import time
from unittest import mock

import numpy as np
import pytest
from chartools import SpyDevice, faulty
from conftest import small_config
from fakes.ni_daq import install_fake
from fakes.ni_hardware import daq_error
from fakes.ni_lab import cdaq_config, nidaq_config, wired_lab
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqReadError

from backend.acquisition.safety import MAX_SLEW_V_PER_S, RANGE_TOLERANCE, check_held
from backend.acquisition.waves import BatchPlan
from backend.characterise.panel import DevicePanel
from backend.characterise.panelwave import PanelSettings
from backend.config import SamplingConfig
from backend.devices.held import HeldFrame, HeldOutputs, slewed_ramp
from backend.devices.ni_tasks import HeldStart, write_checked
from backend.devices.nidaq import NIDevice
from backend.errors import Cancelled, DeviceError, SafetyError
from backend.jobs import CancelToken

FS = 1000.0
STEP = MAX_SLEW_V_PER_S / FS + 1e-9  # the largest step a held session allows (V)
BOUNDED = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# --- every layer refuses on its own ------------------------------------------------------------
def test_check_held_counts_the_step_from_the_held_level():
    ranges = np.array([[-1.0, 1.0]] * 2)
    data = np.array([[0.5, 0.505], [0.0, 0.0]])
    check_held(data, ranges, np.array([0.495, 0.0]), 10.0, FS)
    with pytest.raises(SafetyError, match="from the level it holds"):
        check_held(data, ranges, np.array([0.0, 0.0]), 10.0, FS)
    with pytest.raises(SafetyError, match=r"between two samples .* more than the 1 V/s"):
        check_held(data, ranges, np.array([0.499, 0.0]), 1.0, FS)
    with pytest.raises(SafetyError, match="not known"):
        check_held(data, ranges, np.array([np.nan, 0.0]), 10.0, FS)
    with pytest.raises(SafetyError, match="slew bound"):
        check_held(data, ranges, np.array([0.5, 0.0]), 50.0, FS)
    with pytest.raises(SafetyError, match="outside"):
        check_held(data + 0.6, ranges, np.array([1.1, 0.6]), 10.0, FS)


def test_session_and_device_each_refuse_a_jump_and_nothing_is_sent():
    device = SpyDevice(small_config())
    jump = np.zeros((7, 20))
    jump[0] = 0.3
    with device, HeldOutputs(device, 5.0) as held:
        with pytest.raises(SafetyError, match="from the level it holds"):
            held.frame(jump)
        with pytest.raises(SafetyError, match="from the level it holds"):
            device.sample_held(HeldFrame(0, jump))  # the device's own check, session bypassed
        with pytest.raises(SafetyError, match="from the level it holds"):
            device.move_held(jump)
        ramp = slewed_ramp(np.zeros(7), np.full(7, 0.1), 5.0, FS)
        held.frame(ramp)  # 20 points at 5 V/s: allowed
        with pytest.raises(SafetyError, match="outside"):
            held.frame(ramp + 0.25)  # [-0.7, 0.3] V electrodes: out of range
        with pytest.raises(SafetyError, match="hold a level"):
            device.sample(BatchPlan(device.config).batch(0))  # a batch would step from 0.1 V
    assert len(device.sent) == 1 and np.array_equal(device.sent[0], ramp)
    assert device.at_zero()
    assert device.largest_step().max() <= 5.0 / FS + 1e-12  # ramped down at the bound


def test_held_sessions_start_at_zero_and_need_one():
    device = SpyDevice(small_config())
    with device:
        with pytest.raises(SafetyError, match="outside a held session"):
            device.sample_held(HeldFrame(0, np.zeros((7, 4))))
        with pytest.raises(Exception, match="slew rate"):
            HeldOutputs(device, 20.0)


def test_the_ni_writer_refuses_a_held_jump_before_the_driver_sees_it():
    writer = mock.Mock()
    ranges = np.array([[-1.0, 1.0], [-1.0, 1.0], [0.0, 1.0]])  # two electrodes + sync
    names = ("ao0", "ao1", "ao7")
    rule = HeldStart(np.array([0.2, 0.0]), 10.0, FS)
    good = np.array([[0.205, 0.21], [0.0, 0.0], [0.0, 0.0]])
    write_checked(writer, good, ranges, names, 1.0, held=rule)
    assert writer.write_many_sample.call_count == 1
    for bad, why in (
        (np.array([[0.005, 0.01], [0.0, 0.0], [0.0, 0.0]]), "from the level it holds"),
        (np.array([[0.205, 0.3], [0.0, 0.0], [0.0, 0.0]]), "between two samples"),
        (np.array([[0.205, 0.21], [0.0, 0.0], [0.0, 1.0]]), "sync output"),
    ):
        with pytest.raises(SafetyError, match=why):
            write_checked(writer, bad, ranges, names, 1.0, held=rule)
    assert writer.write_many_sample.call_count == 1


# --- any panel action sequence, any ending ---------------------------------------------------
@st.composite
def ranges(draw, n: int = 7) -> np.ndarray:
    lo = draw(st.lists(st.floats(-1.6, -0.01), min_size=n, max_size=n))
    hi = draw(st.lists(st.floats(0.01, 1.6), min_size=n, max_size=n))
    return np.array([lo, hi], dtype=float).T


def with_ranges(config: SamplingConfig, r: np.ndarray) -> SamplingConfig:
    data = config.to_bspysmg()
    data["driver"]["instruments_setup"]["activation_voltage_ranges"] = r.tolist()
    out = SamplingConfig.model_validate(data)
    assert out.problems() == []
    return out


panel_settings = st.builds(
    PanelSettings,
    frame_s=st.just(0.02),
    slew_v_per_s=st.floats(0.05, 10),
    wave_amplitude_v=st.one_of(st.just(0.0), st.floats(0, 0.5)),
    wave_frequency_hz=st.floats(0.5, 50),
).filter(lambda s: not s.problems(FS))
actions = st.lists(
    st.one_of(
        st.tuples(st.just("level"), st.integers(0, 6), st.floats(-3, 3)),
        st.tuples(st.just("settings"), panel_settings),
        st.tuples(st.just("pause")),
        st.tuples(st.just("zero")),
    ),
    max_size=10,
)
endings = st.sampled_from(["frames", "cancel", "interrupt", "fault"])


def drive(panel: DevicePanel, device, first, todo, ending: str, end_at: int) -> None:
    """Run the panel on this thread, one action per frame, ended as `ending` says."""
    queue = list(todo)
    token = CancelToken()

    def resume_when_zeroed() -> None:
        end = time.monotonic() + 10
        while not device.last_zero and time.monotonic() < end:
            time.sleep(0.001)
        panel.resume()

    def on_frame(frame) -> None:
        if frame.index >= end_at:
            if ending == "cancel":
                token.cancel()
            elif ending == "interrupt":
                raise KeyboardInterrupt
        if not queue:
            return
        kind, *args = queue.pop(0)
        if kind == "level":
            panel.set_level(*args)
        elif kind == "settings":
            panel.set_settings(args[0])
        elif kind == "zero":
            panel.zero_levels()
        else:
            panel.pause()
            threading.Thread(target=resume_when_zeroed, daemon=True).start()

    panel.on_frame = on_frame
    panel.set_settings(first)
    panel.set_levels(np.full(7, 5.0))
    limit = end_at + 1 if ending == "frames" else 40
    with contextlib.suppress(Cancelled, KeyboardInterrupt, DeviceError):
        panel.run(cancel=token, max_frames=limit)


@BOUNDED
@given(
    r=ranges(),
    first=panel_settings,
    todo=actions,
    ending=endings,
    end_at=st.integers(0, 12),
)
def test_no_panel_sequence_breaks_a_rule_on_the_simulated_device(r, first, todo, ending, end_at):
    config = with_ranges(small_config(), r)
    device = faulty(config, f"timeout@{end_at}") if ending == "fault" else SpyDevice(config)
    drive(DevicePanel(device, paced=False), device, first, todo, ending, end_at)
    scope = device.scope()
    assert (scope >= r[:, :1] - RANGE_TOLERANCE).all() and (
        scope <= r[:, 1:] + RANGE_TOLERANCE
    ).all()
    assert device.largest_step().max() <= STEP
    assert device.at_zero() and device.held_slew is None


@pytest.mark.parametrize("make_config", [cdaq_config, nidaq_config])
@BOUNDED
@given(
    r=ranges(),
    first=panel_settings,
    todo=actions,
    ending=endings,
    end_at=st.integers(0, 12),
    stop=st.integers(1, 19),
)
def test_no_panel_sequence_breaks_a_rule_on_ni_hardware(
    monkeypatch, make_config, r, first, todo, ending, end_at, stop
):
    config = with_ranges(make_config(), r)
    daq = install_fake(monkeypatch, wired_lab(config))
    daq.abort_generated = stop + (40 if config.driver.instrument_type == "cdaq_to_nidaq" else 0)
    if ending == "fault":
        overflow = daq_error(DAQmxErrors.INPUT_FIFO_OVERFLOW, cls=DaqReadError)
        daq.fail("read_analog_f64", overflow, call=end_at + 1)  # frame end_at's read
    device = NIDevice(config)
    drive(DevicePanel(device, paced=False), device, first, todo, ending, end_at)
    electrodes = config.layout().activation_channels
    for name, (lo, hi) in zip(electrodes, r):
        seen = daq.scope_of(name)
        assert seen.min() >= lo - RANGE_TOLERANCE and seen.max() <= hi + RANGE_TOLERANCE
    assert daq.largest_step(electrodes) <= STEP
    assert not any(daq.levels.values()) and daq.open_tasks() == []
