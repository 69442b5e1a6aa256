"""Input waves: the peer's IO.dat inputs reproduced, ramps, phase schedule."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BSPYSMG_FIXTURES, small_config
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from backend.acquisition.waves import BatchPlan, PhaseSchedule, ramped, triangle, wave_time, waves
from backend.config import load_config


def _iodat_inputs(folder) -> np.ndarray:
    return np.loadtxt(folder / "IO.dat")[:, :7]


def test_fixture_inputs_are_reproduced(bspysmg_folder):
    cfg = load_config(bspysmg_folder / "sampler_configs.json")
    ours = BatchPlan(cfg, seed=0).all_inputs()
    theirs = _iodat_inputs(bspysmg_folder)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    if cfg.input_data.input_distribution == "sine":
        # The sine arithmetic is the peer's own, operation for operation: bit for bit.
        assert np.array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-14)


def test_ranges_alone_give_the_same_waves_as_explicit_amplitude(bspysmg_folder):
    cfg = load_config(bspysmg_folder / "sampler_configs.json")
    data = cfg.to_bspysmg()
    del data["input_data"]["amplitude"], data["input_data"]["offset"]
    from backend.config import parse_config

    from_ranges = BatchPlan(parse_config(data)).all_inputs()
    np.testing.assert_allclose(from_ranges, _iodat_inputs(bspysmg_folder), atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_triangle_matches_scipy(values):
    rads = np.asarray(values)
    tolerance = 8 * np.finfo(float).eps * np.maximum(1.0, np.abs(rads))
    assert np.all(np.abs(triangle(rads) - signal.sawtooth(rads, width=0.5)) <= tolerance)


def test_triangle_at_its_corners():
    corners = np.array([0.0, np.pi / 2, np.pi, 1.5 * np.pi, 2 * np.pi, -np.pi, 1e5 * np.pi])
    np.testing.assert_allclose(triangle(corners), signal.sawtooth(corners, width=0.5), atol=1e-10)


def test_a_long_session_keeps_the_sawtooth_within_a_nanovolt():
    """Wave time reaches hours: the error grows with |rads| but stays far below 1e-9 V."""
    cfg = load_config(BSPYSMG_FIXTURES / "small_sawtooth" / "sampler_configs.json")
    plan = BatchPlan(cfg)
    last = 3880 * 1000  # batch index of ~2 days at 50 rows per batch and 1 kHz
    t = wave_time(last, plan.batch_points, plan.fs)
    ours = waves(
        "sawtooth", t, plan.frequency, plan.schedule.phases(0), plan.amplitude, plan.offset
    )
    rads = 2 * np.pi * plan.frequency[:, None] * t + np.asarray(cfg.input_data.phase)[:, None]
    peer = plan.amplitude[:, None] * signal.sawtooth(rads + np.pi / 2, width=0.5)
    peer += plan.offset[:, None]
    np.testing.assert_allclose(ours, peer, rtol=0, atol=1e-9)


def test_time_is_continuous_across_batches():
    t = np.concatenate([wave_time(i, 50, 1000) for i in range(4)])
    assert np.array_equal(t, np.arange(200) / 1000)


def test_ramps_start_and_end_at_zero_and_join_the_batch():
    x = np.array([[0.5, 0.2, -0.3], [-1.0, 0.0, 0.4]])
    r = ramped(x, 5)
    assert r.shape == (2, 13)
    assert np.all(r[:, 0] == 0) and np.all(r[:, -1] == 0)
    np.testing.assert_array_equal(r[:, 4], x[:, 0])
    np.testing.assert_array_equal(r[:, 5:8], x)
    np.testing.assert_array_equal(r[:, 8], x[:, -1])
    # Each ramp is a straight line, as the peer's linspace.
    np.testing.assert_allclose(r[1, :5], np.linspace(0, -1.0, 5), rtol=0, atol=1e-15)
    np.testing.assert_allclose(r[0, 8:], np.linspace(-0.3, 0.0, 5), rtol=0, atol=1e-15)


def test_batch_carries_its_inputs_phases_and_time():
    plan = BatchPlan(small_config(), seed=1)
    b = plan.batch(3)
    assert b.data.shape == (7, 50 + 2 * 10)
    assert b.inputs.shape == (50, 7)
    np.testing.assert_array_equal(b.inputs, plan.inputs(3).T)
    assert b.t0 == pytest.approx(3 * 50 / 1000)
    with pytest.raises(IndexError):
        plan.batch(6)


def test_sine_and_sawtooth_stay_in_their_ranges():
    for shape in ("sine", "sawtooth"):
        cfg = small_config(input_distribution=shape, number_batches=20)
        x = BatchPlan(cfg).all_inputs()
        lo, hi = cfg.voltage_ranges().T
        assert np.all(x >= lo - 1e-12) and np.all(x <= hi + 1e-12)


def test_unknown_wave_shape():
    with pytest.raises(ValueError, match="unknown wave shape"):
        waves("square", np.arange(3.0), np.ones(1), np.zeros(1), np.ones(1), np.zeros(1))


def test_phase_schedule_epochs_and_reproducibility():
    base = (0.1, 0.2, 0.3)
    sched = PhaseSchedule(base, each=4, seed=11)
    assert np.array_equal(sched.phases(0), base) and np.array_equal(sched.phases(3), base)
    p4, p7, p8 = sched.phases(4), sched.phases(7), sched.phases(8)
    assert np.array_equal(p4, p7) and not np.array_equal(p4, p8)
    assert not np.array_equal(p4, base)
    assert np.all((p4 > -2 * np.pi) & (p4 < 2 * np.pi))
    # Same seed -> same phases, regardless of the order batches are asked for.
    again = PhaseSchedule(base, each=4, seed=11)
    assert np.array_equal(again.phases(8), p8)
    assert not np.array_equal(PhaseSchedule(base, each=4, seed=12).phases(8), p8)


def test_zero_means_never_rerandomise():
    sched = PhaseSchedule((0.5,), each=0, seed=3)
    assert all(sched.phases(i)[0] == 0.5 for i in range(0, 1000, 97))


def test_any_batch_regenerates_from_its_stored_phases():
    plan = BatchPlan(small_config(random_phase_shift_each=2), seed=5)
    b = plan.batch(5)
    np.testing.assert_array_equal(plan.inputs(5, phases=b.phases).T, b.inputs)
