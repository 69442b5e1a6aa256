"""Hyperparameter sweeps: the sweep file, and runs trained one after another here."""

from __future__ import annotations

import json

import pytest
from conftest import BSPYSMG_FIXTURES

from backend.errors import SamplelabError
from backend.models.settings import TrainingConfigError, TrainingSettings
from backend.models.sweep import parse_sweep, read_sweep, train_sweep

NPZ = BSPYSMG_FIXTURES / "small_sine" / "postprocessed_data.npz"
TINY = TrainingSettings(hidden=(8,), epochs=2, batch_size=64, seed=3)


def test_a_grid_is_every_combination_in_order():
    sweep = parse_sweep(
        {"parameters": {"learning_rate": [1e-3, 3e-3], "hidden": [[8, 8], [16]], "epochs": [2]}}
    )
    assert [name for name, _ in sweep.runs] == ["run1", "run2", "run3", "run4"]
    assert [v for _, v in sweep.runs] == [
        {"learning_rate": 1e-3, "hidden": (8, 8), "epochs": 2},
        {"learning_rate": 1e-3, "hidden": (16,), "epochs": 2},
        {"learning_rate": 3e-3, "hidden": (8, 8), "epochs": 2},
        {"learning_rate": 3e-3, "hidden": (16,), "epochs": 2},
    ]


def test_random_draws_are_seeded_and_inside_their_ranges():
    data = {
        "mode": "random",
        "samples": 20,
        "seed": 4,
        "parameters": {
            "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
            "batch_size": {"low": 32, "high": 512},
            "activation": ["relu", "elu"],
        },
    }
    a, b = parse_sweep(data), parse_sweep(data)
    assert a.runs == b.runs and len(a.runs) == 20
    for _, values in a.runs:
        assert 1e-4 <= values["learning_rate"] <= 1e-2
        assert isinstance(values["batch_size"], int) and 32 <= values["batch_size"] <= 512
        assert values["activation"] in ("relu", "elu")
    assert parse_sweep({**data, "seed": 5}).runs != a.runs


@pytest.mark.parametrize(
    "data, named",
    [
        ({"parameters": {"momentum": [0.9]}}, "parameters.momentum"),
        ({"parameters": {"learning_rate": []}}, "parameters.learning_rate"),
        ({"parameters": {"learning_rate": {"low": 1, "high": 2}}}, "parameters.learning_rate"),
        ({"mode": "random", "parameters": {"epochs": [1]}}, "samples"),
        ({"mode": "sideways", "parameters": {"epochs": [1]}}, "mode"),
        ({"parameters": {"epochs": list(range(1, 40)), "batch_size": list(range(1, 40))}}, "1,521"),
        ({"parameters": {"epochs": [1]}, "extra": 1}, "extra"),
        ({}, "parameters"),
    ],
)
def test_a_bad_sweep_names_the_key(data, named):
    with pytest.raises(TrainingConfigError, match=named.replace(".", r"\.")):
        parse_sweep(data, "sweep.yaml")


def test_values_the_settings_refuse_are_named_per_run():
    sweep = parse_sweep({"parameters": {"learning_rate": [1e-3, -1.0]}})
    with pytest.raises(TrainingConfigError, match=r"run2\.learning_rate"):
        sweep.settings(TINY)


def test_a_sweep_file_is_read_safely(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("parameters:\n  epochs: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(SamplelabError, match="not a readable sweep file"):
        read_sweep(path)
    with pytest.raises(SamplelabError, match="sweep file not found"):
        read_sweep(tmp_path / "missing.yaml")


def test_runs_are_kept_ranked_and_the_best_is_copied(tmp_path):
    sweep = parse_sweep({"parameters": {"learning_rate": [1e-4, 1e-2]}})
    result = train_sweep([NPZ], sweep, tmp_path / "out", TINY, trust_pickle=True)
    assert [r["status"] for r in result.rows] == ["complete", "complete"]
    vals = [r["val_rmse_nA"] for r in result.rows]
    assert vals == sorted(vals) and result.best == result.rows[0]
    best_dir = tmp_path / "out" / "runs" / result.best["run"]
    assert (best_dir / "training_data.pt").read_bytes() == result.files[
        "training_data.pt"
    ].read_bytes()
    for run in ("run1", "run2"):
        assert (tmp_path / "out" / "runs" / run / "training_data.pt").is_file()
    table = json.loads((tmp_path / "out" / "sweep_results.json").read_text())
    assert table["best"]["run"] == result.best["run"] and len(table["runs"]) == 2
    header = (tmp_path / "out" / "sweep_results.csv").read_text().splitlines()[0]
    assert header.startswith("run,learning_rate,status")


def test_a_failing_run_does_not_stop_the_others(tmp_path):
    sweep = parse_sweep({"parameters": {"batch_size": [64, 128]}})
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"broken")
    result = train_sweep([bad], sweep, tmp_path / "out", TINY)
    assert [r["status"] for r in result.rows] == ["failed", "failed"] and result.best is None
    assert "bad.npz" in result.rows[0]["error"]
    assert (tmp_path / "out" / "sweep_results.json").is_file()


def test_the_command_line_prints_the_table_and_the_best_model(tmp_path, capsys):
    from app.cli import main

    (tmp_path / "sweep.yaml").write_text("parameters:\n  hidden: [[8], [4, 4]]\n")
    sweep = ["--sweep", str(tmp_path / "sweep.yaml"), "--epochs", "2", "--seed", "1"]
    code = main(["train", str(NPZ), "--trust-pickle", *sweep, "--out", str(tmp_path / "out"), "-q"])
    out, err = capsys.readouterr()
    assert code == 0 and out.splitlines()[-1] == str(tmp_path / "out" / "training_data.pt")
    assert err.splitlines()[0].split()[:2] == ["run", "hidden"] and "best: run" in err
    code = main(["train", str(NPZ), "--workers", "2", "--out", str(tmp_path / "x")])
    assert code == 1 and "--sweep" in capsys.readouterr().err
