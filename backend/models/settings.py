"""What a training run is asked to do: hyperparameters, checked, and the peer's config file.

`TrainingSettings` holds the choices (network shape, epochs, learning rate,
batch size, split, seed, early stopping, device); `problems()` names every
bad field at once (the GUI form labels them, the CLI prints them).
`read_peer_config` reads brainspy-smg's `smg_configs_template.yaml` layout
(safe YAML, bounded size); `peer_training_configs` writes that layout back
for the checkpoint's `info["training_configs"]`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.config.yamlsafe import read_yaml_file
from backend.datasets.splits import check_percentages
from backend.errors import Problem, SamplelabError
from backend.models.structure import (
    ACTIVATION_NAMES,
    MAX_HIDDEN_LAYERS,
    MAX_LAYER_SIZE,
    Structure,
    parameter_count,
    too_many_parameters,
)

DEVICES = ("auto", "cpu", "cuda")
MAX_EPOCHS = 1_000_000
MAX_BATCH = 10_000_000
MAX_SEED = 2**32 - 1  # the peer seeds numpy too, which takes 32 bits
MAX_THREADS = 1024


class TrainingConfigError(SamplelabError):
    """Training settings that cannot be used; `problems` names each field."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = list(problems)
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"invalid training settings{where}:\n{lines}",
            "Fix the fields named above and try again.",
        )


@dataclass(frozen=True)
class TrainingSettings:
    """One training run's choices; defaults are the peer's template values."""

    hidden: tuple[int, ...] = (90,) * 5
    activation: str = "relu"
    batch_norm: bool = False
    epochs: int = 100
    learning_rate: float = 1e-3
    batch_size: int = 256
    split: tuple[float, ...] = (0.8, 0.1, 0.1)
    steps: int = 1  # keep every steps-th row, as the peer's `data.steps`
    seed: int | None = None  # None: a fresh one, recorded in the results
    patience: int | None = None  # stop after this many epochs without a better validation
    device: str = "auto"
    threads: int = 1  # CPU threads for torch's ops while training (see backend.models.training)
    extra: dict = field(default_factory=dict, compare=False)  # peer keys kept for the record

    def replace(self, **changes: Any) -> TrainingSettings:
        """A copy with `changes` (None values are ignored, so CLI defaults fall through)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def problems(self) -> list[Problem]:
        """Every bad field, with its name (`hidden`, `epochs`, ...) as the path."""
        found: list[Problem] = []

        def whole(name: str, value: Any, lo: int, hi: int) -> None:
            if not (isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi):
                found.append(Problem(name, f"must be a whole number from {lo} to {hi:,}"))

        hidden = self.hidden
        if not isinstance(hidden, tuple) or not 1 <= len(hidden) <= MAX_HIDDEN_LAYERS:
            found.append(Problem("hidden", f"give 1 to {MAX_HIDDEN_LAYERS} layer sizes"))
        elif not all(isinstance(h, int) and 1 <= h <= MAX_LAYER_SIZE for h in hidden):
            found.append(Problem("hidden", f"layer sizes must be from 1 to {MAX_LAYER_SIZE:,}"))
        elif too_many := too_many_parameters(parameter_count(hidden), "the hidden layers alone"):
            found.append(Problem("hidden", too_many))
        if self.activation not in ACTIVATION_NAMES:
            found.append(Problem("activation", f"must be one of {', '.join(ACTIVATION_NAMES)}"))
        whole("epochs", self.epochs, 1, MAX_EPOCHS)
        lr = self.learning_rate
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and 0 < lr <= 1):
            found.append(Problem("learning_rate", "must be a number above 0 and at most 1"))
        whole("batch_size", self.batch_size, 1, MAX_BATCH)
        try:
            check_percentages(self.split)
        except SamplelabError as exc:
            found.append(Problem("split", exc.message))
        whole("steps", self.steps, 1, MAX_BATCH)
        if self.seed is not None:
            whole("seed", self.seed, 0, MAX_SEED)
        if self.patience is not None:
            whole("patience", self.patience, 1, MAX_EPOCHS)
            if len(self.split) < 2:
                found.append(Problem("patience", "early stopping needs a validation split"))
        whole("threads", self.threads, 1, MAX_THREADS)
        if self.device not in DEVICES:
            found.append(Problem("device", f"must be one of {', '.join(DEVICES)}"))
        return found

    def check(self, source: str = "") -> TrainingSettings:
        found = self.problems()
        if found:
            raise TrainingConfigError(found, source)
        return self

    def structure(self, d_in: int, d_out: int) -> Structure:
        return Structure(d_in, d_out, tuple(self.hidden), self.activation, self.batch_norm)


def parse_hidden(text: str) -> tuple[int, ...]:
    """'90,90,90' (or '90x5') -> (90, 90, 90); SamplelabError when not understood."""
    text = text.strip().lower().replace(" ", "")
    try:
        if "x" in text:
            size, count = text.split("x")
            return (int(size),) * int(count)
        return tuple(int(v) for v in text.split(",") if v)
    except ValueError:
        raise SamplelabError(
            f"hidden layer sizes {text!r} are not understood", "Give e.g. 90,90,90,90,90 or 90x5."
        ) from None


def parse_split(text: str) -> tuple[float, ...]:
    """'0.8,0.1,0.1' -> (0.8, 0.1, 0.1), checked."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SamplelabError(
            f"split {text!r} is not understood", "Give e.g. 0.8,0.1,0.1 (train, validation, test)."
        ) from None
    return tuple(check_percentages(values))


