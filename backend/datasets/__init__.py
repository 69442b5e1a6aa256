"""PyTorch datasets: bspysmg-compatible files, lazy recordings, windows, chunk stores, export.

- `ModelDataset`, `get_dataloaders`, `get_info_dict`: the peer's training data API.
- `RecordingDataset`, `BlockBatchSampler`, `recording_loader`: train from a file
  larger than memory, one read per batch.
- `Offset`, `WindowedDataset`, `DatasetCollection`: samples with time context,
  several sessions as one dataset.
- `build_chunk_store`, `ChunkStore`: pre-built batches in HDF5 chunks, shuffled
  per epoch.
- `export_dataset`: train/validation/test npz files the peer's code loads.

Names load on first use (`backend.lazy`): the splits need no torch, and a
form that validates split fractions should not load it.
"""

from backend.lazy import lazy_exports

_HOMES = {
    "ChunkStore": "chunkstore",
    "build_chunk_store": "chunkstore",
    "export_dataset": "export",
    "ModelDataset": "model",
    "get_dataloaders": "model",
    "get_info_dict": "model",
    "BlockBatchSampler": "ondisk",
    "RecordingDataset": "ondisk",
    "recording_loader": "ondisk",
    "SPLIT_NAMES": "splits",
    "block_split_indices": "splits",
    "check_percentages": "splits",
    "random_split_indices": "splits",
    "split_sizes": "splits",
    "DatasetCollection": "windows",
    "Offset": "windows",
    "WindowedDataset": "windows",
    "expand_index": "windows",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
