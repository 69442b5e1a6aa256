"""cdaq_to_nidaq synchronisation on a fake with unlocked clocks (issue 13, items 1 and 9).

The AO (cDAQ) and AI (PCIe card) clocks of the fake are not phase-locked: every
readout starts a whole number of activation points plus a fractional phase
late, both clocks are off by some ppm, and every channel has a voltage offset.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from fakes.ni_daq import FakeDAQ, install_fake
from fakes.ni_lab import expected_nA, nidaq_config, wired_lab

from backend.acquisition.waves import BatchPlan
from backend.devices.ni_sync import SYNC_THRESHOLD_V, averaged
from backend.devices.nidaq import NIDevice
from backend.errors import DeviceError
from backend.recording.reader import Recording
from backend.sampling.session import start_session

#: Fractional phases of the readout start, in activation periods: 0 and just below 1.
PHASES = [0.0, 0.05, 0.125, 0.2, 0.25, 0.33, 0.375, 0.5, 0.6, 0.625, 0.75, 0.875, 0.9, 0.999]
#: (AO offset, AI offset) in mV, applied to every channel, the sync pair included.
OFFSETS_MV = [(-2, -2), (-2, 2), (-1, -1), (-1, 0), (0, 0), (1, -2), (2, -2), (2, 2)]


def unlocked_lab(monkeypatch, config, ao_mv: float, ai_mv: float) -> FakeDAQ:
    """The wired lab with offsets on every channel and the two clocks 45 ppm apart.

    The card gets a 120 MHz timebase: a real PCIe-6363 (100 MHz) cannot make 3x any
    integer rate exactly, and a session asking for it is refused (test_nidaq_rates).
    """
    daq = wired_lab(config)
    daq.devices["Dev1"].timebase_hz = 120e6
    plan_ao = [*config.layout().activation_channels, "cDAQ1Mod3/ao7"]
    plan_ai = [*config.layout().readout_channels, "Dev1/ai7"]
    daq.ao_offsets = dict.fromkeys(plan_ao, ao_mv * 1e-3)
    daq.ai_offsets = dict.fromkeys(plan_ai, ai_mv * 1e-3)
    daq.clock_ppm = {"cDAQ1": 25.0, "Dev1": -20.0}
    return install_fake(monkeypatch, daq)


def within_one_raw_sample(out: np.ndarray, want: np.ndarray, io: int) -> None:
    """At most one raw sample of a neighbouring point in any group, never a whole shift."""
    step = np.abs(np.diff(want, axis=0)).max()
    err = np.abs(out - want).max()
    assert err <= step / io + 1e-9, (err, step, io)
    shifted = min(np.abs(out[1:] - want[:-1]).max(), np.abs(out[:-1] - want[1:]).max())
    assert shifted > err


@pytest.mark.parametrize("io", [1, 2, 3, 4])
@pytest.mark.parametrize(("ao_mv", "ai_mv"), OFFSETS_MV)
def test_no_sync_spike_is_rejected_over_offsets_phases_and_ratios(monkeypatch, io, ao_mv, ai_mv):
    config = nidaq_config(readout_sampling_frequency=1000 * io)
    daq = unlocked_lab(monkeypatch, config, ao_mv, ai_mv)
    whole = itertools.cycle([1, 6, 17, 30])  # software start latency, activation points
    daq.lags = [next(whole) + phase for phase in PHASES]
    plan = BatchPlan(config, seed=5)
    with NIDevice(config) as device:
        for i in range(len(PHASES)):
            batch = plan.batch(i % len(plan))
            out = device.sample(batch)
            within_one_raw_sample(out, expected_nA(config, daq, batch.inputs), io)
    assert device.sync_stats.rejected == 0
    assert device.sync_stats.batches == len(PHASES)
    assert len(daq.batch_writes()) == len(PHASES)  # not one batch run twice


def test_the_fake_reproduces_the_split_spike_that_averaging_first_rejected(monkeypatch):
    """The old rule (average, then >= 0.5 V) on the same raw readouts rejects about half."""
    config = nidaq_config(readout_sampling_frequency=2000)
    daq = unlocked_lab(monkeypatch, config, -1.0, 0.0)
    phases = np.linspace(0, 1, 40, endpoint=False)
    daq.lags = [3 + p for p in phases]
    plan = BatchPlan(config, seed=1)
    old_rule_rejects = 0
    with NIDevice(config) as device:
        for i in range(len(phases)):
            device.sample(plan.batch(i % len(plan)))
            ai = next(t for t in reversed(daq.tasks.values()) if t.ai)
            sync = averaged(ai.acquired[-1:], 2)[0]
            old_rule_rejects += bool(sync.max() < SYNC_THRESHOLD_V)
    assert device.sync_stats.rejected == 0
    assert 0.3 * len(phases) <= old_rule_rejects <= 0.7 * len(phases)


def test_nimax_simulated_card_never_passes_for_the_spike(monkeypatch, caplog):
    """Item 9: a full-scale sine (NI MAX simulation) on ai7 is never taken as the spike."""
    config = nidaq_config()
    daq = wired_lab(config)
    for period in (7.0, 60.0, 400.0, 5000.0):
        daq.nimax_sine = {"Dev1/ai0": period, "Dev1/ai7": period}
        install_fake(monkeypatch, daq)
        device = NIDevice(config)
        device.open()
        with pytest.raises(DeviceError, match="never arrived on Dev1/ai7 in 4 attempts"):
            device.sample(BatchPlan(config).batch(0))
        assert device.sync_stats.rejected == 4 and device.sync_stats.batches == 0
        device.close()
    assert daq.open_tasks() == []
    assert "no usable sync spike" in caplog.text


@pytest.mark.parametrize("io", [2, 4])
def test_a_late_readout_is_retried_and_then_aligned(monkeypatch, io):
    config = nidaq_config(readout_sampling_frequency=1000 * io)
    daq = unlocked_lab(monkeypatch, config, 1.0, -1.0)
    lead = 40
    daq.lags = [lead + 0.5, lead + 3.25, 12.75]  # after the spike twice, then in time
    batch = BatchPlan(config).batch(2)
    with NIDevice(config) as device:
        out = device.sample(batch)
    within_one_raw_sample(out, expected_nA(config, daq, batch.inputs), io)
    assert device.sync_stats.rejected == 2 and len(daq.batch_writes()) == 3


def run_long_session(
    monkeypatch, tmp_path, batches: int, seed: int = 13, short: bool = False
) -> dict:
    """The cdaq-to-nidaq preset (5 kHz out, 10 kHz in) on the unlocked fake; its figures.

    `short` cuts batches to 0.05 s and ramps to 0.01 s: what can fail (the clocks'
    phase at each start) happens once per batch whatever its length.
    """
    from backend.config import load_config
    from resources import preset_path

    config = load_config(preset_path("cdaq-to-nidaq"))
    config.input_data.number_batches = batches
    if short:
        config.input_data.batch_time, config.input_data.ramp_time = 0.05, 0.01
    rng = np.random.default_rng(seed)
    daq = wired_lab(config)
    daq.ao_offsets = {c: rng.uniform(-2e-3, 2e-3) for c in config.layout().activation_channels}
    daq.ao_offsets["cDAQ1Mod3/ao7"] = rng.uniform(-2e-3, 2e-3)
    daq.ai_offsets = {"Dev1/ai0": rng.uniform(-2e-3, 2e-3), "Dev1/ai7": rng.uniform(-2e-3, 2e-3)}
    daq.clock_ppm = {"cDAQ1": 30.0, "Dev1": -25.0}
    daq.noise_v = 1e-4
    daq.lags = list(rng.uniform(0.2, 100.0, batches))  # up to 20 ms late, any phase
    install_fake(monkeypatch, daq)
    started = time.perf_counter()
    session = start_session(config, "nidaq", path=tmp_path / "long.h5", seed=seed)
    device = session.device
    result = session.run()
    elapsed = time.perf_counter() - started
    with Recording(result.path) as rec:
        inputs, outputs = rec.read()
    want = expected_nA(config, daq, inputs)
    step = np.abs(np.diff(want, axis=0)).max()
    return {
        "status": result.status,
        "error": str(result.error or ""),
        "batches": result.batches_done,
        "rows": result.rows,
        "rejected_spikes": device.sync_stats.rejected,
        "edge_range": [min(device.sync_stats.edges), max(device.sync_stats.edges)],
        "max_error_nA": float(np.abs(outputs - want).max()),
        "max_step_nA": float(step),
        "seconds": round(elapsed, 1),
    }


def test_a_few_hundred_batch_session_has_no_failures(monkeypatch, tmp_path):
    figures = run_long_session(monkeypatch, tmp_path, 300, short=True)
    assert figures["status"] == "complete", figures["error"]
    assert figures["batches"] == 300 and figures["rejected_spikes"] == 0
    assert figures["max_error_nA"] < figures["max_step_nA"] / 2 + 0.05


@pytest.mark.slow
def test_a_3880_batch_session_has_no_failures(monkeypatch, tmp_path):
    figures = run_long_session(monkeypatch, tmp_path, 3880)
    print("3880-batch cdaq_to_nidaq session on the fake:", figures)
    assert figures["status"] == "complete", figures["error"]
    assert figures["batches"] == 3880 and figures["rejected_spikes"] == 0
    assert figures["max_error_nA"] < figures["max_step_nA"] / 2 + 0.05
