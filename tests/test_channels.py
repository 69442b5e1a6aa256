"""ChannelLayout: one statement of channel names, units and roles, carried by readers."""

from __future__ import annotations

import numpy as np
import pytest

from backend.channels import INPUT, OTHER, OUTPUT, ChannelLayout
from backend.data.kinds import open_reader
from backend.data.reader import ArrayReader
from backend.datasets.ondisk import RecordingDataset
from backend.errors import SamplelabError


def test_a_sampling_layout_states_inputs_in_volts_then_outputs_in_nanoamperes(config):
    layout = ChannelLayout.of_config(config)
    assert layout.names == (*config.input_names(), *config.output_names())
    assert layout.units == ("V",) * config.n_inputs + ("nA",) * config.n_outputs
    assert (layout.n_inputs, layout.n_outputs) == (config.n_inputs, config.n_outputs)
    outputs = layout.part("outputs")
    assert outputs.roles == (OUTPUT,) * config.n_outputs and outputs.units[0] == "nA"
    assert ChannelLayout.peer(2, 1).names == ("Input 0", "Input 1", "Output 0")


def test_a_layout_refuses_mismatched_lists_and_unknown_roles():
    with pytest.raises(ValueError, match="one name, unit and role"):
        ChannelLayout(("a", "b"), ("V",), (INPUT, INPUT))
    with pytest.raises(ValueError, match="unknown channel roles"):
        ChannelLayout(("a",), ("V",), ("electrode",))
    with pytest.raises(ValueError, match="part must be"):
        ChannelLayout.plain(["a"]).part("targets")


def test_recordings_and_bspysmg_files_carry_their_roles(recording, bspysmg_folder):
    with open_reader(recording) as reader:
        layout = reader.channel_layout
        assert layout.roles[: layout.n_inputs] == (INPUT,) * layout.n_inputs
        assert layout.n_outputs == len(reader.recording.output_names) > 0
        view = reader.select([layout.outputs[0], 0])  # a view keeps each channel's role
        assert view.channel_layout.roles == (OUTPUT, INPUT)
    with open_reader(bspysmg_folder) as reader:
        assert reader.channel_layout.n_inputs == 7 and reader.channel_layout.n_outputs >= 1
    with open_reader(bspysmg_folder / "postprocessed_data.npz") as reader:
        assert reader.channel_layout.n_inputs == 7


def test_datasets_split_by_roles_not_by_units(recording):
    with open_reader(recording) as reader:
        ds = RecordingDataset(reader)
        x, y = ds[0]
        assert (len(x), len(y)) == (reader.channel_layout.n_inputs, reader.channel_layout.n_outputs)
    volts_and_amps = ArrayReader(np.zeros((4, 2)), ["a", "b"], ["V", "nA"])
    assert volts_and_amps.channel_layout.roles == (OTHER, OTHER)  # units alone state no roles
    with pytest.raises(SamplelabError, match="which channels are inputs"):
        RecordingDataset(volts_and_amps)
