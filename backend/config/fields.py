"""What a config field is: its title, unit, help, choices and limits, from the schema itself.

The schema (`backend.config.schema`) gives each field a pydantic `title`, a
`description` (the help a form shows), where it has one a unit
(`json_schema_extra={"unit": ...}`), its choices (a `Literal`) and its lower
limit (`gt`/`ge`, `PositiveInt`...). Forms label and explain their fields with
`field_meta` and validation messages name fields with `field_title`, so a
field has one name everywhere and the schema owns it. `field_place` splits a
problem's path into the field, the device block and the list indices, so a
form puts the message at its cell without restating the schema's paths.
Paths are dotted as in `Problem.path`: `input_data.batch_time`,
`driver.instruments_setup.activation_voltage_ranges[2]`, and for multiple
devices `driver.instruments_setup.<block>.activation_channels`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from backend.config.schema import DeviceBlock, Driver, InputData, InstrumentsSetup, SamplingConfig

_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class FieldMeta:
    key: str  # the field's own key ('batch_time')
    title: str  # 'Batch time'
    unit: str = ""  # 's', 'Hz', 'V'... or ''
    help: str = ""  # what the field means, for a tooltip
    choices: tuple[str, ...] = ()  # the values it may take (a Literal), else ()
    lower: float | None = None  # the smallest value it may take...
    lower_open: bool = False  # ...exclusive (gt) or not (ge)

    @property
    def label(self) -> str:
        """'Batch time (s)': the title with its unit, as a form shows it."""
        return f"{self.title} ({self.unit})" if self.unit else self.title

    @property
    def hint(self) -> str:
        """The help with the field's limit: 'sampled part of a batch; more than 0 s'."""
        limit = ""
        if self.lower is not None:
            bound = f"{self.lower:g}" + (f" {self.unit}" if self.unit else "")
            limit = f"more than {bound}" if self.lower_open else f"at least {bound}"
        return "; ".join(part for part in (self.help, limit) if part)


class FieldPlace(NamedTuple):
    """Where a problem's path points: the field, its device block and its list indices."""

    path: str  # as the problem names it
    field: str  # without list indices ('driver.instruments_setup.A.activation_channels')
    key: str  # the field's own key ('activation_channels')
    block: str | None  # the named device block of a multiple-device wiring, else None
    index: tuple[int, ...]  # list indices in order ((2, 1) for '...ranges[2][1]')


def _humanised(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _meta(key: str, info: FieldInfo | None) -> FieldMeta:
    if info is None:
        return FieldMeta(key, _humanised(key))
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    choices = get_args(info.annotation) if get_origin(info.annotation) is Literal else ()
    lower, lower_open = None, False
    for rule in info.metadata:
        if getattr(rule, "gt", None) is not None:
            lower, lower_open = float(rule.gt), True
        elif getattr(rule, "ge", None) is not None:
            lower = float(rule.ge)
    return FieldMeta(
        key,
        info.title or _humanised(key),
        str(extra.get("unit", "")),
        info.description or "",
        tuple(str(c) for c in choices),
        lower,
        lower_open,
    )


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


def field_place(path: str) -> FieldPlace:
    """Split a problem's `path` into field, device block and list indices (see FieldPlace)."""
    field = _INDEX.sub("", path)
    keys = [k for k in field.split(".") if k]
    block = None
    if keys[:2] == ["driver", "instruments_setup"] and len(keys) > 3:
        part = keys[2]
        if part == "devices":
            block = keys[3]
        elif part not in InstrumentsSetup.model_fields:
            block = part  # as bspysmg writes a block: `instruments_setup.<name>.`
    index = tuple(int(i) for i in _INDEX.findall(path))
    return FieldPlace(path, field, keys[-1] if keys else path, block, index)


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
