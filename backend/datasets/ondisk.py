"""Training straight from a recording on disk, larger than memory, one read per batch.

`RecordingDataset` reads (inputs, targets) rows lazily through the data
layer's readers (HDF5 slices, windowed memmaps, ...). Indexed with one int it
gives one sample; with an array of indices it gives a whole batch from ONE
read of the span they cover, and `__getitems__` (which torch's DataLoader
calls with a batch of indices) does the same, so a plain
`DataLoader(ds, batch_size=256)` costs one read per batch, not 256.

Random indices over a long file still cover a long span. `BlockBatchSampler`
makes shuffling cheap: it deals out buffers of `buffer_batches` batches of
contiguous rows in a random order and shuffles rows inside each buffer; the
dataset reads a buffer once and serves its batches from memory.
`recording_loader` wires the two together.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, get_worker_info

from backend.data.formats.bspysmg import config_facts
from backend.data.kinds import open_reader
from backend.data.reader import Reader
from backend.errors import SamplelabError

#: Largest span (rows) the dataset reads and keeps to serve several batches.
CACHE_ROWS = 1 << 16


def known_amplification(reader: Reader) -> np.ndarray | None:
    """The amplification the file's own config states, if it has one."""
    rec = getattr(reader, "recording", None)
    if rec is not None:
        return np.asarray(rec.config.amplification, dtype=np.float64)
    config = getattr(reader, "config", None)
    if isinstance(config, dict):
        value = config_facts(config)["amplification"]
        if value is not None:
            return np.atleast_1d(np.asarray(value, dtype=np.float64))
    return None


