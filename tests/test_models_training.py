"""Surrogate training against brainspy-smg's own runs, and our checkpoint format."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

import numpy as np
import pytest
import torch
from conftest import BSPYSMG_FIXTURES
from torch import nn

from backend.errors import Cancelled, SamplelabError
from backend.jobs import CancelToken
from backend.models import SurrogateModel, TrainingCancelled, read_peer_config, train_surrogate
from backend.models.checkpoint import PEER_KEYS, load_checkpoint
from backend.models.network import Structure, SurrogateNetwork
from backend.models.settings import TrainingSettings

LIFECYCLES = ["lifecycle_small_sawtooth", "lifecycle_small_sine"]


def peer_run(folder: str) -> tuple[TrainingSettings, list, dict]:
    settings, paths = read_peer_config(BSPYSMG_FIXTURES / folder / "smg_configs.yaml")
    log = json.loads((BSPYSMG_FIXTURES / folder / "training_log.json").read_text())
    return settings, paths, log


def small_settings(**changes) -> TrainingSettings:
    return TrainingSettings(hidden=(16, 16), epochs=4, batch_size=64, seed=3).replace(**changes)


def sawtooth() -> list:
    return [BSPYSMG_FIXTURES / "small_sawtooth" / "postprocessed_data.npz"]


# --- the peer's files and runs ------------------------------------------------------------


@pytest.mark.parametrize("folder", LIFECYCLES)
def test_peer_surrogate_predicts_exactly_what_the_peer_computed(folder):
    """The peer's own I-V curves through its surrogate are reproduced bit for bit."""
    model = SurrogateModel.load(BSPYSMG_FIXTURES / folder / "training_data.pt")
    iv = np.load(BSPYSMG_FIXTURES / folder / "iv_curves.npz")
    peer = torch.load(BSPYSMG_FIXTURES / folder / "training_data.pt", weights_only=False)
    lo, hi = peer["info"]["electrode_info"]["output_electrodes"]["clipping_value"]
    for electrode, wave in enumerate(iv["voltages"]):
        x = np.zeros((len(wave), 7), dtype=np.float32)
        x[:, electrode] = wave
        ours = np.clip(model(x), np.float32(lo), np.float32(hi)).astype(np.float32)
        np.testing.assert_array_equal(ours, iv["currents"][electrode])


@pytest.mark.parametrize("folder", LIFECYCLES)
def test_peer_surrogate_predicts_as_the_former_double_precision_path(folder):
    path = BSPYSMG_FIXTURES / folder / "training_data.pt"
    peer = torch.load(path, weights_only=False)
    layers: list[nn.Module] = []
    state = peer["model_state_dict"]
    keys = [k for k in state if k.endswith("weight")]
    for i, key in enumerate(keys):
        layer = nn.Linear(state[key].shape[1], state[key].shape[0]).double()
        layer.weight.data = state[key].double()
        layer.bias.data = state[key[:-6] + "bias"].double()
        layers += [layer, nn.ReLU()] if i < len(keys) - 1 else [layer]
    x = np.random.default_rng(1).uniform(-1.2, 0.6, (500, 7))
    with torch.no_grad():
        before = nn.Sequential(*layers)(torch.from_numpy(x)).numpy() * 39.17
    np.testing.assert_allclose(SurrogateModel.load(path)(x), before, rtol=0, atol=1e-3)


@pytest.mark.parametrize("folder", LIFECYCLES)
def test_same_data_seed_and_epochs_as_the_peer_give_its_test_rmse(folder, tmp_path):
    settings, paths, log = peer_run(folder)
    assert (settings.seed, settings.epochs) == (log["seed"], log["epochs"])
    result = train_surrogate(paths, tmp_path, settings, trust_pickle=True, figures=False)
    print(f"{folder}: test RMSE ours {result.test_rmse_nA:.6f} nA, peer {log['test_rmse_nA']:.6f}")
    assert result.test_rmse_nA <= 1.10 * log["test_rmse_nA"]
    # Same seed, same split, weights and batch order: the curves start where the peer's do.
    np.testing.assert_allclose(result.train_nA[:5], log["train_rmse_nA"][:5], rtol=1e-3)
    np.testing.assert_allclose(result.val_nA[:5], log["val_rmse_nA"][:5], rtol=1e-3)


