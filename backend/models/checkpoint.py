"""`training_data.pt`: the file brainspy-smg writes and brains-py's SurrogateModel reads.

Keys (the peer's): `epoch` (best epoch, 0-based), `model_state_dict`
(`raw_model.<i>.*`), `info` {model_structure, electrode_info,
training_configs, sampling_configs}, `optimizer_state_dict` (Adam),
`train_losses` / `val_losses` (float32 (epochs, outputs) RMSE in nA up to the
best epoch), `min_val_loss` and `test_loss` (float32 (outputs,) RMSE in nA).

Ours hold plain Python and tensor types only, so `torch.load(path,
weights_only=True)` (torch's default) reads them; the peer's hold numpy arrays
in `info`, which `load_checkpoint` accepts through the numeric-numpy
allow-list of `backend.data.formats.torchfiles`. Anything else in a file is
unpickled only with explicit trust (`trust_pickle=True`, `--trust-pickle`).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from backend.data.formats.trust import require_trust
from backend.data.kinds import detect_kind
from backend.errors import FileFormatError
from backend.files import written_atomically

CHECKPOINT_NAME = "training_data.pt"
PEER_KEYS = (
    "epoch",
    "model_state_dict",
    "info",
    "optimizer_state_dict",
    "train_losses",
    "val_losses",
    "min_val_loss",
)


def save_checkpoint(data: dict, path: str | os.PathLike) -> Path:
    """Write under a temporary name, then move into place: never a half-written file."""
    with written_atomically(path) as tmp:
        torch.save(data, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike, trust_pickle: bool = False) -> dict:
    """A training file's dict: weights-only (plus numeric numpy), or any pickle if trusted."""
    from backend.data.formats.torchfiles import load_torch_file

    kind = detect_kind(path)
    if kind != "torch":
        raise FileFormatError(
            f"{path} is not a trained model: it is a {kind} file",
            "Give a training_data.pt written by `samplelab train` or brainspy-smg.",
        )
    try:
        data = load_torch_file(path)
    except FileFormatError as exc:
        if "not plain weights" not in exc.message:
            raise
        require_trust(
            trust_pickle,
            f"{path} holds objects that are not plain weights (Python objects: loading them "
            "can run code hidden in the file), so it was not loaded",
        )
        try:
            data = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as inner:
            raise FileFormatError(f"{path} could not be unpickled ({inner})") from None
    if not isinstance(data, dict) or "model_state_dict" not in data:
        raise FileFormatError(
            f"{path} is not a surrogate model: it has no 'model_state_dict'",
            "Use a training_data.pt written by `samplelab train` or brainspy-smg.",
        )
    return data


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while piece := fh.read(1 << 22):
            digest.update(piece)
    return digest.hexdigest()


def _info(data: dict) -> dict:
    info = data.get("info")
    return info if isinstance(info, dict) else {}


def amplification_of(data: dict) -> list[float] | None:
    try:
        value = _info(data)["electrode_info"]["output_electrodes"]["amplification"]
    except (KeyError, TypeError):
        return None
    return [float(v) for v in torch.as_tensor(value, dtype=torch.float64).reshape(-1)]


def voltage_ranges_of(data: dict) -> list[list[float]] | None:
    try:
        value = _info(data)["electrode_info"]["activation_electrodes"]["voltage_ranges"]
    except (KeyError, TypeError):
        return None
    return torch.as_tensor(value, dtype=torch.float64).reshape(-1, 2).tolist()


def rmse_of(data: dict, key: str) -> list[float] | None:
    """An RMSE entry (`test_loss`, `min_val_loss`) as floats in nA; None if absent."""
    value = data.get(key)
    if value is None:
        return None
    try:
        return [float(v) for v in torch.as_tensor(value, dtype=torch.float64).reshape(-1)]
    except (TypeError, ValueError, RuntimeError):
        return None


def describe_checkpoint(path: str | os.PathLike, trust_pickle: bool = False) -> dict:
    """Plain-JSON facts about a training file (for `samplelab info` and the GUI)."""
    from backend.models.network import structure_of_state

    data = load_checkpoint(path, trust_pickle)
    info = _info(data)
    structure = structure_of_state(data["model_state_dict"], info.get("model_structure"))
    training = (
        info.get("training_configs") if isinstance(info.get("training_configs"), dict) else {}
    )
    sampling = (
        info.get("sampling_configs") if isinstance(info.get("sampling_configs"), dict) else {}
    )
    losses = data.get("train_losses")
    epochs = int(losses.shape[0]) if isinstance(losses, torch.Tensor) and losses.ndim else None
    return {
        "path": str(path),
        "kind": "surrogate-model",
        "sha256": file_sha256(path),
        "written_by": "samplelab" if "samplelab" in training else "brainspy-smg",
        "structure": structure.to_peer(),
        "parameters": int(sum(v.numel() for v in data["model_state_dict"].values())),
        "best_epoch": data.get("epoch"),
        "epochs_recorded": epochs,
        "test_rmse_nA": rmse_of(data, "test_loss"),
        "validation_rmse_nA": rmse_of(data, "min_val_loss"),
        "amplification": amplification_of(data),
        "voltage_ranges": voltage_ranges_of(data),
        "seed": training.get("seed"),
        "datasets": (training.get("data") or {}).get("dataset_paths"),
        "data_name": sampling.get("data_name"),
        "keys": sorted(str(k) for k in data),
    }


def checkpoint_dict(
    *,
    epoch: int,
    state: dict[str, torch.Tensor],
    info: dict,
    optimizer_state: dict,
    train_losses: torch.Tensor,
    val_losses: torch.Tensor,
    min_val_loss: torch.Tensor,
    test_loss: torch.Tensor | None,
) -> dict[str, Any]:
    """The peer's checkpoint dict from our pieces (all on the CPU, plain types)."""
    data: dict[str, Any] = {
        "epoch": int(epoch),
        "model_state_dict": OrderedDict((k, v.detach().cpu()) for k, v in state.items()),
        "info": info,
        "optimizer_state_dict": _cpu(optimizer_state),
        "train_losses": train_losses.detach().cpu(),
        "val_losses": val_losses.detach().cpu(),
        "min_val_loss": min_val_loss.detach().cpu(),
    }
    if test_loss is not None:
        data["test_loss"] = test_loss.detach().cpu()
    return data


def _cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cpu(v) for v in value]
    return value
