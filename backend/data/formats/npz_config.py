"""The sampling config stored in an npz: our JSON member, or the peer's pickle with trust.

bspysmg stores its config as a pickled object (`sampling_configs`), and
unpickling a file from someone else can run arbitrary code; files samplelab
writes also carry `sampling_configs_json`, read without pickle. Either way the
config is checked for the shape every reader of it indexes into.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from backend.config.limits import shape_problems
from backend.data.formats.npz_write import JSON_CONFIG_KEY, PEER_CONFIG_KEY, config_from_json
from backend.data.formats.npzfile import (
    MEMBER_ERRORS,
    load_npz_file,
    load_pickled_member,
    npz_array_info,
    npz_keys,
)
from backend.errors import FileFormatError

#: Text of a JSON config member; ours are a few KB.
MAX_JSON_CONFIG_CHARS = 1 << 20


def read_npz_config(path: str | os.PathLike, trust_pickle: bool = False) -> dict:
    """The sampling config: from our JSON key if present, else the peer's pickle (opt-in)."""
    path = Path(path)
    keys = npz_keys(path)
    if JSON_CONFIG_KEY in keys:
        return _checked_config(path, _json_config(path))
    if PEER_CONFIG_KEY not in keys:
        raise FileFormatError(
            f"{path} holds no sampling config (no {PEER_CONFIG_KEY!r})",
            "Only inputs/outputs can be read from it.",
        )
    config = load_pickled_member(
        path,
        PEER_CONFIG_KEY,
        trust_pickle,
        f"{path} stores its sampling config as a Python pickle, and loading a pickle can run "
        "any code hidden in the file, so it was not loaded (its inputs/outputs can be read "
        "without that)",
    )
    if not isinstance(config, dict):
        raise FileFormatError(f"{path}: {PEER_CONFIG_KEY} is a {type(config).__name__}, not a dict")
    return _checked_config(path, config)


def _json_config(path: Path) -> dict:
    """Our JSON copy of the config: a text member, never unpickled, of bounded size."""
    shape, dtype = npz_array_info(path, JSON_CONFIG_KEY)
    if dtype.kind not in "US" or shape != ():
        raise FileFormatError(
            f"{path}: {JSON_CONFIG_KEY} is a {dtype} array of shape {shape}, not JSON text; "
            "it was not loaded (an object array is a pickle, which is never read here)",
            "Export the dataset again with samplelab, or read its inputs/outputs only.",
        )
    if dtype.itemsize > 4 * MAX_JSON_CONFIG_CHARS:
        raise FileFormatError(
            f"{path}: {JSON_CONFIG_KEY} is {dtype.itemsize:,} bytes; not a config"
        )
    with load_npz_file(path) as data:
        try:
            text = str(data[JSON_CONFIG_KEY])
        except MEMBER_ERRORS as exc:
            raise FileFormatError(f"{path}: {JSON_CONFIG_KEY} is not readable ({exc})") from None
    try:
        return config_from_json(text)
    except (ValueError, TypeError, RecursionError) as exc:
        raise FileFormatError(f"{path}: {JSON_CONFIG_KEY} is not valid JSON ({exc})") from None


def _checked_config(path: Path, config: dict) -> dict:
    """A stored config whose sections are what every reader of it indexes into.

    Wrong types (`"driver": 5`) would surface far away as a TypeError; here
    they are one message naming the key.
    """
    problems = [str(p) for p in shape_problems(config)]
    for key in ("driver", "input_data", "electrode_info"):
        if key in config and not isinstance(config[key], dict):
            problems.append(f"{key} is a {type(config[key]).__name__}, not a section (mapping)")
    driver = config.get("driver")
    if isinstance(driver, dict):
        setup = driver.get("instruments_setup")
        if setup is not None and not isinstance(setup, dict):
            problems.append("driver.instruments_setup is not a section (mapping)")
        amp = driver.get("amplification")
        try:
            values = np.asarray(amp if amp is not None else [], dtype=np.float64)
        except (TypeError, ValueError):
            values = None
        if values is None or values.ndim > 1:
            problems.append(f"driver.amplification is {amp!r:.60}, not a number or list of numbers")
    if problems:
        raise FileFormatError(
            f"{path}: its stored sampling config is malformed: {'; '.join(problems[:5])}",
            "The file was altered or written by another tool; its inputs/outputs may still "
            "be read, without the config.",
        )
    return config
