"""Which config settings the form edits, in which section: path in the bspysmg layout, editor.

What a field is called, what it means, its choices and limits are not here:
the schema owns them (`backend.config.fields.field_meta`), and the app hands
them to the form as `FieldText`, so a form label, its tooltip and a
validation message call a field the same. Electrode lists
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
    single_only: bool = False  # hidden for multiple-device wirings


@dataclass(frozen=True)
class FieldText:
    """What the form shows of a field, from the schema: label, tooltip, choices."""

    label: str
    tip: str = ""
    choices: tuple[str, ...] = ()


SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        "Recording",
        (
            Field("data_name", "text"),
            Field("save_directory", "folder"),
        ),
    ),
    (
        "Waves",
        (
            Field("input_data.input_distribution", "choice"),
            Field("input_data.batch_time", "float"),
            Field("input_data.ramp_time", "float"),
            Field("input_data.number_batches", "int"),
            Field("input_data.random_phase_shift_each", "int"),
        ),
    ),
    (
        "Acquisition",
        (
            Field(f"{SETUP}.activation_sampling_frequency", "int"),
            Field(f"{SETUP}.readout_sampling_frequency", "int"),
            Field("driver.amplification", "floats"),
            Field("driver.inverted_output", "bool"),
            Field("driver.instrument_type", "choice"),
            Field(f"{SETUP}.trigger_source", "text"),
            Field(f"{SETUP}.activation_instrument", "text", single_only=True),
            Field(f"{SETUP}.readout_instrument", "text", single_only=True),
            Field(f"{SETUP}.readout_channels", "ints", single_only=True),
        ),
    ),
)


def form_fields() -> list[Field]:
    """Every field the form edits, in order."""
    return [f for _, fields in SECTIONS for f in fields]
