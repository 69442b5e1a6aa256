"""Reading and writing sampling configs: our YAML and bspysmg `sampler_configs.json`.

Both are the same layout; bspysmg's carries numpy tags for amplitude/offset.
Loading goes through the safe loader and ends in a validated `SamplingConfig`
or one `ConfigError` that lists every bad field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from backend.config.problems import config_problems
from backend.config.schema import SamplingConfig
from backend.config.yamlsafe import RefusedTagError, dump_bspysmg_yaml, load_yaml
from backend.errors import ConfigError, Problem

BSPYSMG_CONFIG_NAME = "sampler_configs.json"


def parse_config(data: Any, source: str = "") -> SamplingConfig:
    """Validate a dict into a config, or raise one ConfigError naming each bad field."""
    cfg, problems = config_problems(data)
    if problems or cfg is None:
        raise ConfigError(problems, source)
    return cfg


def read_config_dict(path: str | os.PathLike) -> dict:
    """The raw mapping of a config file, parsed safely (numpy tags allowed)."""
    path = Path(path)
    if path.is_dir() and (path / BSPYSMG_CONFIG_NAME).is_file():
        path = path / BSPYSMG_CONFIG_NAME
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem("", f"file not found: {path}")], str(path)) from None
    except OSError as exc:
        raise ConfigError([Problem("", f"cannot read {path}: {exc.strerror}")], str(path)) from None
    try:
        data = load_yaml(text)
    except RefusedTagError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise ConfigError([Problem(f"line {line}", exc.problem)], str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        why = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(where, f"not valid YAML: {why}")], str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem("", "not a text file")], str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError(
            [Problem("", "the file does not hold a config mapping")], str(path)
        ) from None
    return data


def load_config(path: str | os.PathLike) -> SamplingConfig:
    """Load our YAML or a bspysmg `sampler_configs.json` (file or its folder)."""
    return parse_config(read_config_dict(path), str(path))


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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
