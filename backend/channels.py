"""`ChannelLayout`: the names, units and roles of a table's channels, stated once.

A sampling table holds the input electrodes (volts) then the output readouts
(nanoamperes). Recordings, bspysmg files, live buffers, device streams and exports
all describe their channels with one layout instead of building name and unit lists
by hand, and code that needs the inputs or the outputs asks the layout's roles
instead of guessing them from the units.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.jobs import CancelToken, JobControl, ProgressFn

INPUT_UNIT = "V"
OUTPUT_UNIT = "nA"
INPUT, OUTPUT, OTHER = "input", "output", "other"
ROLES = (INPUT, OUTPUT, OTHER)


@dataclass(frozen=True)
class ChannelLayout:
    """One entry per channel: its name, its unit and its role (input, output or other)."""

    names: tuple[str, ...]
    units: tuple[str, ...]
    roles: tuple[str, ...]

    def __post_init__(self) -> None:
        if not len(self.names) == len(self.units) == len(self.roles):
            raise ValueError("a channel layout needs one name, unit and role per channel")
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown channel roles {sorted(unknown)}; use {ROLES}")

    @classmethod
    def sampling(cls, input_names: Sequence[str], output_names: Sequence[str]) -> ChannelLayout:
        """Inputs (V) then outputs (nA): every sampling table's channels."""
        n_in, n_out = len(input_names), len(output_names)
        return cls(
            tuple(map(str, [*input_names, *output_names])),
            (INPUT_UNIT,) * n_in + (OUTPUT_UNIT,) * n_out,
            (INPUT,) * n_in + (OUTPUT,) * n_out,
        )

    @classmethod
    def of_config(cls, config: Any) -> ChannelLayout:
        """The channels a `SamplingConfig` samples, named as the config names them."""
        return cls.sampling(config.input_names(), config.output_names())

    @classmethod
    def peer(cls, n_inputs: int, n_outputs: int) -> ChannelLayout:
        """brainspy-smg's columns: `Input i` in V, then `Output j` in nA."""
        return cls.sampling(
            [f"Input {i}" for i in range(n_inputs)], [f"Output {j}" for j in range(n_outputs)]
        )

    @classmethod
    def plain(cls, names: Sequence[str], units: Sequence[str] | None = None) -> ChannelLayout:
        """Channels whose roles nobody stated (a csv table, a bare array)."""
        names = tuple(map(str, names))
        units = tuple(map(str, units)) if units is not None else ("",) * len(names)
        return cls(names, units, (OTHER,) * len(names))

    def __len__(self) -> int:
        return len(self.names)

    def __add__(self, other: ChannelLayout) -> ChannelLayout:
        return ChannelLayout(
            self.names + other.names, self.units + other.units, self.roles + other.roles
        )

    def _having(self, role: str) -> list[int]:
        return [i for i, r in enumerate(self.roles) if r == role]

    @property
    def inputs(self) -> list[int]:
        """Positions of the input channels."""
        return self._having(INPUT)

    @property
    def outputs(self) -> list[int]:
        """Positions of the output channels."""
        return self._having(OUTPUT)

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def take(self, positions: Iterable[int]) -> ChannelLayout:
        """The layout of some channels, in the order given."""
        idx = [int(i) for i in positions]
        return ChannelLayout(
            tuple(self.names[i] for i in idx),
            tuple(self.units[i] for i in idx),
            tuple(self.roles[i] for i in idx),
        )

    def part(self, which: str) -> ChannelLayout:
        """'all', 'inputs' or 'outputs'."""
        if which == "all":
            return self
        if which not in ("inputs", "outputs"):
            raise ValueError(f"part must be 'all', 'inputs' or 'outputs', not {which!r}")
        return self.take(self.inputs if which == "inputs" else self.outputs)


def channel_ranges(
    blocks: Iterator[tuple[int, np.ndarray]],
    n_channels: int,
    rows: int,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (min, max) over (first_row, block) chunks: the one NaN rule.

    NaN is skipped (a dropped sample must not hide the range of the rest);
    a channel with no value at all (no rows, only NaN, or not numeric) gets
    NaN; infinities count, since they are what the file holds. Every reader
    (`Reader.channel_ranges`, `Recording.channel_ranges`) folds through here.
    A job: reports ("ranges", rows done, rows) after each chunk.
    """
    control = JobControl(progress, cancel)
    lo = np.full(n_channels, np.inf)
    hi = np.full(n_channels, -np.inf)
    for first, block in blocks:
        if len(block) and block.dtype.kind in "biuf":  # fmin/fmax skip NaN quietly
            lo = np.fmin(lo, np.fmin.reduce(block, axis=0))
            hi = np.fmax(hi, np.fmax.reduce(block, axis=0))
        control.report("ranges", first + len(block), rows)
    unseen = lo > hi  # empty, or only NaN
    lo[unseen] = hi[unseen] = np.nan
    return lo, hi
