"""Wiring rules checked at config validation (issue 13, items 2 and 4): the sync pair of
cdaq_to_nidaq is nobody's electrode, masked or not, and masks apply only with
multiple_devices, as in brains-py."""

from __future__ import annotations

import pytest
import yaml
from conftest import small_config
from fakes.ni_daq import install_missing_driver

from app.cli import main
from backend.config import SamplingConfig, load_config, save_config
from backend.devices.ni_plan import ni_plan
from resources import preset_path, preset_paths

SETUP = "driver.instruments_setup"


def nidaq_data(**setup) -> dict:
    data = small_config().to_bspysmg()
    data["driver"]["instrument_type"] = "cdaq_to_nidaq"
    data["driver"]["instruments_setup"].update(
        {"activation_channels": [6, 0, 1, 5, 2, 4, 3], "readout_instrument": "Dev1", **setup}
    )
    return data


def problems(data: dict) -> dict[str, str]:
    return {p.path: p.message for p in SamplingConfig.model_validate(data).problems()}


# --- item 2 -------------------------------------------------------------------------------
def test_the_issue_config_ao7_masked_off_is_refused_at_validation():
    """activation_channels [6,0,1,5,2,4,3,7] with ao7 masked: ao7 would carry the spike."""
    data = load_config(preset_path("two-devices")).to_bspysmg()
    data["driver"]["instrument_type"] = "cdaq_to_nidaq"
    block = data["driver"]["instruments_setup"]["A"]
    block.update(
        activation_channels=[6, 0, 1, 5, 2, 4, 3, 7],
        activation_voltage_ranges=[[-1.2, 0.6]] * 8,
        activation_channel_mask=[1, 1, 1, 1, 1, 1, 1, 0],
        readout_instrument="Dev1",
    )
    data["driver"]["instruments_setup"]["B"]["activation_channel_mask"] = [0, 0, 0, 0]
    found = problems(data)
    message = found[f"{SETUP}.A.activation_channels[7]"]
    assert "cDAQ1Mod3/ao7 carries the 1 V cdaq_to_nidaq sync spike" in message
    assert "masked off, but still configured" in message


@pytest.mark.parametrize(
    ("setup", "path", "channel"),
    [
        ({"activation_channels": [6, 0, 7, 5, 2, 4, 3]}, "activation_channels[2]", "ao7"),
        ({"readout_channels": [7]}, "readout_channels[0]", "Dev1/ai7"),
    ],
)
def test_sync_channels_as_electrodes_are_refused(setup, path, channel):
    message = problems(nidaq_data(**setup))[f"{SETUP}.{path}"]
    assert channel in message and "sync spike" in message


def test_other_instruments_and_cdaq_to_cdaq_may_use_channel_7():
    assert problems(nidaq_data(readout_channels=[0])) == {}
    data = small_config().to_bspysmg()
    data["driver"]["instruments_setup"]["activation_channels"] = [6, 0, 7, 5, 2, 4, 3]
    assert problems(data) == {}  # cdaq_to_cdaq: no sync spike
    multi = load_config(preset_path("two-devices")).to_bspysmg()
    multi["driver"]["instrument_type"] = "cdaq_to_nidaq"
    multi["driver"]["instruments_setup"]["B"]["activation_channels"] = [0, 1, 2, 7]
    assert problems(multi) == {}  # ao7 of cDAQ1Mod1, not of the first block's cDAQ1Mod3


def test_sample_refuses_it_without_a_driver(monkeypatch, tmp_path, capsys):
    install_missing_driver(monkeypatch)
    data = nidaq_data(activation_channels=[6, 0, 7, 5, 2, 4, 3])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    code = main(["sample", str(path), "--device", "nidaq", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "cDAQ1Mod3/ao7 carries the 1 V" in err
    assert "driver not found" not in err and not (tmp_path / "out").exists()


def test_every_preset_is_valid():
    for name, path in preset_paths().items():
        assert load_config(path).problems() == [], name


# --- item 4 -------------------------------------------------------------------------------
def test_a_single_device_mask_is_ignored_as_in_brains_py(tmp_path):
    data = small_config().to_bspysmg()
    data["driver"]["instruments_setup"]["activation_channel_mask"] = [1, 1, 0, 1, 1, 1, 1]
    config = SamplingConfig.model_validate(data)
    assert config.problems() == []
    assert config.n_inputs == 7 and len(config.layout().activation_channels) == 7
    assert config.layout().activation_channels[2] == "cDAQ1Mod3/ao7"
    notes = ni_plan(config).notes
    assert any("masks apply only with multiple_devices" in n for n in notes)
    # the mask is kept in the file as the lab wrote it
    again = load_config(save_config(config, tmp_path / "kept.yaml"))
    assert again.driver.instruments_setup.activation_channel_mask == [1, 1, 0, 1, 1, 1, 1]


def test_a_single_device_mask_no_longer_changes_the_electrode_count():
    data = small_config().to_bspysmg()
    data["driver"]["instruments_setup"]["activation_channel_mask"] = [1, 1, 0, 1, 1, 1, 1]
    data["input_data"]["activation_electrode_no"] = 6
    assert "wiring has 7 active" in problems(data)["input_data.activation_electrode_no"]


def test_multiple_devices_keep_their_masks_and_zero_every_configured_channel():
    config = load_config(preset_path("two-devices"))
    layout = config.layout()
    assert len(layout.activation_channels) == 7 and len(layout.configured_channels) == 8
    assert "cDAQ1Mod1/ao3" in layout.configured_channels
    assert "cDAQ1Mod1/ao3" not in layout.activation_channels
    plan = ni_plan(config)
    roles = {c.name: c.role for c in plan.zero_channels}
    assert roles["cDAQ1Mod1/ao3"] == "masked" and list(roles.values()).count("electrode") == 7
