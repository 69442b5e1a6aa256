"""Training settings: every problem named, the peer's config file read safely and with bounds."""

from __future__ import annotations

import pytest
from conftest import BSPYSMG_FIXTURES

from backend.errors import SamplelabError
from backend.models.settings import (
    TrainingConfigError,
    TrainingSettings,
    parse_hidden,
    parse_split,
    read_peer_config,
)
from backend.models.structure import Structure


def test_every_bad_field_is_named_at_once():
    settings = TrainingSettings(
        hidden=(90, 0), activation="swish", epochs=0, learning_rate=float("nan"), batch_size=-1,
        split=(0.5, 0.2), seed=-3, patience=0, device="tpu", threads=0,
    )  # fmt: skip
    paths = [p.path for p in settings.problems()]
    assert paths == [
        "hidden", "activation", "epochs", "learning_rate", "batch_size", "split", "seed",
        "patience", "threads", "device",
    ]  # fmt: skip
    with pytest.raises(TrainingConfigError, match="invalid training settings"):
        settings.check()
    assert TrainingSettings().problems() == []


def test_patience_needs_a_validation_split():
    problems = TrainingSettings(split=(1.0,), patience=3).problems()
    assert [p.path for p in problems] == ["patience"]


def test_networks_too_big_to_hold_are_refused_before_any_memory_is_taken():
    (problem,) = TrainingSettings(hidden=(100_000,) * 50).problems()  # 10^11 weights
    assert problem.path == "hidden" and "at most 50,000,000" in problem.message
    assert TrainingSettings(hidden=(2000,) * 5).problems() == []  # 16 million: allowed
    with pytest.raises(SamplelabError, match="would have 64,006,001 parameters"):
        Structure(d_in=30_000, d_out=1, hidden=(2000, 2000)).check()  # the input layer counts
    # A model file naming a huge structure is refused before torch allocates it.
    with pytest.raises(SamplelabError, match="at most 50,000,000"):
        Structure.from_peer({"hidden_sizes": [90_000] * 10}, 7, 1).check()


@pytest.mark.parametrize(
    ("text", "value"), [("90,90,90", (90, 90, 90)), ("90x5", (90,) * 5), (" 8 , 16 ", (8, 16))]
)
def test_hidden_sizes_are_parsed(text, value):
    assert parse_hidden(text) == value


def test_bad_hidden_and_split_texts():
    with pytest.raises(SamplelabError, match="not understood"):
        parse_hidden("ninety")
    with pytest.raises(SamplelabError, match="add up to 1"):
        parse_split("0.5,0.2")
    assert parse_split("0.8,0.1,0.1") == (0.8, 0.1, 0.1)


def test_the_peers_config_is_read_with_paths_from_its_folder():
    settings, paths = read_peer_config(
        BSPYSMG_FIXTURES / "lifecycle_small_sine" / "smg_configs.yaml"
    )
    assert (settings.epochs, settings.batch_size, settings.seed) == (150, 128, 1)
    assert settings.hidden == (90,) * 5 and settings.split == (0.8, 0.1, 0.1)
    assert paths == [(BSPYSMG_FIXTURES / "small_sine" / "postprocessed_data.npz").resolve()]
    assert settings.extra["worker_no"] == 0


def test_config_problems_name_the_peers_keys(tmp_path):
    path = tmp_path / "smg.yaml"
    path.write_text(
        "model_structure: {hidden_sizes: [90, -1], activation: gelu}\n"
        "hyperparameters: {epochs: 1.5, learning_rate: 1e-3}\n"
        "data: {batch_size: 0, dataset_paths: [a.npz], split_percentages: [0.9, 0.2]}\n"
    )
    with pytest.raises(TrainingConfigError) as error:
        read_peer_config(path)
    assert [p.path for p in error.value.problems] == [
        "model_structure.hidden_sizes",
        "model_structure.activation",
        "hyperparameters.epochs",
        "data.batch_size",
        "data.split_percentages",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("seed: [unclosed", "not a readable training config"),
        ("!!python/object/apply:os.system ['true']", "not a readable training config"),
        ("- just\n- a list", "does not hold a mapping"),
        ("data: 7", "must be a mapping"),
    ],
)
def test_bad_config_files_are_one_clear_message(tmp_path, content, message):
    path = tmp_path / "smg.yaml"
    path.write_text(content)
    with pytest.raises(SamplelabError, match=message):
        read_peer_config(path)


def test_huge_or_missing_config_files_are_refused(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (2 << 20))
    with pytest.raises(SamplelabError, match="a training config is at most 1,048,576 bytes"):
        read_peer_config(path)
    with pytest.raises(SamplelabError, match="not found"):
        read_peer_config(tmp_path / "missing.yaml")
