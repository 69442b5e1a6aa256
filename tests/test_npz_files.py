"""npz datasets: streamed writing, the peer's layout, and the pickle trust rule."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from npztools import PickleBomb, same

from backend.data.formats.npz import UntrustedPickleError, load_npz, read_npz_arrays
from backend.data.formats.npz_config import read_npz_config
from backend.data.formats.npz_write import (
    JSON_CONFIG_KEY,
    NpzWriter,
    config_from_json,
    config_to_json,
    write_npz,
)
from backend.data.formats.npzfile import iter_npz_rows, npz_keys
from backend.errors import FileFormatError


def _config() -> dict:
    return {
        "driver": {"amplification": [39.17]},
        "input_data": {"amplitude": np.array([0.9, 0.5]), "number_batches": 3},
        "electrode_info": {
            "activation_electrodes": {
                "voltage_ranges": np.array([[-1.2, 0.6], [-0.7, 0.3]], dtype=np.float32)
            }
        },
    }


def _member_bytes(path: Path, key: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(key + ".npy")


def test_streamed_member_is_what_np_save_writes(tmp_path):
    data = np.random.default_rng(0).normal(size=(1000, 7))
    with NpzWriter(tmp_path / "a.npz") as npz:
        npz.write_rows("inputs", data.shape, (data[i : i + 97] for i in range(0, 1000, 97)))
    saved = io.BytesIO()
    np.save(saved, data)
    assert _member_bytes(tmp_path / "a.npz", "inputs") == saved.getvalue()


def test_streamed_member_must_get_the_announced_rows(tmp_path):
    with NpzWriter(tmp_path / "a.npz") as npz, pytest.raises(ValueError, match="announced"):
        npz.write_rows("inputs", (10, 2), [np.zeros((4, 2))])
    with NpzWriter(tmp_path / "b.npz") as npz, pytest.raises(ValueError, match="more than"):
        npz.write_rows("inputs", (3, 2), [np.zeros((4, 2))])


def test_config_json_round_trips_arrays_with_dtypes():
    config = _config()
    assert same(config_from_json(config_to_json(config)), config)


def test_our_npz_reads_the_peer_way_and_our_way(tmp_path):
    x, y = np.ones((5, 2)), np.arange(5.0)[:, None]
    path = write_npz(tmp_path / "d.npz", x, y, _config())
    assert npz_keys(path) == ["inputs", "outputs", "sampling_configs", JSON_CONFIG_KEY]
    with np.load(path, allow_pickle=True) as data:  # the peer's loader
        assert same(data["sampling_configs"].tolist(), _config())
        assert np.array_equal(data["inputs"], x)
    ours = load_npz(path)  # no pickle needed: the JSON copy
    assert ours.config_source == "json"
    assert same(ours.sampling_configs, _config())
    assert ours.amplification.tolist() == [39.17]


def _peer_npz(path: Path, config) -> Path:
    np.savez(path, inputs=np.zeros((3, 2)), outputs=np.ones((3, 1)), sampling_configs=config)
    return path


def test_peer_npz_needs_explicit_trust(tmp_path):
    path = _peer_npz(tmp_path / "peer.npz", _config())
    x, y = read_npz_arrays(path)  # arrays never need pickle
    assert x.shape == (3, 2) and y.shape == (3, 1)
    with pytest.raises(UntrustedPickleError) as info:
        read_npz_config(path)
    assert "pickle" in str(info.value) and "--trust-pickle" in str(info.value)
    assert same(read_npz_config(path, trust_pickle=True), _config())
    loose = load_npz(path, need_config=False)
    assert loose.sampling_configs is None and loose.inputs.shape == (3, 2)


def test_pickle_bomb_is_never_executed_without_opt_in(tmp_path):
    marker = tmp_path / "exploded"
    path = tmp_path / "bomb.npz"
    np.savez(
        path,
        inputs=np.zeros((2, 2)),
        outputs=np.zeros((2, 1)),
        sampling_configs=np.array(PickleBomb(marker), dtype=object),
    )
    with zipfile.ZipFile(path) as zf:  # the payload really is in there
        assert b"system" in zf.read("sampling_configs.npy")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(UntrustedPickleError):
        load_npz(path)
    read_npz_arrays(path)
    list(iter_npz_rows(path, "inputs"))
    assert not marker.exists()
    assert sorted(tmp_path.iterdir()) == before


def test_object_arrays_in_place_of_data_are_refused(tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, inputs=np.array([{"a": 1}], dtype=object), outputs=np.zeros((1, 1)))
    with pytest.raises(FileFormatError, match="Python objects"):
        read_npz_arrays(path)
    with pytest.raises(FileFormatError, match="Python objects"):
        list(iter_npz_rows(path, "inputs"))


def test_iter_rows_of_stored_and_compressed_files(tmp_path):
    data = np.random.default_rng(1).normal(size=(1234, 3))
    np.savez_compressed(tmp_path / "c.npz", inputs=data)
    np.savez(tmp_path / "s.npz", inputs=np.asfortranarray(data))
    for name in ("c.npz", "s.npz"):
        blocks = list(iter_npz_rows(tmp_path / name, "inputs", rows=100))
        assert [b[0] for b in blocks] == list(range(0, 1234, 100))
        assert np.array_equal(np.concatenate([b[1] for b in blocks]), data)


def test_missing_key_and_not_a_zip(tmp_path):
    np.savez(tmp_path / "x.npz", something=np.zeros(3))
    with pytest.raises(FileFormatError, match="no 'inputs' array"):
        read_npz_arrays(tmp_path / "x.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="not a readable"):
        read_npz_arrays(tmp_path / "junk.npz")
    with pytest.raises(FileFormatError, match="holds no sampling config"):
        read_npz_config(tmp_path / "x.npz", trust_pickle=True)


def test_fixture_npz_files_read_without_pickle(bspysmg_folder):
    x, y = read_npz_arrays(bspysmg_folder / "postprocessed_data.npz")
    assert x.shape[1] == 7 and y.shape[1] == 1 and len(x) == len(y)
    with pytest.raises(UntrustedPickleError):
        read_npz_config(bspysmg_folder / "postprocessed_data.npz")
    trusted = read_npz_config(bspysmg_folder / "postprocessed_data.npz", trust_pickle=True)
    assert trusted["electrode_info"]["electrode_no"] == 8
    assert pickle.dumps(trusted)  # a plain dict of builtins and numpy arrays
