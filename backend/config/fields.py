"""What a config field is called: its title and unit, from the schema's own metadata.

The schema (`backend.config.schema`) gives each field a pydantic `title` and,
where it has one, a unit (`json_schema_extra={"unit": ...}`). Forms label
their fields with `field_label` and validation messages name fields with
`field_title`, so a field has one name everywhere and the schema owns it.
Paths are dotted as in `Problem.path`: `input_data.batch_time`,
`driver.instruments_setup.activation_voltage_ranges[2]`, and for multiple
devices `driver.instruments_setup.<block>.activation_channels`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from backend.config.schema import DeviceBlock, Driver, InputData, InstrumentsSetup, SamplingConfig

_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class FieldMeta:
    key: str  # the field's own key ('batch_time')
    title: str  # 'Batch time'
    unit: str = ""  # 's', 'Hz', 'V'... or ''

    @property
    def label(self) -> str:
        """'Batch time (s)': the title with its unit, as a form shows it."""
        return f"{self.title} ({self.unit})" if self.unit else self.title


def _humanised(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _meta(key: str, info: FieldInfo | None) -> FieldMeta:
    if info is None:
        return FieldMeta(key, _humanised(key))
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return FieldMeta(key, info.title or _humanised(key), str(extra.get("unit", "")))


def _field_info(path: str) -> tuple[str, FieldInfo | None]:
    """The last key of `path` and its pydantic FieldInfo (None for keys the schema lacks)."""
    keys = [k for k in _INDEX.sub("", path).split(".") if k]
    model: type[BaseModel] | None = SamplingConfig
    info: FieldInfo | None = None
    i = 0
    while i < len(keys):
        part = keys[i]
        if model is None:
            return keys[-1], None
        if model is InstrumentsSetup and (part == "devices" or part not in model.model_fields):
            # a named device block: `devices.<name>.` or, as bspysmg writes it, `<name>.`
            i += 2 if part == "devices" else 1
            model = DeviceBlock
            continue
        info = model.model_fields.get(part)
        if info is None:
            return keys[-1], None
        annotation = info.annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None
        i += 1
    return (keys[-1] if keys else path), info


def field_meta(path: str) -> FieldMeta:
    """Title and unit of the field at `path` (list indices ignored)."""
    key, info = _field_info(path)
    return _meta(key, info)


def field_title(path: str) -> str:
    return field_meta(path).title


def field_label(path: str) -> str:
    return field_meta(path).label


def known_keys() -> dict[str, str]:
    """Every field key of the schema -> its title (for naming keys inside messages)."""
    out: dict[str, str] = {}
    for model in (SamplingConfig, Driver, InputData, InstrumentsSetup, DeviceBlock):
        for key, info in model.model_fields.items():
            out.setdefault(key, _meta(key, info).title)
    return out
