"""One training run's state, shared by the loop (`training`) and its outputs (`outputs`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from backend.models.data import TrainingData
from backend.models.network import SurrogateNetwork
from backend.models.settings import TrainingSettings


@dataclass
class Checkpointed:
    """The best weights so far, with what the checkpoint file stores beside them."""

    epoch: int
    state: dict[str, torch.Tensor]
    optimizer: dict
    val_nA: torch.Tensor  # (d_out,) float32


@dataclass
class Run:
    """Everything one training run is and has done; `backend.models.outputs` writes it."""

    settings: TrainingSettings
    data: TrainingData
    out_dir: Path
    seed: int
    device: torch.device
    net: SurrogateNetwork
    adam: torch.optim.Adam
    rows: dict[str, torch.Tensor]  # split -> row indices (CPU)
    amp32: torch.Tensor  # (d_out,) float32 amplification, as the peer multiplies
    x: torch.Tensor  # every row's inputs, on the device
    y: torch.Tensor  # every row's targets, on the device
    train_nA: list[torch.Tensor] = field(default_factory=list)  # per epoch, (d_out,)
    val_nA: list[torch.Tensor] = field(default_factory=list)
    train_curve: list[float] = field(default_factory=list)  # rms() of each, for display
    val_curve: list[float] = field(default_factory=list)
    epoch_s: list[float] = field(default_factory=list)
    epoch_cpu_s: list[float] = field(default_factory=list)  # this process's CPU time
    best: Checkpointed | None = None
    status: str = "running"
    started: float = field(default_factory=time.time)

    @property
    def has_validation(self) -> bool:
        return "validation" in self.rows and len(self.rows["validation"]) > 0


def rms(value: torch.Tensor) -> float:
    """One RMSE for an epoch: the RMS over outputs when there are several."""
    return float(value.square().mean().sqrt())
