"""Surrogate models of a device: train, evaluate, save, and use one as the simulated device.

- `train_surrogate` (job): brainspy-smg's training procedure, fast; writes
  `training_data.pt`, the peer's figures and a JSON summary into a folder.
- `TrainingSettings`, `read_peer_config`: the run's choices, or the peer's
  `smg_configs` YAML.
- `evaluate_model` (job): RMSE in nA and a predicted-vs-measured figure for
  any dataset or recording.
- `SurrogateModel`: a training file (ours or the peer's) as a device model.
- `load_checkpoint`, `describe_checkpoint`: the training file, read safely.

Import the submodules directly for the rest (`network`, `step`, `data`,
`plots`, `outputs`).
"""

from backend.models.checkpoint import CHECKPOINT_NAME, describe_checkpoint, load_checkpoint
from backend.models.evaluate import Evaluation, evaluate_model
from backend.models.settings import TrainingSettings, read_peer_config
from backend.models.surrogate import SurrogateModel
from backend.models.training import EpochProgress, TrainingCancelled, train_surrogate

__all__ = [
    "CHECKPOINT_NAME",
    "EpochProgress",
    "Evaluation",
    "SurrogateModel",
    "TrainingCancelled",
    "TrainingSettings",
    "describe_checkpoint",
    "evaluate_model",
    "load_checkpoint",
    "read_peer_config",
    "train_surrogate",
]
