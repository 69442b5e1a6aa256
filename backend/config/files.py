"""Reading and writing sampling configs: our YAML and bspysmg `sampler_configs.json`.

Both are the same layout; bspysmg's carries numpy tags for amplitude/offset.
Loading goes through the safe loader and ends in a validated `SamplingConfig`
or one `ConfigError` that lists every bad field.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel

from backend.config.fields import field_meta
from backend.config.problems import config_problems
from backend.config.schema import DeviceBlock, SamplingConfig
from backend.config.yamlsafe import (
    RefusedTagError,
    YamlLimitError,
    dump_bspysmg_yaml,
    read_yaml_file,
)
from backend.errors import ConfigError, ConfigFileError, FileFormatError, Problem
from backend.files import write_text_atomic

BSPYSMG_CONFIG_NAME = "sampler_configs.json"
log = logging.getLogger(__name__)


def parse_config(data: Any, source: str = "") -> SamplingConfig:
    """Validate a dict into a config, or raise one ConfigError naming each bad field."""
    cfg, problems = config_problems(data)
    if problems or cfg is None:
        raise ConfigError(problems, source)
    return cfg


def read_config_dict(path: str | os.PathLike) -> dict:
    """The raw mapping of a config file, parsed safely and within bounds (numpy tags allowed)."""
    path = Path(path)
    if path.is_dir() and (path / BSPYSMG_CONFIG_NAME).is_file():
        path = path / BSPYSMG_CONFIG_NAME
    if not os.path.lexists(path):
        raise ConfigFileError(f"file not found: {path}", str(path))
    try:
        data = read_yaml_file(path, "config file")
    except FileFormatError as exc:  # missing, a FIFO/device/folder, too large
        raise ConfigFileError(exc.message, str(path), exc.hint) from None
    except RefusedTagError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise ConfigError([Problem(f"line {line}", exc.problem)], str(path)) from None
    except YamlLimitError as exc:
        where = f"line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise ConfigError([Problem(where, exc.problem)], str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        why = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(where, f"not valid YAML: {why}")], str(path)) from None
    except (UnicodeDecodeError, ValueError):  # ValueError: NUL or other unprintable text
        raise ConfigError([Problem("", "not a text file")], str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError(
            [Problem("", "the file does not hold a config mapping")], str(path)
        ) from None
    return data


def load_config(path: str | os.PathLike) -> SamplingConfig:
    """Load our YAML or a bspysmg `sampler_configs.json` (file or its folder).

    Defaults applied for fields the file leaves out are logged (one warning),
    so a missing `batch_time` never silently becomes 0.5 s.
    """
    cfg = parse_config(read_config_dict(path), str(path))
    applied = defaults_applied(cfg)
    if applied:
        log.warning("%s does not give %s; defaults used", path, ", ".join(applied))
    return cfg


def defaults_applied(cfg: SamplingConfig) -> list[str]:
    """'Batch time = 0.5 s' for every field the config's source left out (None defaults aside)."""
    out: list[str] = []
    sections: list[tuple[str, BaseModel]] = [("", cfg)]
    while sections:
        prefix, model = sections.pop(0)
        skip = {"devices"} | (
            set(DeviceBlock.model_fields) if getattr(model, "multiple_devices", 0) else set()
        )
        for name in type(model).model_fields:
            value, path = getattr(model, name), f"{prefix}{name}"
            if name in skip or value is None:
                continue
            if isinstance(value, BaseModel) and name in model.model_fields_set:
                sections.append((path + ".", value))
            elif name not in model.model_fields_set:
                meta = field_meta(path)
                shown = "(the default section)" if isinstance(value, BaseModel) else f"{value}"
                unit = f" {meta.unit}" if meta.unit and not isinstance(value, list) else ""
                out.append(f"{meta.title} = {shown}{unit}")
    return out


class _ReadableDumper(yaml.SafeDumper):
    """Block-style mappings; short lists of scalars on one line, like `[2, 3, 5]`."""


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flat = all(not isinstance(v, (list, tuple, dict)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_ReadableDumper.add_representer(list, _represent_list)


def config_to_yaml(cfg: SamplingConfig) -> str:
    """Our YAML flavour: plain values only, keys in the bspysmg order."""
    return yaml.dump(cfg.to_bspysmg(), Dumper=_ReadableDumper, sort_keys=False)


def bspysmg_config_dict(cfg: SamplingConfig, save_directory: str | None = None) -> dict:
    """The dict bspysmg's Sampler saves: amplitude/offset resolved as numpy arrays."""
    data = cfg.to_bspysmg()
    data["input_data"]["amplitude"] = np.asarray(cfg.amplitude(), dtype=np.float64)
    data["input_data"]["offset"] = np.asarray(cfg.offset(), dtype=np.float64)
    if save_directory is not None:
        data["save_directory"] = save_directory
    return data


def config_to_bspysmg_yaml(cfg: SamplingConfig, save_directory: str | None = None) -> str:
    """Text identical in layout to the peer's `sampler_configs.json`."""
    return dump_bspysmg_yaml(bspysmg_config_dict(cfg, save_directory))


def save_config(cfg: SamplingConfig, path: str | os.PathLike, flavour: str = "samplelab") -> Path:
    """Write a config; flavour 'bspysmg' writes the peer's numpy-tagged YAML."""
    path = Path(path)
    if flavour == "bspysmg":
        text = config_to_bspysmg_yaml(cfg)
    elif flavour == "samplelab":
        text = config_to_yaml(cfg)
    else:
        raise ValueError(f"unknown config flavour {flavour!r}")
    return write_text_atomic(path, text)
