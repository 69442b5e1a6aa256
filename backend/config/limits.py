"""Bounds a config must keep, whoever wrote it: voltages, names, shapes and sizes.

A config may come from another lab or an attacker, so beyond the per-field
types (`backend.config.schema`) it is bounded here, each bound with its
reason in the message:

- no activation sample exceeds `GLOBAL_VOLTAGE_LIMIT`, whatever the ranges say;
  `ADC_LIMIT_V` is where the readout saturates;
- `data_name` is a plain file-name stem: the recording is created inside the
  output folder under that name, so it may not climb out of it (separators,
  `..`), be cut short by the file system (NUL), be unportable (control
  characters, lone surrogates, Windows' reserved names and characters), or
  be too long for a file name once the time stamp is added.
- the raw mapping is a sane shape (nesting, size, text) before anything
  walks it recursively;
- one batch must fit in memory, and a whole session must be a sane size,
  so a typo (`batch_time: 1e9`, `number_batches: 10**30`) is refused before
  any file is created.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.errors import Problem

#: No activation sample may exceed this magnitude (V), whatever the config says.
GLOBAL_VOLTAGE_LIMIT = 1.6
#: The ADC saturates at this input (V); times the amplification it bounds the output (nA).
ADC_LIMIT_V = 4.0
#: Characters of a data_name (the recording adds `_YYYY_MM_DD_HHMMSS.h5` to it).
MAX_NAME_CHARS = 100
#: Nesting of a config mapping; ours nest 4 levels, bspysmg's 5.
MAX_DEPTH = 32
#: Values in a config mapping (all lists and sections together); ours hold ~60.
MAX_VALUES = 100_000
#: Bytes one batch may need: it is held several times over (inputs, raw readout,
#: averaged outputs, the writer's copy) while it is sampled.
MAX_BATCH_BYTES = 256 << 20
# Channels per direction: a cDAQ chassis full of 32-channel modules stays far below.
MAX_CHANNELS = 1024
#: Rows of a whole session: 10^10 rows at 5 kHz is 23 days, ~640 GB with 8 channels.
MAX_SESSION_ROWS = 10**10
#: A wave frequency, phase or a frequency factor beyond this is a typo, not a setting.
MAX_WAVE_VALUE = 1e9
#: Sampling rates beyond this are no DAQ's (NI's fastest modules run a few MHz).
MAX_RATE_HZ = 10_000_000
#: Durations (batch, ramp) beyond a day are typos; the batch memory bound is usually lower.
MAX_DURATION_S = 86_400.0

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{base}{n}" for base in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]
}
_WINDOWS_FORBIDDEN = set('<>:"|?*')
_SURROGATE = re.compile("[\ud800-\udfff]")


def saturation_current(amplification: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """Per output, the current (nA, a magnitude) at which the readout ADC saturates.

    `ADC_LIMIT_V` times |amplification|: a reading at it is the ADC's last code,
    not the device's current. The one formula behind the live saturation
    counts, the default clipping's limits, the self-test and model predictions.
    """
    return ADC_LIMIT_V * np.abs(np.atleast_1d(np.asarray(amplification, dtype=float)))


def name_problem(name: str) -> str | None:
    """Why `name` is not a plain file-name stem, or None when it is one."""
    if not name:
        return "must not be empty; it starts the recording's file name"
    if _SURROGATE.search(name):
        return "holds a lone surrogate (broken Unicode text); retype the name"
    if "\0" in name:
        return "holds a NUL character, which would cut the file name short"
    if "/" in name or "\\" in name:
        return "must be a plain name without / or \\: the recording goes into the output folder"
    if name in (".", "..") or ".." in name:
        return "must not contain '..': the recording goes into the output folder"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "holds a control character (e.g. a line break or tab)"
    bad = sorted(_WINDOWS_FORBIDDEN.intersection(name))
    if bad:
        return f"holds {' '.join(bad)}, not allowed in file names on Windows"
    if name[-1] in " .":
        return "must not end with a space or a dot (Windows drops them from file names)"
    if name.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        return f"must not be {name.split('.')[0]!r}, a reserved device name on Windows"
    if len(name) > MAX_NAME_CHARS:
        return f"is {len(name)} characters; at most {MAX_NAME_CHARS} (it starts a file name)"
    return None


def shape_problems(data: Any) -> list[Problem]:
    """Problems of the raw mapping's shape: nesting, size, broken text (walked iteratively)."""
    found: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    seen = 0
    while stack:
        value, path, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            return [Problem("", f"holds more than {MAX_VALUES:,} values; a config has ~100")]
        if depth > MAX_DEPTH:
            return [Problem(path, f"is nested deeper than {MAX_DEPTH} levels; a config nests ~5")]
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    found.append(Problem(path, f"has a key that is not text ({key!r})"))
                    continue
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, (list, tuple)):
            stack += [(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
        elif isinstance(value, str) and _SURROGATE.search(value):
            found.append(Problem(path, "holds a lone surrogate (broken Unicode text)"))
    return found


def duration_problem(seconds: float) -> str | None:
    """Why a batch or ramp duration is too long to be meant, or None."""
    if seconds > MAX_DURATION_S:
        return (
            f"must be at most {MAX_DURATION_S:g} s (a day): a batch and its ramps are "
            "held in memory, so a batch must fit in memory"
        )
    return None


def finite_problem(values: list[float], limit: float = MAX_WAVE_VALUE) -> str | None:
    """Why a wave list is unusable (NaN, infinite or absurd entries), or None."""
    for i, v in enumerate(values):
        try:
            number = float(v)
        except OverflowError:  # an int beyond float range
            number = math.inf
        if math.isnan(number) or (math.isinf(number) and isinstance(v, float)):
            return f"must hold finite numbers only (entry {i + 1} is {v})"
        if abs(number) > limit:
            return f"must hold numbers within +-{limit:g} (entry {i + 1} is {number:g})"
    return None


def size_problems(
    points: tuple[int, int], n_in: int, n_out: int, io_difference: int, number_batches: int
) -> list[Problem]:
    """A batch (with its two ramps) that would not fit in memory, a session of absurd size."""
    batch_points, ramp_points = points
    out: list[Problem] = []
    per_row = 8 * (n_in + n_out * (io_difference + 1))
    batch_bytes = (batch_points + 2 * ramp_points) * per_row
    if batch_bytes > MAX_BATCH_BYTES:
        field = "batch_time" if batch_points >= ramp_points else "ramp_time"
        out.append(
            Problem(
                f"input_data.{field}",
                f"gives {batch_points:,} rows per batch and {ramp_points:,} per ramp, "
                f"{_size(batch_bytes)} in memory; a batch must fit in memory (at most "
                f"{_size(MAX_BATCH_BYTES)}): use shorter batches and more of them",
            )
        )
    rows = batch_points * number_batches
    if rows > MAX_SESSION_ROWS:
        out.append(
            Problem(
                "input_data.number_batches",
                f"{_count(number_batches)} batches x {batch_points:,} rows = {_count(rows)} "
                f"rows; a session is at most {MAX_SESSION_ROWS:.0e} rows "
                f"({_size(MAX_SESSION_ROWS * 64)} on disk with 8 channels): split it into "
                "several sessions",
            )
        )
    return out


def _count(n: int) -> str:
    """A count of any size, readably: '12,000', '1e+30', '~10^600' (float formats overflow)."""
    n = int(n)
    if abs(n) < 10**15:
        return f"{n:,}"
    if abs(n) < 10**300:
        return f"{n:.3g}"
    return f"~10^{len(str(abs(n))) - 1}"


def _size(n: int) -> str:
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            whole = n // scale
            return f"{n / scale:.3g} {unit}" if whole < 10**15 else f"{_count(whole)} {unit}"
    return f"{n} bytes"
