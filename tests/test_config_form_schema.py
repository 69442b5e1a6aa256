"""The config form shows what the schema says of each field; problems reach cells by place."""

from __future__ import annotations

from guitools import make_window, settings_dir, window
from PySide6.QtWidgets import QComboBox, QFormLayout

from backend.config.fields import field_meta, field_place
from widgets.configfields import form_fields

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def test_a_problem_path_splits_into_field_block_and_indices():
    place = field_place("driver.instruments_setup.devices.A.activation_voltage_ranges[2][1]")
    assert place.field == "driver.instruments_setup.devices.A.activation_voltage_ranges"
    assert (place.key, place.block, place.index) == ("activation_voltage_ranges", "A", (2, 1))
    bspysmg = field_place("driver.instruments_setup.B.activation_channels[3]")  # as bspysmg nests
    assert (bspysmg.key, bspysmg.block, bspysmg.index) == ("activation_channels", "B", (3,))
    plain = field_place("driver.instruments_setup.readout_channels[0]")
    assert (plain.field, plain.block, plain.index) == (
        "driver.instruments_setup.readout_channels",
        None,
        (0,),
    )


def test_the_schema_states_help_choices_and_limits():
    batch = field_meta("input_data.batch_time")
    assert batch.label == "Batch time (s)"
    assert batch.hint == "sampled part of a batch; more than 0 s"
    assert field_meta("input_data.input_distribution").choices == ("sawtooth", "sine")
    assert field_meta("input_data.random_phase_shift_each").hint.endswith("; at least 0")


def test_every_form_field_shows_the_schemas_label_tip_and_choices(window):
    form = window.pages["sampling"].form
    for field in form_fields():
        meta = field_meta(field.path)
        editor = form.editors[field.path]
        assert editor.toolTip() == meta.hint, field.path
        row = form._rows[field.path]
        layout = row.parentWidget().layout()
        assert isinstance(layout, QFormLayout)
        assert layout.labelForField(row).text() == meta.label
        if isinstance(editor, QComboBox):
            items = tuple(editor.itemText(i) for i in range(editor.count()))
            assert items == meta.choices and items, field.path
