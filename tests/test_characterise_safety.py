"""No sweep or panel setting can put a sample outside a range; 0 V on every way out."""

from __future__ import annotations

import numpy as np
import pytest
from chartools import SpyDevice, faulty
from conftest import small_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.acquisition.safety import MAX_SLEW_V_PER_S, RANGE_TOLERANCE, check_batch, check_held
from backend.characterise.iv import measure_iv, sweep_batches
from backend.characterise.ivconfig import SweepSettings
from backend.characterise.panel import DevicePanel
from backend.characterise.panelwave import PanelSettings, PanelSignal
from backend.config import SamplingConfig
from backend.errors import Cancelled, SamplelabError
from backend.jobs import CancelToken

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ranges(draw, n: int = 7) -> np.ndarray:
    """Electrode ranges as configs allow them: containing 0 V, inside +-1.6 V."""
    lo = draw(st.lists(st.floats(-1.6, 0.0), min_size=n, max_size=n))
    hi = draw(st.lists(st.floats(0.0, 1.6), min_size=n, max_size=n))
    out = np.array([lo, hi], dtype=float).T
    narrow = out[:, 1] - out[:, 0] < 0.01
    out[narrow, 1] = out[narrow, 0] + 0.01  # a real electrode spans at least 10 mV
    return out


def config_with(r: np.ndarray) -> SamplingConfig:
    data = small_config().to_bspysmg()
    data["driver"]["instruments_setup"]["activation_voltage_ranges"] = r.tolist()
    config = SamplingConfig.model_validate(data)
    assert config.problems() == []
    return config


@BOUNDED
@given(
    r=ranges(),
    points=st.integers(2, 400).map(lambda p: 2 * p),
    up=st.booleans(),
    shape=st.sampled_from(["sawtooth", "sine"]),
)
def test_every_sweep_batch_stays_in_range_and_starts_and_ends_at_zero(r, points, up, shape):
    device = SpyDevice(config_with(r))
    for k, data in enumerate(sweep_batches(device, SweepSettings(points, up, shape))):
        check_batch(data, device.ranges)  # raises if any sample leaves its range
        assert abs(len(data[k]) - points) <= 2
        assert np.flatnonzero(data.any(axis=1)).tolist() in ([k], [])


settings_strategy = st.builds(
    PanelSettings,
    frame_s=st.just(0.02),
    slew_v_per_s=st.floats(0.01, 10),
    wave_amplitude_v=st.one_of(st.just(0.0), st.floats(0, 2)),
    wave_frequency_hz=st.floats(0.1, 100),
).filter(lambda s: not s.problems(1000.0))


@BOUNDED
@given(
    r=ranges(),
    steps=st.lists(
        st.tuples(
            st.lists(st.floats(-5, 5, allow_nan=False), min_size=7, max_size=7),
            settings_strategy,
            st.integers(2, 120),
            st.booleans(),  # the outputs were ramped to 0 V before this frame (a pause)
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_no_sequence_of_panel_settings_leaves_a_range_or_the_slew_bound(r, steps):
    signal = PanelSignal(r, 1000.0, MAX_SLEW_V_PER_S)
    held = np.zeros(7)  # what the outputs hold: where each frame must start from
    waves = False
    for targets, wanted, points, paused in steps:
        if paused:
            signal.reset()
            held = np.zeros(7)
        waves |= wanted.wave_amplitude_v > 0
        data = signal.next(np.array(targets), wanted, points)
        assert (data >= r[:, :1] - RANGE_TOLERANCE).all() and (
            data <= r[:, 1:] + RANGE_TOLERANCE
        ).all()
        moves = np.abs(np.diff(np.concatenate([held[:, None], data], axis=1), axis=1))
        assert moves.max() <= MAX_SLEW_V_PER_S / 1000 + RANGE_TOLERANCE
        if not waves:  # plain levels never move faster than the slew rate asked for
            assert moves.max() <= wanted.slew_v_per_s / 1000 * (1 + 1e-9) + 1e-12
        held = data[:, -1]
        np.testing.assert_array_equal(held, signal.output)


def test_the_panel_frames_reach_the_device_checked_and_held():
    config = small_config()
    device = SpyDevice(config)
    panel = DevicePanel(device, PanelSettings(0.05, 2.0, 0.2, 5.0), paced=False)
    panel.set_levels(np.array([9, -9, 0.3, -0.3, 0, 0.6, -0.7]))
    levels = []
    panel.on_frame = lambda f: levels.append(f.levels)
    panel.run(max_frames=20)
    ranges = config.voltage_ranges()
    start = np.zeros(7)
    for data in device.sent:
        check_held(data, ranges, start, MAX_SLEW_V_PER_S, 1000.0)
        assert data.shape == (7, 50)
        start = data[:, -1]
    np.testing.assert_allclose(levels[-1], [0.6, -1.2, 0.3, -0.3, 0, 0.3, -0.7])
    assert device.at_zero()


@pytest.mark.parametrize("fault", ["timeout@0", "overflow@3", "disconnect@5"])
def test_device_faults_end_at_zero_in_every_job(fault):
    config = small_config()
    device = faulty(config, fault)
    with pytest.raises(SamplelabError):
        measure_iv(device, SweepSettings(40))
    assert device.at_zero()
    device = faulty(config, fault)
    panel = DevicePanel(device, PanelSettings(0.05, 1.0), paced=False)
    panel.set_level(0, -1.0)
    with pytest.raises(SamplelabError):
        panel.run()
    assert device.at_zero() and device.largest_step().max() <= MAX_SLEW_V_PER_S / 1000 + 1e-9


def test_cancel_ends_at_zero_in_every_job():
    config = small_config()
    token = CancelToken()
    device = SpyDevice(config)
    with pytest.raises(Cancelled):
        measure_iv(device, SweepSettings(40), progress=lambda p: p.done == 3 and token.cancel(),
                   cancel=token)  # fmt: skip
    assert len(device.sent) == 3 and device.at_zero()
    token = CancelToken()
    device = SpyDevice(config)
    panel = DevicePanel(
        device, PanelSettings(0.05), lambda f: f.index == 4 and token.cancel(), paced=False
    )
    panel.set_level(1, 0.5)
    with pytest.raises(Cancelled):
        panel.run(cancel=token)
    assert panel.summary.frames == 5 and device.at_zero()


def test_a_bug_in_a_listener_never_stops_the_panel_but_a_keyboard_interrupt_zeroes():
    config = small_config()
    device = SpyDevice(config)

    def broken(frame):
        if frame.index == 2:
            raise KeyboardInterrupt
        raise ValueError("a broken view")

    panel = DevicePanel(device, PanelSettings(0.05), on_frame=broken, paced=False)
    with pytest.raises(KeyboardInterrupt):
        panel.run()
    assert panel.summary.frames == 2 and device.at_zero()


def test_bad_panel_settings_are_refused():
    device = SpyDevice(small_config())
    for bad in (
        PanelSettings(frame_s=0.0005),
        PanelSettings(slew_v_per_s=50),
        PanelSettings(slew_v_per_s=0),
        PanelSettings(wave_amplitude_v=-1),
        PanelSettings(wave_frequency_hz=400),
        PanelSettings(slew_v_per_s=5.0, wave_amplitude_v=0.5, wave_frequency_hz=2.0),
    ):
        with pytest.raises(SamplelabError):
            DevicePanel(device, bad)
    panel = DevicePanel(device)
    with pytest.raises(SamplelabError, match="not a number"):
        panel.set_level(0, float("nan"))
