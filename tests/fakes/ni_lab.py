"""Configs and a wired DNPU for the NI device tests, and the answer the lab must give."""

from __future__ import annotations

import numpy as np
from conftest import small_config

from backend.config import SamplingConfig
from fakes.ni_daq import FakeDAQ


def cdaq_config(**driver) -> SamplingConfig:
    """The 7x1 small config (fs 1000 Hz, readout 2000 Hz, 50+2x10 points) on cdaq_to_cdaq."""
    data = small_config().to_bspysmg()
    data["driver"].update(driver)
    return SamplingConfig.model_validate(data)


def nidaq_config(**setup) -> SamplingConfig:
    """cdaq_to_nidaq: AO on cDAQ1Mod3 (ao7 left for the sync spike), readout on Dev1/ai0."""
    data = small_config().to_bspysmg()
    data["driver"]["instrument_type"] = "cdaq_to_nidaq"
    data["driver"]["instruments_setup"].update(
        {"activation_channels": [6, 0, 1, 5, 2, 4, 3], "readout_instrument": "Dev1", **setup}
    )
    return SamplingConfig.model_validate(data)


def multi_config() -> SamplingConfig:
    """Two DNPUs with masks: 3 of 4 channels on cDAQ1Mod3, 4 of 5 on cDAQ1Mod1; 2 readouts."""
    data = small_config().to_bspysmg()
    setup = data["driver"]["instruments_setup"]
    for key in ("activation_instrument", "activation_channels", "activation_voltage_ranges",
                "activation_channel_mask", "readout_instrument", "readout_channels"):  # fmt: skip
        setup.pop(key, None)
    setup["multiple_devices"] = True
    setup["dnpu_a"] = {
        "activation_instrument": "cDAQ1Mod3",
        "activation_channels": [0, 1, 2, 3],
        "activation_voltage_ranges": [[-1.2, 0.6], [-1.0, 1.0], [-0.7, 0.3], [-0.5, 0.5]],
        "activation_channel_mask": [1, 0, 1, 1],
        "readout_instrument": "cDAQ1Mod4",
        "readout_channels": [0],
    }
    setup["dnpu_b"] = {
        "activation_instrument": "cDAQ1Mod1",
        "activation_channels": [5, 6, 7, 8, 9],
        "activation_voltage_ranges": [[-1.2, 0.6]] * 3 + [[-0.7, 0.3]] * 2,
        "activation_channel_mask": [1, 1, 0, 1, 1],
        "readout_instrument": "cDAQ1Mod2",
        "readout_channels": [1],
    }
    data["driver"]["amplification"] = [39.17, 10.0]
    data["driver"]["inverted_output"] = False
    data["input_data"]["readout_electrode_no"] = 2
    cfg = SamplingConfig.model_validate(data)
    assert cfg.problems() == [], cfg.problems()
    return cfg


def wired_lab(config: SamplingConfig, daq: FakeDAQ | None = None) -> FakeDAQ:
    """Readout r reads bias_r + sum_j 0.1 (j+1)(r+1)/n x electrode j; the sync cable if any."""
    daq = daq or FakeDAQ()
    layout = config.layout()
    n = len(layout.activation_channels)
    for r, ai in enumerate(layout.readout_channels):
        gains = {ao: 0.1 * (j + 1) * (r + 1) / n for j, ao in enumerate(layout.activation_channels)}
        daq.connect(ai, gains, bias=0.05 * (r + 1))
    if config.driver.instrument_type == "cdaq_to_nidaq":
        blocks = list(config.driver.instruments_setup.blocks().values())
        daq.wire(f"{blocks[0].activation_instrument}/ao7", f"{blocks[0].readout_instrument}/ai7")
    return daq


def expected_nA(config: SamplingConfig, daq: FakeDAQ, inputs: np.ndarray) -> np.ndarray:
    """(rows, n_outputs) nA the wired lab must give for (rows, n_inputs) activation volts.

    The channels' voltage offsets are part of the answer: a real DNPU sees them too.
    """
    layout = config.layout()
    sign = -1.0 if config.driver.inverted_output else 1.0
    out = np.empty((len(inputs), len(layout.readout_channels)))
    for r, ai in enumerate(layout.readout_channels):
        channels = layout.activation_channels
        weights = np.array([daq.gains[ai][ao] for ao in channels])
        offsets = np.array([daq.ao_offsets.get(ao, 0.0) for ao in channels])
        volts = daq.bias[ai] + daq.ai_offsets.get(ai, 0.0) + (inputs + offsets) @ weights
        out[:, r] = volts * config.amplification[r] * sign
    return out