def _types(value):
    """A nested description of a checkpoint's types (dicts by key, tensors by dtype and rank)."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        return ("tensor", value.dtype, value.ndim)
    return type(value).__name__


def test_our_checkpoint_has_the_peers_keys_and_types(tmp_path):
    folder = LIFECYCLES[0]
    settings, paths, _ = peer_run(folder)
    train_surrogate(paths, tmp_path, settings.replace(epochs=3), trust_pickle=True, figures=False)
    ours = torch.load(tmp_path / "training_data.pt", weights_only=True)  # no allow-list at all
    peer = load_checkpoint(BSPYSMG_FIXTURES / folder / "training_data.pt")
    assert set(ours) == set(peer) == {*PEER_KEYS, "test_loss"}
    for key in ("epoch", "train_losses", "val_losses", "min_val_loss", "test_loss"):
        assert _types(ours[key]) == _types(peer[key]), key
    assert isinstance(ours["model_state_dict"], OrderedDict)
    assert _types(ours["model_state_dict"]) == _types(peer["model_state_dict"])
    assert _types(ours["optimizer_state_dict"]) == _types(peer["optimizer_state_dict"])
    assert set(ours["info"]) == set(peer["info"])
    assert ours["info"]["model_structure"].items() >= peer["info"]["model_structure"].items()
    ours_info, peer_info = ours["info"]["electrode_info"], peer["info"]["electrode_info"]
    assert set(ours_info) == set(peer_info)
    np.testing.assert_allclose(
        ours_info["activation_electrodes"]["voltage_ranges"],
        peer_info["activation_electrodes"]["voltage_ranges"],
    )
    peer_training = peer["info"]["training_configs"]
    ours_training = ours["info"]["training_configs"]
    assert set(peer_training) <= set(ours_training)
    assert set(peer_training["data"]) <= set(ours_training["data"])
    assert ours["train_losses"].shape == (ours["epoch"] + 1, 1)
    # brains-py rebuilds the optimizer from it: torch's Adam must accept it
    net = SurrogateNetwork(Structure(7, 1))
    adam = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.75))
    adam.load_state_dict(ours["optimizer_state_dict"])
    net.raw_model.load_state_dict(
        {k.removeprefix("raw_model."): v for k, v in ours["model_state_dict"].items()}
    )


def test_peer_files_need_no_trust_but_other_objects_do(tmp_path):
    peer = BSPYSMG_FIXTURES / LIFECYCLES[0] / "training_data.pt"
    assert load_checkpoint(peer)["epoch"] == 107  # numpy arrays in info: the numeric allow-list
    odd = tmp_path / "odd.pt"
    data = torch.load(peer, weights_only=False)
    data["info"]["when"] = __import__("datetime").date(2024, 1, 1)
    torch.save(data, odd)
    with pytest.raises(SamplelabError, match="not plain weights"):
        load_checkpoint(odd)
    assert load_checkpoint(odd, trust_pickle=True)["info"]["when"].year == 2024


# --- behaviour of a run -------------------------------------------------------------------


def test_same_seed_same_model_and_a_new_seed_another(tmp_path):
    runs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        settings = small_settings(seed=seed)
        train_surrogate(sawtooth(), tmp_path / name, settings, trust_pickle=True, figures=False)
        runs.append(torch.load(tmp_path / name / "training_data.pt", weights_only=True))
    a, b, c = (r["model_state_dict"] for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_outputs_summary_and_provenance(tmp_path):
    result = train_surrogate(sawtooth(), tmp_path, small_settings(), trust_pickle=True)
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "training_data.pt",
        "training_profile.png",
        "TRAINING_error.png",
        "TRAINING_error_vs_output.png",
        "VALIDATION_error.png",
        "TEST_error_vs_output.png",
        "smg_configs.yaml",
        "training_summary.json",
    } <= names
    assert not [n for n in names if "partial" in n]
    summary = json.loads((tmp_path / "training_summary.json").read_text())
    assert summary["status"] == "complete" and summary["seed"] == 3
    assert len(summary["train_rmse_nA"]) == len(summary["val_rmse_nA"]) == 4
    assert summary["data"]["rows"] == {"train": 387, "validation": 48, "test": 48}  # of 483
    (source,) = summary["data"]["sources"]
    digest = hashlib.sha256(sawtooth()[0].read_bytes()).hexdigest()
    assert source["files"][0]["sha256"] == digest and source["role"] == "all"
    assert summary["test_rmse_nA"] == pytest.approx(result.test_rmse_nA)
    # the written config trains the same model again
    again, paths = read_peer_config(tmp_path / "smg_configs.yaml")
    assert (again.seed, again.hidden, again.epochs) == (3, (16, 16), 4)
    assert paths == [sawtooth()[0].resolve()]


def test_cancel_after_epochs_keeps_the_best_checkpoint(tmp_path):
    token = CancelToken()
    seen = []

    def progress(p):
        if getattr(p, "epoch", 0) >= 3 and not token.cancelled:
            seen.append(p.epoch)
            token.cancel()

    with pytest.raises(TrainingCancelled) as stopped:
        train_surrogate(
            sawtooth(),
            tmp_path,
            small_settings(epochs=100_000),
            trust_pickle=True,
            figures=False,
            progress=progress,
            cancel=token,
        )
    result = stopped.value.result
    # a report can come from an epoch's last step: that epoch then completes before the check
    assert result.status == "cancelled" and len(result.train_nA) in (seen[0], seen[0] + 1)
    saved = torch.load(tmp_path / "training_data.pt", weights_only=True)
    assert saved["epoch"] == result.best_epoch < len(result.train_nA)
    assert json.loads((tmp_path / "training_summary.json").read_text())["status"] == "cancelled"


def test_cancel_before_the_first_epoch_leaves_nothing(tmp_path):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        train_surrogate(
            sawtooth(), tmp_path / "out", small_settings(), trust_pickle=True, cancel=token
        )
    assert not (tmp_path / "out").exists()


def test_early_stopping_stops_after_patience_epochs(tmp_path):
    settings = small_settings(epochs=400, patience=2, learning_rate=0.05)
    result = train_surrogate(sawtooth(), tmp_path, settings, trust_pickle=True, figures=False)
    assert result.status == "early_stopped"
    assert len(result.train_nA) == result.best_epoch + 3 < 400


def test_existing_results_are_kept_unless_overwrite(tmp_path):
    train_surrogate(sawtooth(), tmp_path, small_settings(), trust_pickle=True, figures=False)
    with pytest.raises(SamplelabError, match="already holds"):
        train_surrogate(sawtooth(), tmp_path, small_settings(), trust_pickle=True, figures=False)
    (tmp_path / "TEST_error.png").write_bytes(b"stale")  # an old run's figure: cleared
    train_surrogate(
        sawtooth(), tmp_path, small_settings(), trust_pickle=True, figures=False, overwrite=True
    )
    assert not (tmp_path / "TEST_error.png").exists()


def test_peer_npz_config_needs_trust(tmp_path):
    with pytest.raises(SamplelabError, match="pickle"):
        train_surrogate(sawtooth(), tmp_path, small_settings())


def test_recording_and_export_folder_train(tmp_path, recording):
    from backend.datasets import export_dataset

    result = train_surrogate([recording], tmp_path / "rec", small_settings(), figures=False)
    assert set(result.scores) == {"train", "validation", "test"}
    export_dataset([recording], tmp_path / "ds", (0.6, 0.2, 0.2), blocks=True)
    result = train_surrogate([tmp_path / "ds"], tmp_path / "ds_model", small_settings())
    rows = {name: s.rows for name, s in result.scores.items()}
    assert rows == {"train": 180, "validation": 60, "test": 60}
    data = torch.load(tmp_path / "ds_model" / "training_data.pt", weights_only=True)
    assert {"validation_sampling_configs", "test_sampling_configs"} <= set(data["info"])


def test_initial_weights_follow_brains_py_and_leave_the_global_rng_alone():
    before = torch.get_rng_state()
    net = SurrogateNetwork(Structure(7, 1), torch.Generator().manual_seed(1))
    assert torch.equal(before, torch.get_rng_state())
    torch.manual_seed(1)  # brains-py's NeuralNetworkModel: input, OUTPUT, then hidden layers
    first, last = nn.Linear(7, 90), nn.Linear(90, 1)
    hidden = [nn.Linear(90, 90) for _ in range(4)]
    for a, b in zip(net.linears, [first, *hidden, last]):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)


def test_batch_norm_model_round_trips_through_the_device_model(tmp_path):
    settings = small_settings(activation="tanh", batch_norm=True)
    result = train_surrogate(sawtooth(), tmp_path, settings, trust_pickle=True, figures=False)
    model = SurrogateModel.load(tmp_path / "training_data.pt")
    assert model.net.structure.batch_norm and model.net.structure.activation == "tanh"
    test = result.scores["test"]
    data = np.load(sawtooth()[0], allow_pickle=True)
    x = data["inputs"]
    assert np.isclose(model.test_rmse_nA, result.test_rmse_nA)
    assert model(x).shape == (len(x), 1)
    assert test.predicted.shape == test.measured.shape


def test_the_best_checkpoint_is_on_disk_while_training(tmp_path):
    token, seen = CancelToken(), []

    def progress(p):
        if getattr(p, "epoch", 0) >= 3 and not seen:
            mid = torch.load(tmp_path / "training_data.pt", weights_only=True)
            seen.append((mid["epoch"], "test_loss" in mid, p.epoch))
            token.cancel()

    with pytest.raises(TrainingCancelled):
        train_surrogate(
            sawtooth(),
            tmp_path,
            small_settings(epochs=100_000),
            trust_pickle=True,
            figures=False,
            checkpoint_every_s=0.0,
            progress=progress,
            cancel=token,
        )
    assert len(seen) == 1 and seen[0][0] < seen[0][2] and not seen[0][1]
    assert "test_loss" in torch.load(tmp_path / "training_data.pt", weights_only=True)
