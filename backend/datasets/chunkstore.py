"""An offline chunk store: train on more data than fits in memory.

`build_chunk_store` writes a dataset once into an HDF5 file of chunks, each
holding `batches_per_chunk` ready batches of (inputs, targets) rows:

    /chunks/000000/inputs   (rows, n_inputs)  float32
    /chunks/000000/targets  (rows, n_targets) float32
    attrs: format="samplelab-chunkstore", format_version, batch_size,
           batches_per_chunk, n_chunks, n_rows, n_inputs, n_targets, source

`ChunkStore` then streams it: one chunk in memory at a time, read in one go.
In training mode the chunk order and the row order inside each chunk are
shuffled every epoch from (seed, epoch), from the first epoch on; in predict
mode everything stays in stored order. With DataLoader workers, each worker
takes every k-th chunk of the epoch's order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from backend.errors import Cancelled, FileFormatError, SamplelabError
from backend.files import replace_file
from backend.jobs import CancelToken, JobProgress, ProgressFn

STORE_FORMAT = "samplelab-chunkstore"
STORE_VERSION = 1


def build_chunk_store(
    path: str | os.PathLike,
    dataset: Any,
    batch_size: int,
    batches_per_chunk: int = 64,
    *,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Write `dataset` (anything with len() and batch(indices) -> (X, Y)) as a chunk store.

    Rows are stored in the dataset's order; build from a shuffled `indices`
    subset (`RecordingDataset.subset`) to mix rows across chunks too. Memory
    holds one chunk at a time.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise SamplelabError(f"{path} already exists", "Choose another name or allow overwrite.")
    if batch_size < 1 or batches_per_chunk < 1:
        raise SamplelabError("batch_size and batches_per_chunk must be >= 1")
    n = len(dataset)
    chunk_rows = batch_size * batches_per_chunk
    n_chunks = -(-n // chunk_rows)
    tmp = path.with_name(path.name + ".partial")
    try:
        with h5py.File(tmp, "w") as f:
            group = f.create_group("chunks")
            dims = (0, 0)
            for c in range(n_chunks):
                if cancel is not None and cancel.cancelled:
                    raise Cancelled("building the chunk store was cancelled")
                lo, hi = c * chunk_rows, min(n, (c + 1) * chunk_rows)
                x, y = dataset.batch(np.arange(lo, hi))
                chunk = group.create_group(f"{c:06d}")
                chunk.create_dataset("inputs", data=np.asarray(x, dtype=np.float32))
                chunk.create_dataset("targets", data=np.asarray(y, dtype=np.float32))
                dims = (x.shape[1], y.shape[1])
                if progress is not None:
                    progress(JobProgress("chunk store", hi, n))
            source = getattr(getattr(dataset, "reader", None), "path", None)
            f.attrs.update(
                {
                    "format": STORE_FORMAT,
                    "format_version": STORE_VERSION,
                    "batch_size": batch_size,
                    "batches_per_chunk": batches_per_chunk,
                    "n_chunks": n_chunks,
                    "n_rows": n,
                    "n_inputs": dims[0],
                    "n_targets": dims[1],
                    "source": json.dumps(str(source) if source else None),
                }
            )
        replace_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


class ChunkStore(IterableDataset):
    """Batches (inputs, targets) from a chunk store; use with DataLoader(batch_size=None)."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        mode: str = "train",
        seed: int = 0,
        batch_size: int | None = None,
        drop_last: bool = False,
    ) -> None:
        if mode not in ("train", "predict"):
            raise SamplelabError(f"mode must be 'train' or 'predict', got {mode!r}")
        self.path = Path(path)
        try:
            with h5py.File(self.path, "r") as f:
                attrs = dict(f.attrs)
        except OSError as exc:
            raise FileFormatError(f"{self.path} is not a readable chunk store ({exc})") from None
        if attrs.get("format") != STORE_FORMAT:
            raise FileFormatError(f"{self.path} is not a samplelab chunk store")
        if int(attrs.get("format_version", 0)) > STORE_VERSION:
            raise FileFormatError(f"{self.path} is a newer chunk store than this samplelab reads")
        self.mode, self.seed, self.drop_last = mode, seed, drop_last
        self.n_rows = int(attrs["n_rows"])
        self.n_chunks = int(attrs["n_chunks"])
        self.batch_size = int(batch_size or attrs["batch_size"])
        self.chunk_rows = int(attrs["batch_size"]) * int(attrs["batches_per_chunk"])
        self.epoch = 0
        self._epoch_set = False

    def set_epoch(self, epoch: int) -> None:
        """Fix the shuffle of the next pass to epoch `epoch` (else each pass counts up)."""
        self.epoch, self._epoch_set = int(epoch), True

    def chunk_order(self, epoch: int) -> np.ndarray:
        if self.mode == "predict":
            return np.arange(self.n_chunks)
        return np.random.default_rng([self.seed, epoch, 0]).permutation(self.n_chunks)

    def _chunk_sizes(self) -> list[int]:
        return [
            min(self.chunk_rows, self.n_rows - c * self.chunk_rows) for c in range(self.n_chunks)
        ]

    def __len__(self) -> int:
        per_chunk = (
            (lambda r: r // self.batch_size)
            if self.drop_last
            else (lambda r: -(-r // self.batch_size))
        )
        return sum(per_chunk(r) for r in self._chunk_sizes())

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch = self.epoch
        if not self._epoch_set:
            self.epoch += 1
        self._epoch_set = False
        order = self.chunk_order(epoch)
        worker = get_worker_info()
        if worker is not None:
            order = order[worker.id :: worker.num_workers]
        with h5py.File(self.path, "r") as f:
            for c in order:
                group = f["chunks"][f"{int(c):06d}"]
                x = torch.from_numpy(group["inputs"][()])
                y = torch.from_numpy(group["targets"][()])
                if self.mode == "train":
                    rng = np.random.default_rng([self.seed, epoch, 1, int(c)])
                    perm = torch.from_numpy(rng.permutation(len(x)))
                    x, y = x[perm], y[perm]
                for k in range(0, len(x), self.batch_size):
                    if self.drop_last and k + self.batch_size > len(x):
                        break
                    yield x[k : k + self.batch_size], y[k : k + self.batch_size]
