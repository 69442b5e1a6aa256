"""Hyperparameter sweeps: many training runs of one dataset, here or fanned out on Dask.

A sweep file (YAML, read safely) names the values to try:

    mode: grid            # every combination; or `random` with `samples: N`
    seed: 0               # the random draws (and each run's seed unless `parameters` sets it)
    parameters:
      learning_rate: [1.0e-3, 3.0e-4]              # a list: choose among these
      hidden: [[90, 90, 90, 90, 90], [45, 45]]
      batch_size: [128, 256]
      activation: [relu, elu]
      epochs: [50]
      # random mode also takes ranges: {low: 1.0e-4, high: 1.0e-2, log: true}

Every run is a `backend.fanout.JobSpec` training into `OUT/runs/<name>/` (its own
`training_data.pt`, figures and summary, kept); `sweep_results.json` and
`sweep_results.csv` list the runs sorted by validation RMSE, and the best run's
files are copied into `OUT/` itself.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import random
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.errors import Problem, SamplelabError
from backend.fanout import JobOutcome, JobSpec, run_jobs
from backend.files import write_text_atomic, written_atomically
from backend.jobs import CancelToken, ProgressFn
from backend.models.settings import TrainingConfigError, TrainingSettings, read_small_yaml

#: What a sweep may vary: its TrainingSettings field.
SWEEPABLE = ("learning_rate", "hidden", "batch_size", "activation", "epochs", "batch_norm", "seed")
MAX_RUNS = 1000
RESULTS_NAME = "sweep_results"


@dataclass(frozen=True)
class Sweep:
    """The runs a sweep file asks for: each a name and its settings changes."""

    mode: str
    runs: tuple[tuple[str, dict], ...]
    seed: int = 0
    source: str = ""

    def settings(self, base: TrainingSettings) -> list[tuple[str, TrainingSettings]]:
        """Each run's full settings: `base` with the run's values on top, all checked."""
        out, found = [], []
        for name, values in self.runs:
            changed = base.replace(**{"seed": base.seed if base.seed is not None else self.seed})
            changed = changed.replace(**values)
            found += [Problem(f"{name}.{p.path}", p.message) for p in changed.problems()]
            out.append((name, changed))
        if found:
            raise TrainingConfigError(found[:20], self.source)
        return out


@dataclass
class SweepResult:
    """Every run's outcome, best first, and where the best run's files went."""

    out_dir: Path
    rows: list[dict] = field(default_factory=list)  # sorted: best validation RMSE first
    best: dict | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == "failed"]


def read_sweep(path: str | os.PathLike) -> Sweep:
    """The sweep in a YAML file; every problem named by its key."""
    data = read_small_yaml(path, "sweep file", "See docs/distributed.md for the layout.")
    return parse_sweep(data, str(path))


def parse_sweep(data: Any, source: str = "") -> Sweep:
    """The sweep a mapping describes (see the module docstring); every problem at once."""
    if not isinstance(data, dict):
        raise SamplelabError(f"{source or 'the sweep'} does not hold a mapping")
    found: list[Problem] = []
    unknown = sorted(set(data) - {"mode", "samples", "seed", "parameters"})
    found += [Problem(k, "unknown key (use mode, samples, seed, parameters)") for k in unknown]
    mode = data.get("mode", "grid")
    if mode not in ("grid", "random"):
        found.append(Problem("mode", "must be grid or random"))
    seed = data.get("seed", 0)
    if not _whole(seed, 0, 2**32 - 1):
        found.append(Problem("seed", "must be a whole number from 0 to 2**32-1"))
    choices = _choices(data.get("parameters"), mode, found)
    runs: list[dict] = []
    if not found:
        if mode == "grid":
            runs = _grid(choices, found)
        else:
            runs = _random(data.get("samples"), choices, random.Random(seed), found)
    if found:
        raise TrainingConfigError(found, source)
    width = len(str(len(runs)))
    named = tuple((f"run{i + 1:0{width}d}", values) for i, values in enumerate(runs))
    return Sweep(mode, named, seed, source)


def _whole(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _choices(params: Any, mode: str, found: list[Problem]) -> dict[str, Any]:
    """Parameter -> a list of values, or (random mode) a range tuple."""
    if not isinstance(params, dict) or not params:
        found.append(Problem("parameters", f"give the values to try for some of {SWEEPABLE}"))
        return {}
    choices: dict[str, Any] = {}
    for key, value in params.items():
        path = f"parameters.{key}"
        if key not in SWEEPABLE:
            found.append(Problem(path, f"cannot be swept (use {', '.join(SWEEPABLE)})"))
        elif isinstance(value, dict):
            if mode != "random":
                found.append(Problem(path, "ranges ({low, high}) need mode: random"))
            choices[key] = _range(path, value, found)
        elif isinstance(value, list) and value:
            choices[key] = [_value(key, v) for v in value]
        else:
            found.append(Problem(path, "give a non-empty list of values"))
    return choices


def _grid(choices: dict[str, list], found: list[Problem]) -> list[dict]:
    count = math.prod(len(c) for c in choices.values())
    if count > MAX_RUNS:
        found.append(Problem("parameters", f"{count:,} combinations; at most {MAX_RUNS}"))
        return []
    keys = list(choices)
    return [dict(zip(keys, combo)) for combo in itertools.product(*choices.values())]


def _random(samples: Any, choices: dict, rng: random.Random, found: list[Problem]) -> list[dict]:
    if not _whole(samples, 1, MAX_RUNS):
        found.append(Problem("samples", f"random mode needs samples: 1 to {MAX_RUNS}"))
        return []
    return [{k: _draw(c, rng) for k, c in choices.items()} for _ in range(samples)]


def _value(key: str, value: Any) -> Any:
    """One listed value as TrainingSettings holds it (hidden sizes: a tuple)."""
    if key == "hidden" and isinstance(value, list):
        return tuple(value)
    return value


def _range(path: str, spec: dict, found: list[Problem]) -> tuple:
    low, high, log = spec.get("low"), spec.get("high"), bool(spec.get("log", False))
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        found.append(Problem(path, "a range needs numbers low < high"))
    elif log and low <= 0:
        found.append(Problem(path, "a log range needs low > 0"))
    whole = isinstance(low, int) and isinstance(high, int) and not log
    return (low, high, log, whole)


def _draw(choice: Any, rng: random.Random) -> Any:
    if isinstance(choice, list):
        return choice[rng.randrange(len(choice))]
    low, high, log, whole = choice
    if whole:
        return rng.randint(low, high)
    if log:
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    return rng.uniform(low, high)


# --- running ------------------------------------------------------------------------------


def train_run_job(
    datasets: list[str], out: str, settings: TrainingSettings, trust_pickle: bool
) -> dict:
    """One sweep run (on any worker): train into `out`; a plain dict of how it went.

    A retry after a lost worker trains again into the same folder (overwrite), so the
    folder ends with exactly one run's files.
    """
    from backend.models.training import train_surrogate  # torch: on use

    result = train_surrogate(datasets, out, settings, trust_pickle=trust_pickle, overwrite=True)
    val = result.scores.get("validation")
    test = result.scores.get("test")
    return {
        "out_dir": str(result.out_dir),
        "status": result.status,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.train_nA),
        "val_rmse_nA": _rms(val.rmse_nA) if val else None,
        "test_rmse_nA": _rms(test.rmse_nA) if test else None,
        "train_rmse_nA": _rms(result.scores["train"].rmse_nA),
    }


def _rms(values: Sequence[float]) -> float:
    return float(math.sqrt(sum(v * v for v in values) / len(values)))


def train_sweep(
    datasets: Sequence[str | os.PathLike],
    sweep: Sweep,
    out_dir: str | os.PathLike,
    base: TrainingSettings | None = None,
    *,
    trust_pickle: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> SweepResult:
    """Train every run of `sweep`; write the results table and copy the best run to `out_dir`."""
    out = Path(out_dir)
    runs = sweep.settings(base or TrainingSettings())
    if out.exists() and any(out.iterdir()):
        raise SamplelabError(
            f"{out} is not empty; a sweep writes a new folder",
            "Choose another --out folder.",
        )
    paths = [str(Path(d)) for d in datasets]
    run_id = uuid.uuid4().hex[:8]
    specs = [
        JobSpec(
            key=f"train-{run_id}-{name}",
            label=name,
            fn=train_run_job,
            args=(paths, str(out / "runs" / name), settings, trust_pickle),
        )
        for name, settings in runs
    ]
    outcomes = run_jobs(
        specs, scheduler=scheduler, workers=workers, progress=progress, cancel=cancel
    )
    result = SweepResult(out, rows=_rows(runs, outcomes, sweep))
    ranked = [r for r in result.rows if r["val_rmse_nA"] is not None]
    if ranked:
        result.best = ranked[0]
        result.files = _copy_best(Path(result.best["out_dir"]), out)
    _write_tables(result)
    return result


def _rows(
    runs: list[tuple[str, TrainingSettings]], outcomes: list[JobOutcome], sweep: Sweep
) -> list[dict]:
    varied = sorted({k for _, values in sweep.runs for k in values})
    rows = []
    for (name, settings), outcome in zip(runs, outcomes):
        params = {k: _plain(getattr(settings, k)) for k in varied}
        row = {"run": name, **params, "status": outcome.status, "error": outcome.error}
        row.update(
            outcome.result
            or {
                "out_dir": "",
                "best_epoch": None,
                "epochs_run": 0,
                "val_rmse_nA": None,
                "test_rmse_nA": None,
                "train_rmse_nA": None,
            }
        )
        row["seconds"] = round(outcome.seconds, 3)
        rows.append(row)
    return sorted(rows, key=lambda r: (r["val_rmse_nA"] is None, r["val_rmse_nA"] or 0.0))


def _cell(value: Any) -> Any:
    """A CSV cell: lists (hidden sizes) as JSON, the rest as they are."""
    return json.dumps(value) if isinstance(value, list) else value


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _copy_best(run_dir: Path, out: Path) -> dict[str, Path]:
    """The best run's files, copied into the sweep's folder (the run's own stay)."""
    copied = {}
    for item in sorted(run_dir.iterdir()):
        if item.is_file():
            with written_atomically(out / item.name) as tmp:
                shutil.copyfile(item, tmp)
            copied[item.name] = out / item.name
    return copied


def _write_tables(result: SweepResult) -> None:
    result.out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        result.out_dir / f"{RESULTS_NAME}.json",
        json.dumps({"runs": result.rows, "best": result.best}, indent=2),
    )
    buffer = io.StringIO()
    if result.rows:
        columns = list(result.rows[0])
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        for row in result.rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()}
            )
    write_text_atomic(result.out_dir / f"{RESULTS_NAME}.csv", buffer.getvalue())
