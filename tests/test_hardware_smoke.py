"""A 3-batch session on a real (or NI MAX simulated) NI-DAQmx device.

Skipped by default. On a lab PC: `pytest -m hardware` with either

- SAMPLELAB_HW_CONFIG=path/to/sampler_configs.json (the lab's own config), or
- SAMPLELAB_HW_ACTIVATION=cDAQ1Mod3 SAMPLELAB_HW_READOUT=cDAQ1Mod4
  [SAMPLELAB_HW_TRIGGER=cDAQ1] [SAMPLELAB_HW_TYPE=cdaq_to_cdaq]
  (a gentle +-0.3 V sawtooth on ao0..ao6, read on ai0).

See docs/hardware.md.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import small_config

from backend.config import SamplingConfig, load_config
from backend.devices.discovery import ni_inventory
from backend.recording.reader import Recording
from backend.sampling.session import start_session

pytestmark = pytest.mark.hardware
BATCHES = 3
GENTLE_RANGE_V = 0.3


def hardware_config() -> SamplingConfig:
    """The config named by the environment, cut to three batches; skip when none is named."""
    env = os.environ
    if env.get("SAMPLELAB_HW_CONFIG"):
        config = load_config(env["SAMPLELAB_HW_CONFIG"]).model_copy(deep=True)
        config.input_data.number_batches = BATCHES
        return config
    if not (env.get("SAMPLELAB_HW_ACTIVATION") and env.get("SAMPLELAB_HW_READOUT")):
        pytest.skip(
            "name the hardware: SAMPLELAB_HW_CONFIG, or SAMPLELAB_HW_ACTIVATION and "
            "SAMPLELAB_HW_READOUT (see docs/hardware.md)"
        )
    data = small_config(number_batches=BATCHES).to_bspysmg()
    setup = data["driver"]["instruments_setup"]
    setup.update(
        activation_instrument=env["SAMPLELAB_HW_ACTIVATION"],
        activation_channels=list(range(7)),
        activation_voltage_ranges=[[-GENTLE_RANGE_V, GENTLE_RANGE_V]] * 7,
        readout_instrument=env["SAMPLELAB_HW_READOUT"],
        readout_channels=[0],
        trigger_source=env.get("SAMPLELAB_HW_TRIGGER", "cDAQ1"),
    )
    data["driver"]["instrument_type"] = env.get("SAMPLELAB_HW_TYPE", "cdaq_to_cdaq")
    config = SamplingConfig.model_validate(data)
    assert config.problems() == [], config.problems()
    return config


def test_three_batches_on_the_hardware(tmp_path):
    config = hardware_config()
    inventory = ni_inventory()
    assert inventory.driver_available, inventory.message
    known = [d.name for d in inventory.devices]
    for instrument in config.layout().instruments:
        assert instrument in known, f"{instrument} is not among the NI devices {known}"

    session = start_session(config, "nidaq", path=tmp_path / "hardware.h5", seed=0)
    result = session.run()

    assert result.status == "complete", result.error
    with Recording(result.path) as rec:
        assert rec.batches_done == BATCHES and rec.device["kind"] == "nidaq"
        assert rec.device["driver_version"] == inventory.driver_version
        inputs, outputs = rec.read()
    assert outputs.shape == (BATCHES * config.batch_points, config.n_outputs)
    assert np.isfinite(outputs).all()
    # the AI channels ask for +-ADC_LIMIT_V; modules round that up to their next range (<= 10 V)
    limit = 10.0 * np.abs(config.amplification)
    assert (np.abs(outputs) <= limit).all(), "readings beyond any NI AI range"
    assert outputs.std() > 0, "a constant readout: is the readout channel connected?"
    assert np.abs(inputs).max() <= np.abs(config.voltage_ranges()).max() + 1e-9


def test_selftest_passes_on_the_hardware(tmp_path):
    """The acceptance run of docs/hardware.md, on the same hardware: every check passes."""
    from backend.sampling.selftest import run_selftest

    report = run_selftest(hardware_config(), "nidaq", out_dir=tmp_path, batches=20)
    failed = [f"{c.name}: {c.detail}" for c in report.checks if c.status == "fail"]
    assert report.passed, failed
    assert report.recording is not None
    with Recording(report.recording) as rec:
        assert rec.batches_done == 20
