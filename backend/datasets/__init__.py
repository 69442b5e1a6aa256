"""PyTorch datasets: bspysmg-compatible files, lazy recordings, windows, chunk stores, export.

- `ModelDataset`, `get_dataloaders`, `get_info_dict`: the peer's training data API.
- `RecordingDataset`, `BlockBatchSampler`, `recording_loader`: train from a file
  larger than memory, one read per batch.
- `Offset`, `WindowedDataset`, `DatasetCollection`: samples with time context,
  several sessions as one dataset.
- `build_chunk_store`, `ChunkStore`: pre-built batches in HDF5 chunks, shuffled
  per epoch.
- `export_dataset`: train/validation/test npz files the peer's code loads.
"""

from backend.datasets.chunkstore import ChunkStore, build_chunk_store
from backend.datasets.export import export_dataset
from backend.datasets.model import ModelDataset, get_dataloaders, get_info_dict
from backend.datasets.recording import BlockBatchSampler, RecordingDataset, recording_loader
from backend.datasets.splits import (
    SPLIT_NAMES,
    block_split_indices,
    check_percentages,
    random_split_indices,
    split_sizes,
)
from backend.datasets.windows import DatasetCollection, Offset, WindowedDataset, expand_index

__all__ = [
    "SPLIT_NAMES",
    "BlockBatchSampler",
    "ChunkStore",
    "DatasetCollection",
    "ModelDataset",
    "Offset",
    "RecordingDataset",
    "WindowedDataset",
    "block_split_indices",
    "build_chunk_store",
    "check_percentages",
    "expand_index",
    "export_dataset",
    "get_dataloaders",
    "get_info_dict",
    "random_split_indices",
    "recording_loader",
    "split_sizes",
]
