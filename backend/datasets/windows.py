"""Samples with time context, and several recordings (sessions) as one dataset.

`Offset(left, right)` is the window around an index i: rows
[i - left, i + right), `right` counting i itself (so `Offset(0, 1)` is just
row i). At the edges the window is clamped: rows before the first repeat the
first row, rows after the last repeat the last, so every index has a full
window and the dataset has one item per row.

A `WindowedDataset` batch (an index array, or `__getitems__`) reads the span
its windows cover once. `DatasetCollection` chains sessions whose channel
counts may differ; a batch is read per session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from backend.data.kinds import open_reader
from backend.data.reader import ArrayReader, Reader
from backend.errors import SamplelabError

#: Spans up to this many rows are read whole; beyond, only the rows the windows need.
SPAN_ROWS = 1 << 16


@dataclass(frozen=True)
class Offset:
    """Rows to the left of an index, and to the right including the index itself."""

    left: int = 0
    right: int = 1

    def __post_init__(self) -> None:
        if self.left < 0 or self.right < 1:
            raise SamplelabError(
                f"an Offset needs left >= 0 and right >= 1 (right counts the index itself), "
                f"got left={self.left}, right={self.right}"
            )

    def __len__(self) -> int:
        return self.left + self.right


def expand_index(index: Any, offset: Offset, n: int) -> np.ndarray:
    """(len(index), len(offset)) rows: index[i] + j - left, clamped into [0, n)."""
    idx = np.asarray(index, dtype=np.int64).reshape(-1, 1)
    return np.clip(idx + np.arange(-offset.left, offset.right), 0, n - 1)


def _reader(source: Any, open_options: dict) -> Reader:
    if isinstance(source, Reader):
        return source
    if isinstance(source, (np.ndarray, torch.Tensor)):
        return ArrayReader(np.asarray(source))
    return open_reader(os.fspath(source), **open_options)


class WindowedDataset(Dataset):
    """Item i = (window of `inputs` around row i, `targets` at row i), or the window alone."""

    def __init__(
        self,
        source: str | os.PathLike | Reader | np.ndarray,
        offset: Offset,
        inputs: Any = None,
        targets: Any = None,
        *,
        dtype: torch.dtype | None = None,
        **open_options: Any,
    ) -> None:
        self.reader = _reader(source, open_options)
        if not self.reader.n_rows:
            raise SamplelabError(f"{self.reader.path or 'the data'} holds no rows to window")
        self.offset = offset
        self.inputs = self.reader.channel_index(inputs)
        self.targets = None if targets is None else self.reader.channel_index(targets)
        self.dtype = dtype or torch.get_default_dtype()

    def __len__(self) -> int:
        return self.reader.n_rows

    @property
    def input_dimension(self) -> int:
        return len(self.inputs)

    def batch(self, index: Any) -> Any:
        """Windows (B, len(offset), n_inputs) [and targets (B, n_targets)] from one read."""
        idx = np.asarray(index, dtype=np.int64).ravel()
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index out of range for a dataset of {n} rows")
        idx = np.where(idx < 0, idx + n, idx)
        rows = expand_index(idx, self.offset, n)
        channels = (
            self.inputs if self.targets is None else np.concatenate([self.inputs, self.targets])
        )
        needed = np.unique(rows)
        if not len(needed):
            table, where = np.empty((0, len(channels))), rows
        elif needed[-1] - needed[0] < max(4 * len(needed), SPAN_ROWS):
            table = self.reader.read(int(needed[0]), int(needed[-1]) + 1, channels)
            where = rows - needed[0]  # one read of the covered span
        else:  # windows scattered over a long file: read only their rows
            table = self.reader.take(needed, channels)
            where = np.searchsorted(needed, rows)
        k = len(self.inputs)
        windows = torch.as_tensor(table[where][:, :, :k], dtype=self.dtype)
        if self.targets is None:
            return windows
        centre = where[:, self.offset.left] if len(where) else where[:, :0].ravel()
        return windows, torch.as_tensor(table[centre][:, k:], dtype=self.dtype)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            out = self.batch([int(index)])
            return out[0] if self.targets is None else (out[0][0], out[1][0])
        return self.batch(index)

    def __getitems__(self, indices: list[int]) -> list:
        out = self.batch(indices)
        if self.targets is None:
            return list(out.unbind(0))
        return list(zip(out[0].unbind(0), out[1].unbind(0)))


class DatasetCollection(Dataset):
    """Several datasets (sessions) indexed one after another; order is kept."""

    def __init__(self, *datasets: Dataset) -> None:
        if not datasets:
            raise SamplelabError("a DatasetCollection needs at least one dataset")
        self.datasets = list(datasets)
        self.cumulative = np.cumsum([0, *(len(d) for d in self.datasets)])

    @property
    def num_sessions(self) -> int:
        return len(self.datasets)

    def get_session(self, session_id: int) -> Dataset:
        return self.datasets[session_id]

    def get_input_dimension(self, session_id: int) -> int:
        ds = self.datasets[session_id]
        dim = getattr(ds, "input_dimension", None)
        if dim is not None:
            return int(dim)
        sample = ds[0]
        first = sample[0] if isinstance(sample, tuple) else sample
        return int(first.shape[-1])

    def __len__(self) -> int:
        return int(self.cumulative[-1])

    def locate(self, index: Any) -> tuple[np.ndarray, np.ndarray]:
        """(session, index within the session) of global indices."""
        idx = np.asarray(index, dtype=np.int64)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index out of range for a collection of {n} rows")
        idx = np.where(idx < 0, idx + n, idx)
        session = np.searchsorted(self.cumulative, idx, side="right") - 1
        return session, idx - self.cumulative[session]

    def __getitem__(self, index: int) -> Any:
        session, local = self.locate(int(index))
        return self.datasets[int(session)][int(local)]

    def __getitems__(self, indices: list[int]) -> list:
        """Samples in the order asked, each session's share fetched as one batch."""
        session, local = self.locate(indices)
        out: list = [None] * len(session)
        for s in np.unique(session):
            where = np.flatnonzero(session == s)
            ds = self.datasets[int(s)]
            getter = getattr(ds, "__getitems__", None)
            items = getter(local[where].tolist()) if getter else [ds[int(i)] for i in local[where]]
            for k, item in zip(where, items):
                out[k] = item
        return out
