"""Merging recordings into one dataset: what must agree, and the sources read as one.

`--merge B C` appends the rows of B and C to those of the first source; the
result is processed as one recording (docs/postprocessing.md). Rows of two
recordings mean the same only when the setup agrees (`_MUST_MATCH`); wave
shapes, frequencies and phases only change coverage and may differ.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from backend.data.reader import Reader
from backend.data.sampling_source import SamplingSource
from backend.errors import FileFormatError, SamplelabError


class MergeError(SamplelabError):
    """Recordings that cannot be combined into one dataset; the message says why."""


#: What must agree for rows of two recordings to form one dataset, and why.
_MUST_MATCH = (
    ("inputs", lambda c: c.n_inputs, "activation electrode count"),
    ("outputs", lambda c: c.n_outputs, "readout electrode count"),
    ("activation channels", lambda c: list(c.layout().activation_channels), "DAQ wiring"),
    ("readout channels", lambda c: list(c.layout().readout_channels), "DAQ wiring"),
    ("amplification", lambda c: list(c.driver.amplification), "output scale (nA per V)"),
    ("inverted_output", lambda c: c.driver.inverted_output, "output sign"),
    ("activation_sampling_frequency", lambda c: c.fs, "rate"),
    (
        "readout_sampling_frequency",
        lambda c: c.driver.instruments_setup.readout_sampling_frequency,
        "averaging per point",
    ),
    ("batch_points", lambda c: c.batch_points, "batch length"),
    ("voltage ranges", lambda c: c.voltage_ranges().tolist(), "input ranges"),
    ("amplitude", lambda c: np.round(c.amplitude(), 12).tolist(), "wave ranges (electrode_info)"),
    ("offset", lambda c: np.round(c.offset(), 12).tolist(), "wave ranges (electrode_info)"),
)
#: May differ between merged sources: they change coverage, not what a row means.
MAY_DIFFER = (
    "input_distribution (sine/sawtooth)",
    "input_frequency",
    "phase",
    "random_phase_shift_each",
    "number_batches",
    "ramp_time",
    "data_name / save_directory",
)
#: Config keys that become "mixed" when the sources differ (the peer's merge convention).
_MIXED_KEYS = ("input_distribution", "input_frequency", "phase", "random_phase_shift_each",
               "ramp_time")  # fmt: skip


def merge_problems(sources: Sequence[SamplingSource]) -> list[str]:
    """Why each source cannot join the first; empty when all can be merged."""
    problems = []
    first = sources[0]
    for other in sources[1:]:
        for name, get, why in _MUST_MATCH:
            a, b = get(first.config), get(other.config)
            if a != b:
                problems.append(
                    f"{other.path}: {name} is {b}, but {a} in {first.path} ({why} must agree)"
                )
    return problems


def check_mergeable(sources: Sequence[SamplingSource]) -> None:
    problems = merge_problems(sources)
    if problems:
        raise MergeError(
            "these recordings cannot be merged into one dataset:\n"
            + "\n".join(f"  - {p}" for p in problems),
            "Merge only recordings of the same device and setup; wave shape, frequencies "
            "and phases may differ.",
        )


class ConcatReader(Reader):
    """The rows of several readers with the same channels, one after the other.

    A read that spans two parts is two reads joined.
    """

    kind = "concat"

    def __init__(self, parts: Sequence[Reader]) -> None:
        first = parts[0]
        for part in parts[1:]:
            if part.n_channels != first.n_channels:
                raise FileFormatError(
                    f"{part.path} has {part.n_channels} channels but {first.path} has "
                    f"{first.n_channels}; only tables of the same channels can be joined"
                )
        dtype = np.result_type(*(p.dtype for p in parts))
        n_rows = sum(p.n_rows for p in parts)
        super().__init__(n_rows, dtype, first.channel_names, first.units, first.fs, first.path)
        self.parts = list(parts)
        self.columns_read_alone = all(p.columns_read_alone for p in parts)
        self._starts = np.cumsum([0] + [p.n_rows for p in parts])

    def _pieces(self, start: int, stop: int) -> Iterator[tuple[Reader, int, int]]:
        for part, first in zip(self.parts, self._starts.tolist()):
            a, b = max(start, first), min(stop, first + part.n_rows)
            if a < b:
                yield part, a - first, b - first

    def _read(self, start: int, stop: int, cols: np.ndarray) -> np.ndarray:
        blocks = [p.read(a, b, cols) for p, a, b in self._pieces(start, stop)]
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks).astype(self.dtype)

    def read_column_groups(
        self, start: int, stop: int, widths: Sequence[int]
    ) -> tuple[np.ndarray, ...]:
        if not self._unselected():
            return super().read_column_groups(start, stop, widths)
        pieces = [p.read_column_groups(a, b, widths) for p, a, b in self._pieces(start, stop)]
        if not pieces:
            return tuple(np.empty((0, w), dtype=self.dtype) for w in widths)
        if len(pieces) == 1:
            return pieces[0]
        return tuple(np.concatenate(group) for group in zip(*pieces))

    def close(self) -> None:
        for part in self.parts:
            part.close()


class MergedSource(SamplingSource):
    """Several compatible sources read one after the other as one table."""

    def __init__(self, sources: Sequence[SamplingSource]) -> None:
        if not sources:
            raise ValueError("nothing to merge")
        check_mergeable(sources)
        self.sources = list(sources)
        first = self.sources[0]
        super().__init__(
            first.path,
            ConcatReader([s.reader for s in self.sources]),
            first.config,
            batches_planned=sum(s.batches_planned for s in self.sources),
            note="; ".join(s.note for s in self.sources if s.note),
        )
        self.batches_done = sum(s.batches_done for s in self.sources)

    def peer_config(self) -> dict[str, Any]:
        """The first source's dict; keys that differ become 'mixed' (the peer's merge rule)."""
        configs = [s.peer_config() for s in self.sources]
        merged = configs[0]
        inputs = merged["input_data"]
        for key in _MIXED_KEYS:
            values = [c["input_data"].get(key) for c in configs]
            if any(_differs(values[0], v) for v in values[1:]):
                inputs[key] = "mixed"
        inputs["number_batches"] = self.batches_done
        merged["merged_from"] = [
            {"path": str(s.path), "rows": s.n_rows, "batches": s.batches_done} for s in self.sources
        ]
        return merged

    def close(self) -> None:
        for source in self.sources:
            source.close()


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return not np.array_equal(np.asarray(a), np.asarray(b))
    return a != b
