"""Sampling config: loading both flavours, defaults, validation naming each field."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import BSPYSMG_FIXTURES, small_config

from backend.config import (
    GLOBAL_VOLTAGE_LIMIT,
    SamplingConfig,
    config_problems,
    config_to_bspysmg_yaml,
    config_to_yaml,
    load_config,
    save_config,
)
from backend.errors import ConfigError
from resources import preset_paths


def _problems(data: dict) -> dict[str, str]:
    _, problems = config_problems(data)
    return {p.path: p.message for p in problems}


def _base() -> dict:
    return small_config().to_bspysmg()


def test_bspysmg_config_loads_with_numpy_arrays(bspysmg_folder):
    cfg = load_config(bspysmg_folder / "sampler_configs.json")
    assert cfg.n_inputs == 7 and cfg.n_outputs == 1
    assert cfg.driver.instrument_type == "cdaq_to_cdaq"
    assert cfg.input_data.amplitude == pytest.approx([0.9] * 5 + [0.5] * 2)
    assert cfg.input_data.offset == pytest.approx([-0.3] * 5 + [-0.2] * 2)
    assert cfg.layout().activation_channels[0] == "cDAQ1Mod3/ao6"
    assert cfg.layout().readout_channels == ("cDAQ1Mod4/ai0",)


def test_folder_path_finds_sampler_configs(bspysmg_folder):
    assert load_config(bspysmg_folder) == load_config(bspysmg_folder / "sampler_configs.json")


def test_bspysmg_yaml_is_byte_identical_to_the_peers(bspysmg_folder):
    path = bspysmg_folder / "sampler_configs.json"
    cfg = load_config(path)
    text = config_to_bspysmg_yaml(cfg, save_directory=cfg.save_directory)
    assert text == path.read_text()


def test_peer_can_read_our_bspysmg_yaml_with_its_unsafe_loader(tmp_path):
    cfg = small_config()
    save_config(cfg, tmp_path / "sampler_configs.json", flavour="bspysmg")
    peer_view = yaml.unsafe_load((tmp_path / "sampler_configs.json").read_text())
    assert isinstance(peer_view["input_data"]["amplitude"], np.ndarray)
    np.testing.assert_allclose(peer_view["input_data"]["amplitude"], cfg.amplitude())
    assert peer_view["driver"]["amplification"] == [39.17]


@pytest.mark.parametrize("flavour", ["samplelab", "bspysmg"])
def test_save_and_load_round_trip(tmp_path, flavour):
    cfg = small_config(random_phase_shift_each=2)
    path = save_config(cfg, tmp_path / "c.yaml", flavour=flavour)
    again = load_config(path)
    assert again.to_bspysmg()["driver"] == cfg.to_bspysmg()["driver"]
    np.testing.assert_allclose(again.amplitude(), cfg.amplitude())
    assert again.input_data.phase == cfg.input_data.phase


def test_our_yaml_has_no_python_tags():
    assert "!!python" not in config_to_yaml(small_config())


def test_defaults_are_a_valid_standard_setup():
    cfg = SamplingConfig()
    assert cfg.problems() == []
    assert (cfg.fs, cfg.batch_points, cfg.ramp_points) == (5000, 2500, 2500)
    assert cfg.voltage_ranges().shape == (7, 2)


@pytest.mark.parametrize("name", sorted(preset_paths()))
def test_every_preset_is_valid(name):
    cfg = load_config(preset_paths()[name])
    assert cfg.problems() == []


def test_frequencies_use_factor_or_the_peers_fs_rule():
    cfg = small_config()
    assert cfg.frequencies() == pytest.approx(np.sqrt([2, 3, 5, 7, 13, 17, 19]) * 1.0)
    assert small_config(factor=2.0).frequencies() == pytest.approx(
        np.sqrt([2, 3, 5, 7, 13, 17, 19]) * 2.0
    )


def test_amplitude_and_offset_default_from_ranges():
    cfg = small_config()
    np.testing.assert_allclose(cfg.amplitude(), [0.9] * 5 + [0.5] * 2)
    np.testing.assert_allclose(cfg.offset(), [-0.3] * 5 + [-0.2] * 2)


# --- validation: each names the field and why -----------------------------------------
def test_wrong_number_of_frequencies_and_phases():
    data = _base()
    data["input_data"]["input_frequency"] = [2, 3, 5]
    data["input_data"]["phase"] = [0.0] * 8
    problems = _problems(data)
    assert problems["input_data.input_frequency"].startswith(
        "Frequency has 3 values but number of active electrodes is 7"
    )
    assert problems["input_data.phase"].startswith("Phase has 8 values")


def test_wrong_number_of_ranges_for_channels():
    data = _base()
    data["driver"]["instruments_setup"]["activation_voltage_ranges"].pop()
    problems = _problems(data)
    assert (
        "6 ranges for 7 channels" in problems["driver.instruments_setup.activation_voltage_ranges"]
    )


def test_readout_rate_must_be_a_multiple():
    data = _base()
    data["driver"]["instruments_setup"]["readout_sampling_frequency"] = 1500
    message = _problems(data)["driver.instruments_setup.readout_sampling_frequency"]
    assert "not an integer multiple" in message and "1000 Hz" in message


def test_range_outside_global_limit():
    data = _base()
    data["driver"]["instruments_setup"]["activation_voltage_ranges"][2] = [-1.8, 0.5]
    message = _problems(data)["driver.instruments_setup.activation_voltage_ranges[2]"]
    assert f"+-{GLOBAL_VOLTAGE_LIMIT} V" in message


def test_inverted_range():
    data = _base()
    data["driver"]["instruments_setup"]["activation_voltage_ranges"][0] = [0.5, -0.5]
    assert (
        "minimum must be below"
        in _problems(data)["driver.instruments_setup.activation_voltage_ranges[0]"]
    )


def test_range_must_contain_zero_volts():
    data = _base()
    data["driver"]["instruments_setup"]["activation_voltage_ranges"][1] = [0.2, 0.6]
    message = _problems(data)["driver.instruments_setup.activation_voltage_ranges[1]"]
    assert "does not contain 0 V" in message


def test_batch_time_times_fs_not_integer():
    data = _base()
    data["input_data"]["batch_time"] = 0.0505
    message = _problems(data)["input_data.batch_time"]
    assert "not an integer" in message and "50.5" in message


def test_ramp_too_short_to_start_at_zero():
    data = _base()
    data["input_data"]["ramp_time"] = 0.001
    assert "at least 2 points" in _problems(data)["input_data.ramp_time"]


def test_explicit_amplitude_outside_the_range():
    data = _base()
    data["input_data"]["amplitude"] = [1.0] * 7
    data["input_data"]["offset"] = [0.0] * 7
    message = _problems(data)["input_data.amplitude[0]"]
    assert "leaves the electrode range" in message


def test_amplitude_without_offset():
    data = _base()
    data["input_data"]["amplitude"] = [0.1] * 7
    assert "both amplitude and offset" in _problems(data)["input_data.offset"]


def test_type_errors_name_the_field():
    data = _base()
    data["input_data"]["number_batches"] = "many"
    data["input_data"]["input_distribution"] = "square"
    problems = _problems(data)
    assert "input_data.number_batches" in problems
    assert "'sine'" in problems["input_data.input_distribution"]


def test_average_io_point_difference_must_be_true():
    data = _base()
    data["driver"]["instruments_setup"]["average_io_point_difference"] = False
    assert "must be true" in _problems(data)["driver.instruments_setup.average_io_point_difference"]


def test_amplification_count_and_electrode_counts():
    data = _base()
    data["driver"]["amplification"] = [39.17, 10.0]
    data["input_data"]["activation_electrode_no"] = 6
    problems = _problems(data)
    assert "number of readouts is 1" in problems["driver.amplification"]
    assert "wiring has 7 active" in problems["input_data.activation_electrode_no"]
    assert "number of active electrodes is 6" in problems["input_data.input_frequency"]


def test_missing_sections_mean_not_a_config():
    problems = _problems({"something": 1})
    assert "section is missing" in problems["driver"]


def test_config_error_lists_every_problem(tmp_path):
    data = _base()
    data["input_data"]["phase"] = [0.0]
    data["driver"]["instruments_setup"]["readout_sampling_frequency"] = 1500
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "2 problems" in text and "input_data.phase" in text and str(path) in text
    assert "readout_sampling_frequency" in text


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError):
        load_config(binary)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="does not hold a config mapping"):
        load_config(listing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("driver: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


# --- multiple devices with masks ----------------------------------------------------------
def test_multiple_devices_with_masks_concatenate_in_order():
    cfg = load_config(preset_paths()["two-devices"])
    layout = cfg.layout()
    assert layout.activation_channels == (
        "cDAQ1Mod3/ao0",
        "cDAQ1Mod3/ao1",
        "cDAQ1Mod3/ao2",
        "cDAQ1Mod3/ao3",
        "cDAQ1Mod1/ao0",
        "cDAQ1Mod1/ao1",
        "cDAQ1Mod1/ao2",
    )
    assert layout.readout_channels == ("cDAQ1Mod4/ai0", "cDAQ1Mod4/ai1")
    assert layout.ranges.shape == (7, 2)
    assert layout.instruments == ("cDAQ1Mod3", "cDAQ1Mod4", "cDAQ1Mod1")
    # The device blocks survive a round trip in the bspysmg layout.
    dumped = cfg.to_bspysmg()["driver"]["instruments_setup"]
    assert set(dumped) >= {"A", "B"} and "devices" not in dumped


def test_mask_changes_the_electrode_count():
    data = load_config(preset_paths()["two-devices"]).to_bspysmg()
    data["driver"]["instruments_setup"]["B"]["activation_channel_mask"] = [1, 1, 1, 1]
    message = _problems(data)["input_data.activation_electrode_no"]
    assert "8 active activation channels" in message


def test_fixture_folder_constant_points_to_real_files():
    assert (BSPYSMG_FIXTURES / "small_sine" / "IO.dat").is_file()