# --- the peer's config file ------------------------------------------------------------


def read_small_yaml(path: str | os.PathLike, what: str, hint: str) -> dict:
    """A settings mapping from a YAML file, through the one bounded safe loader."""
    path = Path(path)
    try:
        data = read_yaml_file(path, what)
    except SamplelabError:  # missing, a FIFO/device/folder, too large
        raise
    except Exception as exc:  # YAML syntax, refused tags, bounds, duplicate keys
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        if problem and mark is not None:
            first = f"line {mark.line + 1}: {problem}"
        raise SamplelabError(f"{path} is not a readable {what} ({first})", hint) from None
    if not isinstance(data, dict):
        raise SamplelabError(f"{path} does not hold a mapping of settings")
    return data


def read_peer_config(path: str | os.PathLike) -> tuple[TrainingSettings, list[Path]]:
    """Settings and dataset paths from an `smg_configs` YAML (relative paths: from its folder)."""
    path = Path(path)
    data = read_small_yaml(
        path, "training config", "Use the layout of brainspy-smg's smg_configs_template.yaml."
    )
    settings, raw_paths, found = _settings_from_peer(data)
    if found:
        raise TrainingConfigError(found, str(path))
    return settings, [_dataset_path(p, path.parent) for p in raw_paths]


def _section(data: dict, key: str, found: list[Problem]) -> dict:
    value = data.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        found.append(Problem(key, "must be a mapping"))
        return {}
    return value


def _settings_from_peer(data: dict) -> tuple[TrainingSettings, list[Any], list[Problem]]:
    found: list[Problem] = []
    structure = _section(data, "model_structure", found)
    hyper = _section(data, "hyperparameters", found)
    section = _section(data, "data", found)
    values: dict[str, Any] = {}
    if "hidden_sizes" in structure:
        hidden = structure["hidden_sizes"]
        values["hidden"] = tuple(hidden) if isinstance(hidden, list) else hidden
    names = {
        ("model_structure", "activation"): "activation",
        ("model_structure", "batch_norm"): "batch_norm",
        ("hyperparameters", "epochs"): "epochs",
        ("hyperparameters", "learning_rate"): "learning_rate",
        ("data", "batch_size"): "batch_size",
        ("data", "steps"): "steps",
        ("data", "split_percentages"): "split",
    }
    sections = {"model_structure": structure, "hyperparameters": hyper, "data": section}
    for (where, key), name in names.items():
        if key in sections[where]:
            values[name] = sections[where][key]
    if isinstance(values.get("learning_rate"), str):  # PyYAML reads 1e-3 (no dot) as text
        with contextlib.suppress(ValueError):
            values["learning_rate"] = float(values["learning_rate"])
    if isinstance(values.get("split"), list):
        values["split"] = tuple(values["split"])
    if data.get("seed") is not None:
        values["seed"] = data["seed"]
    if not isinstance(values.get("batch_norm", False), bool):
        found.append(Problem("model_structure.batch_norm", "must be true or false"))
        values.pop("batch_norm")
    settings = TrainingSettings(**values)
    where = {
        "hidden": "model_structure.hidden_sizes",
        "activation": "model_structure.activation",
        "epochs": "hyperparameters.epochs",
        "learning_rate": "hyperparameters.learning_rate",
        "batch_size": "data.batch_size",
        "steps": "data.steps",
        "split": "data.split_percentages",
        "seed": "seed",
    }
    found += [Problem(where.get(p.path, p.path), p.message) for p in settings.problems()]
    paths = section.get("dataset_paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) or p is None for p in paths):
        found.append(Problem("data.dataset_paths", "must be a list of file names"))
        paths = []
    extra = {
        "results_base_dir": data.get("results_base_dir"),
        "worker_no": section.get("worker_no"),
        "pin_memory": section.get("pin_memory"),
    }
    return dataclasses.replace(settings, extra=extra), paths, found


def _dataset_path(raw: Any, folder: Path) -> Path:
    if raw is None:
        raise SamplelabError("data.dataset_paths holds an empty entry")
    path = Path(os.path.expanduser(raw))
    if path.is_absolute():
        return path
    beside = folder / path
    return (beside if beside.exists() or not path.exists() else path).resolve()


def peer_training_configs(
    settings: TrainingSettings, seed: int, dataset_paths: list[str], out_dir: str, device: str
) -> dict:
    """`info["training_configs"]` in the peer's layout (plain types) plus our own block."""
    split = [float(v) for v in settings.split]
    return {
        "results_base_dir": str(out_dir),
        "seed": int(seed),
        "hyperparameters": {
            "epochs": int(settings.epochs),
            "learning_rate": float(settings.learning_rate),
        },
        "data": {
            "dataset_paths": [str(p) for p in dataset_paths],
            "steps": int(settings.steps),
            "batch_size": int(settings.batch_size),
            "worker_no": 0,
            "pin_memory": device.startswith("cuda"),
            "split_percentages": split,
        },
        "samplelab": {
            "patience": settings.patience,
            "device": device,
            "batch_norm": bool(settings.batch_norm),
            "threads": int(settings.threads),
        },
    }
