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
`plots`, `outputs`). The names here load on first use: they need torch, which
the GUI imports only after its first paint.
"""

from backend.lazy import lazy_exports

_HOMES = {
    "CHECKPOINT_NAME": "checkpoint",
    "describe_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "Evaluation": "evaluate",
    "evaluate_model": "evaluate",
    "TrainingSettings": "settings",
    "read_peer_config": "settings",
    "SurrogateModel": "surrogate",
    "EpochProgress": "training",
    "TrainingCancelled": "training",
    "train_surrogate": "training",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
