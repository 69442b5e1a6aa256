"""Which config settings the form edits: path in the bspysmg layout, label, kind, tooltip.

Electrode lists (channels, ranges, frequencies, phases...) are edited in the
electrode table instead; keys not listed anywhere are kept as loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

SETUP = "driver.instruments_setup"


@dataclass(frozen=True)
class Field:
    path: str
    label: str
    kind: str  # text | int | float | floats | ints | bool | choice | folder
    tip: str = ""
    choices: tuple[str, ...] = ()
    single_only: bool = False  # hidden for multiple-device wirings


SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        "Recording",
        (
            Field("data_name", "Name", "text", "start of the recording's file name"),
            Field("save_directory", "Output folder", "folder", "where recordings are written"),
        ),
    ),
    (
        "Waves",
        (
            Field(
                "input_data.input_distribution", "Wave shape", "choice", "", ("sawtooth", "sine")
            ),
            Field("input_data.batch_time", "Batch time (s)", "float", "sampled part of a batch"),
            Field("input_data.ramp_time", "Ramp time (s)", "float", "ramp from/to 0 V"),
            Field("input_data.number_batches", "Batches", "int", "how many batches to sample"),
            Field(
                "input_data.random_phase_shift_each",
                "New phases every",
                "int",
                "draw random phases every N batches (0: keep the configured phases)",
            ),
        ),
    ),
    (
        "Acquisition",
        (
            Field(f"{SETUP}.activation_sampling_frequency", "Activation rate (Hz)", "int"),
            Field(f"{SETUP}.readout_sampling_frequency", "Readout rate (Hz)", "int"),
            Field("driver.amplification", "Amplification (nA/V)", "floats", "one per readout"),
            Field("driver.inverted_output", "Inverted output", "bool", "amplifier inverts"),
            Field(
                "driver.instrument_type", "Wiring", "choice", "", ("cdaq_to_cdaq", "cdaq_to_nidaq")
            ),
            Field(f"{SETUP}.trigger_source", "Trigger source", "text"),
            Field(f"{SETUP}.activation_instrument", "Activation module", "text", single_only=True),
            Field(f"{SETUP}.readout_instrument", "Readout module", "text", single_only=True),
            Field(f"{SETUP}.readout_channels", "Readout channels", "ints", "aiN", single_only=True),
        ),
    ),
)
