"""bspysmg-compatible training data: `ModelDataset`, `get_dataloaders`, `get_info_dict`.

Same semantics and return values as the peer's `bspysmg.data.dataset`
(targets = outputs / amplification, float tensors of torch's default dtype,
ceil/floor split sizes, only train shuffled, a `.tag` per loader, None for a
missing split), without its faults:

- the split must add up to 1 within a tolerance, not by exact float equality;
- the amplification of every file is compared with the first file's (the
  peer compared the first with itself);
- the caller's config dicts are never modified;
- `split="blocks"` keeps time together so neighbouring samples cannot sit
  in both train and test;
- the pickled config of a peer npz is read only with `trust_pickle=True`
  (our own npz carry the config as JSON and need no trust).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, random_split

from backend.data.formats.npz import load_npz
from backend.datasets.splits import SPLIT_NAMES, block_split_indices, split_sizes
from backend.errors import FileFormatError, SamplelabError


def _amplification(config: dict, where: str) -> np.ndarray:
    try:
        value = config["driver"]["amplification"]
    except (KeyError, TypeError):
        raise FileFormatError(
            f"{where}: its sampling config has no driver.amplification",
            "Targets are outputs / amplification; the config must say it.",
        ) from None
    return np.atleast_1d(np.asarray(value, dtype=np.float64))


class ModelDataset(Dataset):
    """A postprocessed npz in memory; item i = (inputs[i], outputs[i] / amplification)."""

    def __init__(
        self,
        filename: str | os.PathLike,
        steps: int = 1,
        tag: str = "train",
        *,
        trust_pickle: bool = False,
    ) -> None:
        if not isinstance(steps, int) or steps < 1:
            raise SamplelabError(f"steps must be a whole number >= 1, got {steps!r}")
        data = load_npz(filename, trust_pickle=trust_pickle, need_config=True)
        self.filename = os.fspath(filename)
        self.sampling_configs: dict = data.sampling_configs or {}
        self.amplification = _amplification(self.sampling_configs, self.filename)
        inputs, outputs = data.inputs[::steps], data.outputs[::steps]
        if outputs.shape[1] != len(self.amplification) and len(self.amplification) != 1:
            raise FileFormatError(
                f"{self.filename}: {outputs.shape[1]} output channels but "
                f"{len(self.amplification)} amplification values"
            )
        dtype = torch.get_default_dtype()
        self.inputs = torch.tensor(inputs, dtype=dtype)
        self.targets = torch.tensor(outputs / self.amplification, dtype=dtype)
        self.tag = tag

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return (self.inputs[index, :], self.targets[index, :])


def get_info_dict(training_configs: dict, sampling_configs: dict) -> dict:
    """{model_structure, electrode_info, training_configs, sampling_configs}; inputs untouched.

    As in the peer, `model_structure` moves out of the training configs and
    `electrode_info` out of the sampling configs; here on deep copies.
    """
    training = copy.deepcopy(training_configs)
    sampling = copy.deepcopy(sampling_configs)
    for where, data, key in (
        ("training configs", training, "model_structure"),
        ("sampling configs", sampling, "electrode_info"),
    ):
        if key not in data:
            raise SamplelabError(
                f"the {where} have no {key!r}",
                "electrode_info is added by postprocessing; model_structure by the "
                "training config.",
            )
    return {
        "model_structure": training.pop("model_structure"),
        "electrode_info": sampling.pop("electrode_info"),
        "training_configs": training,
        "sampling_configs": sampling,
    }


def _data_options(configs: dict) -> dict:
    data = configs.get("data") if isinstance(configs, dict) else None
    if not isinstance(data, dict) or "dataset_paths" not in data:
        raise SamplelabError(
            "the training configs have no data.dataset_paths",
            "List the train (and validation, test) npz files under data.dataset_paths.",
        )
    paths = data["dataset_paths"]
    if not isinstance(paths, list) or not paths or all(p is None for p in paths):
        raise SamplelabError("data.dataset_paths must be a non-empty list of npz files")
    if len(paths) > 3:
        raise SamplelabError(f"give at most 3 dataset paths (train, validation, test), got {paths}")
    if "batch_size" not in data:
        raise SamplelabError("the training configs have no data.batch_size")
    return data


def _split(
    dataset: ModelDataset,
    percentages: Sequence[float],
    mode: str,
    block_rows: int | None,
    seed: int | None,
) -> list[Dataset | None]:
    sizes = split_sizes(len(dataset), percentages)
    if len(sizes) == 1:
        return [dataset, None]
    if mode == "random":
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(int(seed))
        return list(random_split(dataset, sizes, generator=generator))
    if mode != "blocks":
        raise SamplelabError(f"split mode must be 'random' or 'blocks', got {mode!r}")
    parts = block_split_indices(len(dataset), percentages, block_rows, seed)
    return [Subset(dataset, idx.tolist()) for idx in parts]


def get_dataloaders(
    configs: dict,
    *,
    trust_pickle: bool = False,
    split: str | None = None,
    block_rows: int | None = None,
    seed: int | None = None,
) -> tuple[list[DataLoader | None], torch.Tensor, dict]:
    """(dataloaders [train, validation, test], amplification, info_dict), as the peer returns.

    One path with `data.split_percentages` is split (`split` / `data.split_mode`:
    'random' as the peer, or 'blocks'); several paths are train, validation,
    test files whose amplifications must agree.
    """
    data = _data_options(configs)
    steps = data.get("steps", 1)
    mode = split or data.get("split_mode", "random")
    block_rows = block_rows if block_rows is not None else data.get("block_rows")
    seed = seed if seed is not None else configs.get("seed")
    paths = data["dataset_paths"]
    datasets: list[Dataset | None] = []
    info_dict: dict = {}
    reference: np.ndarray | None = None
    if len(paths) > 1:
        for i, path in enumerate(paths):
            if path is None:
                datasets.append(None)
                continue
            ds = ModelDataset(path, steps=steps, tag=SPLIT_NAMES[i], trust_pickle=trust_pickle)
            if reference is None:
                info_dict = get_info_dict(configs, ds.sampling_configs)
                reference, first = ds.amplification, path
            else:
                if ds.amplification.shape != reference.shape or not np.array_equal(
                    ds.amplification, reference
                ):
                    raise SamplelabError(
                        f"{path} was amplified by {ds.amplification.tolist()} but {first} by "
                        f"{reference.tolist()}",
                        "All datasets must come from the same setup (same amplification).",
                    )
                info_dict[f"{SPLIT_NAMES[i]}_sampling_configs"] = copy.deepcopy(ds.sampling_configs)
            datasets.append(ds)
    else:
        ds = ModelDataset(paths[0], steps=steps, trust_pickle=trust_pickle)
        info_dict = get_info_dict(configs, ds.sampling_configs)
        reference = ds.amplification
        datasets = _split(ds, data.get("split_percentages", [1]), mode, block_rows, seed)
    loaders: list[DataLoader | None] = []
    for i, ds in enumerate(datasets):
        if ds is None or len(ds) == 0:
            loaders.append(None)
            continue
        ds.tag = SPLIT_NAMES[i]  # type: ignore[union-attr]
        loader = DataLoader(
            ds,
            batch_size=data["batch_size"],
            num_workers=data.get("worker_no", 0),
            pin_memory=data.get("pin_memory", False),
            shuffle=(i == 0),
        )
        loader.tag = SPLIT_NAMES[i]  # type: ignore[attr-defined]
        loaders.append(loader)
    amplification = torch.tensor(reference, dtype=torch.get_default_dtype())
    return loaders, amplification, info_dict
