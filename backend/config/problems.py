"""Every problem of a config at once, each naming its field by the field's title.

Validation has two stages: pydantic checks each value (types, bounds), then
`consistency_problems` checks what depends on several fields. A user fixing
a form must see both at once ("Batch time must be greater than 0" and
"Voltage range of Input 2: [-1.2, 5.0] V exceeds ..."), not one stage after
the other. So when values fail, each bad value is set aside (its default
stands in) and the cross-field checks still run; their findings about a
value that was set aside are dropped, since they would describe the default.
When a value the others are measured against fails (the activation rate,
the electrode counts, the device layout), the cross-field checks are skipped:
they would compare against a number the user did not give.

Messages name fields by the title the schema gives them
(`backend.config.fields`), never as pydantic's "Input should be ...", which
read as if about electrode "Input 0".
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import ValidationError

from backend.config.fields import field_title, known_keys
from backend.config.limits import shape_problems
from backend.config.schema import SamplingConfig
from backend.errors import Problem

#: Values every cross-field check leans on: if one is bad, those checks are skipped.
_FOUNDATIONS = (
    "driver.instruments_setup.activation_sampling_frequency",
    "driver.instruments_setup.multiple_devices",
    "input_data.activation_electrode_no",
    "input_data.readout_electrode_no",
)
_MAX_PASSES = 8
_WAVE_LISTS = ("input_frequency", "phase", "amplitude", "offset")
_WIRING_LISTS = ("activation_channels", "activation_voltage_ranges", "activation_channel_mask")
_VERBS = ("has", "holds", "is", "must", "lists", "entries", "section", "should", "needs", "every")

#: pydantic error type -> our wording (after the field's title).
_WORDING = {
    "missing": "is required",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "literal_error": "must be one of {expected}",
    "list_type": "must be a list",
    "tuple_type": "must be a [min, max] pair",
    "string_type": "must be text",
    "dict_type": "must be a section (a mapping)",
    "model_type": "must be a section (a mapping)",
}


def config_problems(data: Any) -> tuple[SamplingConfig | None, list[Problem]]:
    """Validate a config dict: the config (None if anything is wrong) and every problem."""
    if not isinstance(data, dict):
        return None, [Problem("", f"a config must be a mapping, not {type(data).__name__}")]
    shape = shape_problems(data)  # before anything walks it recursively
    if shape:
        return None, [_named(p, None) for p in shape]
    missing = [k for k in ("driver", "input_data") if k not in data]
    if missing:
        return None, [
            Problem(k, f"{field_title(k)} section is missing; is this a sampling config?")
            for k in missing
        ]
    value_problems, cfg = _value_problems(data)
    bad = [p.path for p in value_problems]
    cross: list[Problem] = []
    if cfg is not None and not any(_related(path, f) for path in bad for f in _FOUNDATIONS):
        cross = [p for p in cfg.problems() if not any(_related(p.path, b) for b in bad)]
    problems = [_named(p, cfg) for p in value_problems + cross]
    if problems:
        return None, problems
    return cfg, []


def _value_problems(data: dict) -> tuple[list[Problem], SamplingConfig | None]:
    """Problems of single values, and a config with each bad value replaced by its default."""
    lenient = copy.deepcopy(data)
    problems: list[Problem] = []
    for _ in range(_MAX_PASSES):
        try:
            return problems, SamplingConfig.model_validate(lenient)
        except ValidationError as exc:
            errors = exc.errors()
        problems += [_from_pydantic(err) for err in errors]
        if not all(_set_aside(lenient, err["loc"]) for err in errors):
            break
    return problems, None


def _set_aside(data: dict, loc: tuple) -> bool:
    """Drop the value at `loc` (a whole list for a bad element) so its default applies."""
    keys = [k for k in loc if isinstance(k, str)]
    *parents, last = keys or [None]
    node: Any = data
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict) or last not in node:
        return False
    del node[last]
    return True


def _path(loc: tuple) -> str:
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc)
    return path.replace(".[", "[")


def _from_pydantic(err: dict) -> Problem:
    path = _path(err["loc"])
    wording = _WORDING.get(err["type"])
    if wording is not None:
        try:
            ctx = {k: _plain(v) for k, v in err.get("ctx", {}).items()}
            message = wording.format(**ctx)
        except (KeyError, IndexError):
            message = wording.split(" {")[0]
    else:
        message = re.sub(r"^(Input|Value) should", "must", err["msg"])
        message = re.sub(r"^Value error, ", "", message)
    if err["type"] != "missing" and "input" in err and not isinstance(err["input"], dict):
        message = f"{message} (got {_short(err['input'])})"
    return Problem(path, message)


def _plain(value: Any) -> Any:
    """0.0 -> '0', as a person writes a bound."""
    return format(value, "g") if isinstance(value, float) else value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _related(a: str, b: str) -> bool:
    """Whether path `a` is `b`, inside it, or holds it ('x.y' vs 'x.y[2]')."""
    a, b = re.sub(r"\[\d+\]", "", a), re.sub(r"\[\d+\]", "", b)
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _named(problem: Problem, cfg: SamplingConfig | None) -> Problem:
    """`problem` with its message led by the field's title (and which electrode)."""
    if not problem.path or problem.message.startswith(field_title(problem.path)):
        return problem
    title = field_title(problem.path)
    where = _which(problem.path, cfg)
    subject = f"{title} of {where}" if where else title
    message = _titles_for_keys(problem.message)
    first = message.split(" ", 1)[0]
    joiner = " " if first in _VERBS else ": "
    return Problem(problem.path, f"{subject}{joiner}{message}")


def _titles_for_keys(message: str) -> str:
    """Field keys mentioned in a message ('activation_electrode_no') by their titles."""
    titles = known_keys()

    def title(match: re.Match) -> str:
        key = match.group(0)
        found = titles.get(key)
        if found is None:
            return key
        return found if found[:2].isupper() else found[0].lower() + found[1:]

    return re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", title, message)


def _which(path: str, cfg: SamplingConfig | None) -> str:
    """'Input 2', 'Output 0' or '' for a list element's path, as the GUI names channels."""
    match = re.search(r"\.(\w+)\[(\d+)\]", path)
    if match is None:
        return ""
    key, i = match.group(1), int(match.group(2))
    if key in _WAVE_LISTS:
        return f"Input {i}"
    if key in ("amplification", "readout_channels"):
        return f"Output {i}"
    if key in _WIRING_LISTS:
        return _wiring_name(path, i, cfg)
    return f"entry {i + 1}"


def _wiring_name(path: str, i: int, cfg: SamplingConfig | None) -> str:
    """The electrode a wiring row drives: 'Input k' when on, else its AO channel."""
    if cfg is None:
        return f"channel {i + 1}"
    setup = cfg.driver.instruments_setup
    block_name = "device"
    if setup.multiple_devices:
        match = re.search(r"instruments_setup\.(?:devices\.)?([^.\[]+)\.", path)
        block_name = match.group(1) if match else ""
    k = 0
    for name, block in setup.blocks().items():
        mask = block.mask()
        if name == block_name:
            if i >= len(block.activation_channels):
                return f"channel {i + 1}"
            if i < len(mask) and not mask[i]:
                return f"AO channel {block.activation_channels[i]} (off)"
            return f"Input {k + sum(mask[:i])}"
        k += sum(mask[: len(block.activation_channels)])
    return f"channel {i + 1}"
