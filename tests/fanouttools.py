"""Recordings and output checks shared by the fan-out tests (CLI, backend and GUI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from backend.postprocess.job import STAGING_PREFIX as PREFIX


def big_recording(path: Path, batches: int, seed: int = 1) -> Path:
    """A recording of the 7x1 sawtooth preset on the analytic model, written directly."""
    from backend.acquisition.waves import BatchPlan
    from backend.config import load_config
    from backend.devices.models import AnalyticModel
    from backend.recording.writer import RecordingWriter
    from resources import preset_path

    config = load_config(preset_path("dnpu-7x1-sawtooth")).model_copy(deep=True)
    config.input_data.number_batches = batches
    plan = BatchPlan(config, seed=seed)
    model = AnalyticModel(config.voltage_ranges(), config.n_outputs, seed=0, scale_nA=175.0)
    with RecordingWriter.create(path, config, {"kind": "test"}, seed=seed) as writer:
        for i in range(len(plan)):
            batch = plan.batch(i)
            writer.append(i, batch.inputs, model(batch.inputs), batch.phases, batch.t0, 0.0, 0.0)
    return path


def arrays(folder: Path) -> dict[str, np.ndarray]:
    out = {}
    for npz in sorted(folder.glob("*.npz")):
        with np.load(npz, allow_pickle=False) as data:
            for key in ("inputs", "outputs"):
                out[f"{npz.name}:{key}"] = data[key]
    return out


def assert_same_outputs(a: Path, b: Path) -> None:
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    got, want = arrays(a), arrays(b)
    assert got.keys() == want.keys() and got
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def no_staging_left(root: Path) -> bool:
    return not [p for p in root.rglob(f"{PREFIX}*")]