def _split_channels(reader: Reader, inputs: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    if inputs is None and targets is None:
        layout = reader.channel_layout
        if layout.inputs and layout.outputs:
            return np.array(layout.inputs), np.array(layout.outputs)
        raise SamplelabError(
            f"{reader.path or 'the data'}: cannot tell which channels are inputs and targets",
            f"Pass inputs=[...] and targets=[...] (channels: {', '.join(reader.channel_names)}).",
        )
    return reader.channel_index(inputs), reader.channel_index(targets)


class RecordingDataset(Dataset):
    """Rows of a file as (inputs, targets / amplification) tensors, read on demand.

    `inputs`/`targets` pick channels (default: the input and output channels
    of a recording or bspysmg file, as its `channel_layout` states them).
    `amplification="auto"` divides targets by the file's own amplification like
    `ModelDataset` (none if unknown);
    pass a number/list to choose, or None for raw targets. `indices` limits
    the dataset to some rows (e.g. one split), in the given order.
    """

    def __init__(
        self,
        source: str | os.PathLike | Reader,
        inputs: Any = None,
        targets: Any = None,
        *,
        amplification: Any = "auto",
        indices: np.ndarray | None = None,
        dtype: torch.dtype | None = None,
        cache_rows: int = CACHE_ROWS,
        **open_options: Any,
    ) -> None:
        if isinstance(source, Reader):
            self.reader = source
        else:
            self.reader = open_reader(source, **open_options)
        self.input_channels, self.target_channels = _split_channels(self.reader, inputs, targets)
        self._channels = np.concatenate([self.input_channels, self.target_channels])
        self._n_in = len(self.input_channels)
        if isinstance(amplification, str) and amplification == "auto":
            amplification = known_amplification(self.reader)
        self.amplification = (
            None if amplification is None else np.atleast_1d(np.asarray(amplification, float))
        )
        self.indices = None if indices is None else np.asarray(indices, dtype=np.int64)
        self.dtype = dtype or torch.get_default_dtype()
        self._np_dtype = torch.empty((), dtype=self.dtype).numpy().dtype
        self.cache_rows = int(cache_rows)
        self._cache: tuple[int, int, np.ndarray] | None = None

    def __len__(self) -> int:
        return self.reader.n_rows if self.indices is None else len(self.indices)

    def _positions(self, index: Any) -> np.ndarray:
        idx = np.asarray(index, dtype=np.int64).ravel()
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index out of range for a dataset of {n} rows")
        return np.where(idx < 0, idx + n, idx)

    def rows_of(self, index: Any) -> np.ndarray:
        """File rows of dataset indices."""
        idx = self._positions(index)
        return idx if self.indices is None else self.indices[idx]

    def _prepare(self, raw: np.ndarray) -> np.ndarray:
        """Inputs, then targets / amplification, in the tensors' dtype: once per read."""
        k = self._n_in
        out = np.empty(raw.shape, dtype=self._np_dtype)
        out[:, :k] = raw[:, :k]
        if self.amplification is None:
            out[:, k:] = raw[:, k:]
        else:  # divided in float64, then rounded once, as ModelDataset does
            np.divide(raw[:, k:], self.amplification, out=out[:, k:], casting="same_kind")
        return out

    def _read_positions(self, lo: int, hi: int) -> np.ndarray:
        if self.indices is None:
            return self._prepare(self.reader.read(lo, hi, self._channels))
        return self._prepare(self.reader.take(self.indices[lo:hi], self._channels))

    def _rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(prepared table, where idx's rows are in it), from the cached window or one read.

        A miss reads the aligned window of `cache_rows` dataset positions
        around the batch, so the next batches of that window (a sampler
        buffer, or the following batches of an ordered pass) cost no read.
        """
        if not len(idx):
            return np.empty((0, len(self._channels)), dtype=self._np_dtype), idx
        lo, hi = int(idx.min()), int(idx.max()) + 1
        cache = self._cache
        if cache is not None and lo >= cache[0] and hi <= cache[1]:
            return cache[2], idx - cache[0]
        w = self.cache_rows
        if w and hi - lo <= w:
            wlo = (lo // w) * w
            if hi > wlo + w:
                wlo = lo
            whi = min(len(self), wlo + w)
            self._cache = (wlo, whi, self._read_positions(wlo, whi))
            return self._cache[2], idx - wlo
        rows = idx if self.indices is None else self.indices[idx]
        return self._prepare(self.reader.take(rows, self._channels)), np.arange(len(idx))

    def batch(self, index: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs (B, n_in), targets (B, n_out)) for dataset indices, from one read."""
        table, where = self._rows(self._positions(index))
        k = self._n_in
        return torch.from_numpy(table[where, :k]), torch.from_numpy(table[where, k:])

    def __getitem__(self, index: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(index, (int, np.integer)):
            x, y = self.batch([int(index)])
            return x[0], y[0]
        if isinstance(index, slice):
            index = np.arange(len(self))[index]
        return self.batch(index)

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """A DataLoader batch as samples (so any collate works), from one read."""
        x, y = self.batch(indices)
        return list(zip(x.unbind(0), y.unbind(0)))

    def subset(self, indices: np.ndarray) -> RecordingDataset:
        """The same file limited to some of this dataset's rows (e.g. a split)."""
        view = object.__new__(RecordingDataset)
        view.__dict__.update(self.__dict__)
        view.indices = self.rows_of(indices)
        view._cache = None
        return view

    def reopen(self) -> None:
        """Reopen the file (each DataLoader worker needs its own handle)."""
        self.reader = pickle.loads(pickle.dumps(self.reader))
        self._cache = None


class BlockBatchSampler(Sampler[np.ndarray]):
    """Batches of indices, shuffled in buffers of contiguous rows (seeded, per epoch).

    Each epoch deals the buffers (`buffer_batches` x `batch_size` contiguous
    indices) in a random order and shuffles the indices inside each buffer,
    so reads stay sequential while batches still mix. `shuffle=False` keeps
    order (prediction). Call `set_epoch(e)` for a reproducible epoch `e`;
    otherwise each pass advances the epoch by one.
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        *,
        shuffle: bool = True,
        buffer_batches: int = 16,
        drop_last: bool = False,
        seed: int = 0,
    ) -> None:
        if batch_size < 1 or buffer_batches < 1:
            raise SamplelabError("batch_size and buffer_batches must be >= 1")
        self.n, self.batch_size = int(n), int(batch_size)
        self.shuffle, self.drop_last, self.seed = shuffle, drop_last, seed
        self.buffer_rows = self.batch_size * int(buffer_batches)
        self.epoch = 0
        self._epoch_set = False

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self._epoch_set = int(epoch), True

    def __len__(self) -> int:
        if not self.shuffle:
            full, rest = divmod(self.n, self.batch_size)
            return full + (1 if rest and not self.drop_last else 0)
        return self._count()

    def _count(self) -> int:
        count = 0
        for lo in range(0, self.n, self.buffer_rows):
            rows = min(self.buffer_rows, self.n - lo)
            count += rows // self.batch_size if self.drop_last else -(-rows // self.batch_size)
        return count

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        if not self._epoch_set:
            self.epoch += 1
        self._epoch_set = False
        if not self.shuffle:
            for lo in range(0, self.n, self.batch_size):
                hi = min(lo + self.batch_size, self.n)
                if hi - lo == self.batch_size or not self.drop_last:
                    yield np.arange(lo, hi)
            return
        starts = np.arange(0, self.n, self.buffer_rows)
        for lo in starts[rng.permutation(len(starts))]:
            rows = np.arange(lo, min(lo + self.buffer_rows, self.n))
            rng.shuffle(rows)
            for k in range(0, len(rows), self.batch_size):
                batch = rows[k : k + self.batch_size]
                if len(batch) == self.batch_size or not self.drop_last:
                    yield batch


def _reopen_in_worker(_: int) -> None:
    info = get_worker_info()
    if info is not None and hasattr(info.dataset, "reopen"):
        info.dataset.reopen()


def recording_loader(
    dataset: RecordingDataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    buffer_batches: int = 16,
    drop_last: bool = False,
    seed: int = 0,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """A DataLoader whose every batch is one slice read of `dataset` (see module docstring)."""
    sampler = BlockBatchSampler(
        len(dataset),
        batch_size,
        shuffle=shuffle,
        buffer_batches=buffer_batches,
        drop_last=drop_last,
        seed=seed,
    )
    # Cache exactly the sampler's buffers (aligned), so each buffer is one read of
    # its own rows; in order, larger windows serve several buffers per read.
    per_window = 1 if shuffle else max(1, dataset.cache_rows // sampler.buffer_rows)
    dataset.cache_rows = sampler.buffer_rows * per_window
    return DataLoader(
        dataset,
        sampler=sampler,
        batch_size=None,  # the sampler yields whole batches; the dataset returns them
        num_workers=num_workers,
        pin_memory=pin_memory,
        worker_init_fn=_reopen_in_worker if num_workers else None,
    )
