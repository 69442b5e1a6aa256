"""Which config settings the form edits: path in the bspysmg layout, kind, tooltip.

Labels are not here: the schema owns each field's name (the app passes
`backend.config.fields.field_label` of each path to the form), so a form
label and a validation message call a field the same. Electrode lists
(channels, ranges, frequencies, phases...) are edited in the electrode table
instead; keys not listed anywhere are kept as loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

SETUP = "driver.instruments_setup"


@dataclass(frozen=True)
class Field:
    path: str
    kind: str  # text | int | float | floats | ints | bool | choice | folder
    tip: str = ""
    choices: tuple[str, ...] = ()
    single_only: bool = False  # hidden for multiple-device wirings


SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        "Recording",
        (
            Field("data_name", "text", "start of the recording's file name"),
            Field("save_directory", "folder", "where recordings are written"),
        ),
    ),
    (
        "Waves",
        (
            Field("input_data.input_distribution", "choice", "", ("sawtooth", "sine")),
            Field("input_data.batch_time", "float", "sampled part of a batch"),
            Field("input_data.ramp_time", "float", "ramp from/to 0 V"),
            Field("input_data.number_batches", "int", "how many batches to sample"),
            Field(
                "input_data.random_phase_shift_each",
                "int",
                "draw random phases every N batches (0: keep the configured phases)",
            ),
        ),
    ),
    (
        "Acquisition",
        (
            Field(f"{SETUP}.activation_sampling_frequency", "int"),
            Field(f"{SETUP}.readout_sampling_frequency", "int"),
            Field("driver.amplification", "floats", "one per readout"),
            Field("driver.inverted_output", "bool", "amplifier inverts"),
            Field("driver.instrument_type", "choice", "", ("cdaq_to_cdaq", "cdaq_to_nidaq")),
            Field(f"{SETUP}.trigger_source", "text"),
            Field(f"{SETUP}.activation_instrument", "text", single_only=True),
            Field(f"{SETUP}.readout_instrument", "text", single_only=True),
            Field(f"{SETUP}.readout_channels", "ints", "aiN", single_only=True),
        ),
    ),
)


def form_fields() -> list[Field]:
    """Every field the form edits, in order."""
    return [f for _, fields in SECTIONS for f in fields]
