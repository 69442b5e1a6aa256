"""PyTorch datasets: the peer's semantics on its own files, lazy batched reads, exports."""

from __future__ import annotations

import copy
import functools
import operator

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from backend.data.formats.raw import write_raw
from backend.data.reader import ArrayReader
from backend.datasets import (
    BlockBatchSampler,
    ChunkStore,
    DatasetCollection,
    ModelDataset,
    Offset,
    RecordingDataset,
    WindowedDataset,
    block_split_indices,
    build_chunk_store,
    export_dataset,
    get_dataloaders,
    get_info_dict,
    random_split_indices,
    recording_loader,
    split_sizes,
)
from backend.errors import FileFormatError, SamplelabError

AMPLIFICATION = 39.17


def _peer_npz(folder):
    return folder / "postprocessed_data.npz"


def _peer_style_copy(folder, where):
    """An npz written exactly as the peer's save_npz does: config only as a pickle."""
    with np.load(_peer_npz(folder), allow_pickle=True) as data:  # a known file
        config = data["sampling_configs"].item()
        inputs, outputs = data["inputs"], data["outputs"]
    path = where / "peer_style.npz"
    np.savez(path, inputs=inputs, outputs=outputs, sampling_configs=config)
    return path


def _training_configs(paths, **data):
    return {
        "seed": 3,
        "model_structure": {"hidden_sizes": [90] * 5, "D_in": 7, "D_out": 1},
        "hyperparameters": {"epochs": 1, "learning_rate": 1e-3},
        "data": {
            "dataset_paths": [str(p) for p in paths],
            "steps": 1,
            "batch_size": 64,
            "worker_no": 0,
            "pin_memory": False,
            **data,
        },
    }


# --- ModelDataset / get_dataloaders / get_info_dict ----------------------------------
def test_model_dataset_matches_the_peer_on_its_own_file(bspysmg_folder):
    peer = np.load(_peer_npz(bspysmg_folder), allow_pickle=True)
    ds = ModelDataset(_peer_npz(bspysmg_folder), trust_pickle=True)
    expected_inputs = torch.tensor(peer["inputs"], dtype=torch.float32)
    expected_targets = torch.tensor(
        peer["outputs"] / np.array([AMPLIFICATION]), dtype=torch.float32
    )
    assert torch.equal(ds.inputs, expected_inputs)
    assert torch.equal(ds.targets, expected_targets)
    x, y = ds[5]
    assert torch.equal(x, expected_inputs[5]) and torch.equal(y, expected_targets[5])
    assert ds.sampling_configs["electrode_info"]["output_electrodes"]["amplification"] == [
        AMPLIFICATION
    ]


def test_model_dataset_steps(bspysmg_folder):
    peer = np.load(_peer_npz(bspysmg_folder), allow_pickle=True)
    ds = ModelDataset(_peer_npz(bspysmg_folder), steps=3, trust_pickle=True)
    assert torch.equal(ds.inputs, torch.tensor(peer["inputs"][::3], dtype=torch.float32))


def test_model_dataset_needs_trust_for_the_peer_pickle(bspysmg_folder, tmp_path):
    path = _peer_style_copy(bspysmg_folder, tmp_path)
    with pytest.raises(FileFormatError, match="trust"):
        ModelDataset(path)
    assert len(ModelDataset(path, trust_pickle=True)) > 0


def test_get_info_dict_does_not_touch_its_inputs(bspysmg_folder):
    ds = ModelDataset(_peer_npz(bspysmg_folder), trust_pickle=True)
    training = _training_configs([_peer_npz(bspysmg_folder)])
    before_t, before_s = copy.deepcopy(training), copy.deepcopy(ds.sampling_configs)
    info = get_info_dict(training, ds.sampling_configs)
    assert set(info) == {
        "model_structure",
        "electrode_info",
        "training_configs",
        "sampling_configs",
    }
    assert "model_structure" not in info["training_configs"]
    assert "electrode_info" not in info["sampling_configs"]
    assert training == before_t
    assert ds.sampling_configs.keys() == before_s.keys()


def test_get_dataloaders_one_file_split(bspysmg_folder):
    path = _peer_npz(bspysmg_folder)
    configs = _training_configs([path], split_percentages=[0.7, 0.2, 0.1])  # peer: fails
    before = copy.deepcopy(configs)
    loaders, amplification, info = get_dataloaders(configs, trust_pickle=True)
    n = len(ModelDataset(path, trust_pickle=True))
    assert [len(dl.dataset) for dl in loaders] == split_sizes(n, [0.7, 0.2, 0.1])
    assert split_sizes(n, [0.7, 0.2, 0.1])[0] == int(np.ceil(0.7 * n))
    assert [dl.tag for dl in loaders] == ["train", "validation", "test"]
    assert isinstance(loaders[0].sampler, torch.utils.data.RandomSampler)
    assert isinstance(loaders[1].sampler, torch.utils.data.SequentialSampler)
    assert torch.equal(amplification, torch.tensor([AMPLIFICATION]))
    assert info["model_structure"]["D_in"] == 7
    assert configs == before


def test_get_dataloaders_one_split_gives_train_and_none(bspysmg_folder):
    loaders, _, _ = get_dataloaders(
        _training_configs([_peer_npz(bspysmg_folder)], split_percentages=[1]), trust_pickle=True
    )
    assert len(loaders) == 2 and loaders[1] is None


def test_get_dataloaders_blocks_do_not_interleave(bspysmg_folder):
    configs = _training_configs([_peer_npz(bspysmg_folder)], split_percentages=[0.8, 0.1, 0.1])
    loaders, _, _ = get_dataloaders(configs, trust_pickle=True, split="blocks")
    train, val, test = (dl.dataset.indices for dl in loaders)
    assert max(train) < min(val) and max(val) < min(test)


def test_get_dataloaders_rejects_bad_split_sums(bspysmg_folder):
    configs = _training_configs([_peer_npz(bspysmg_folder)], split_percentages=[0.7, 0.2])
    with pytest.raises(SamplelabError, match="add up to 1"):
        get_dataloaders(configs, trust_pickle=True)


def test_get_dataloaders_three_files_checks_amplification(tmp_path, bspysmg_folder):
    from backend.data.formats.npz import load_npz
    from backend.data.formats.npz_write import write_npz

    data = load_npz(_peer_npz(bspysmg_folder), trust_pickle=True)
    same = write_npz(tmp_path / "v.npz", data.inputs, data.outputs, data.sampling_configs)
    other_cfg = copy.deepcopy(data.sampling_configs)
    other_cfg["driver"]["amplification"] = [28.5]
    other = write_npz(tmp_path / "t.npz", data.inputs, data.outputs, other_cfg)
    configs = _training_configs([_peer_npz(bspysmg_folder), same, same])
    loaders, _, info = get_dataloaders(configs, trust_pickle=True)
    assert [dl.tag for dl in loaders] == ["train", "validation", "test"]
    assert "validation_sampling_configs" in info and "test_sampling_configs" in info
    with pytest.raises(SamplelabError, match=r"28\.5"):
        get_dataloaders(
            _training_configs([_peer_npz(bspysmg_folder), same, other]), trust_pickle=True
        )
    # our own npz carry the config as JSON: no trust needed
    assert len(ModelDataset(same)) == len(data.inputs)


# --- splits -------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 9, 10, 483, 1001])
def test_splits_partition_the_rows(n):
    for parts in (
        random_split_indices(n, [0.8, 0.1, 0.1], seed=1),
        block_split_indices(n, [0.8, 0.1, 0.1]),
        block_split_indices(n, [0.8, 0.1, 0.1], block_rows=7, seed=1),
    ):
        joined = np.concatenate(parts)
        assert sorted(joined.tolist()) == list(range(n))
    sizes = [len(p) for p in block_split_indices(n, [0.6, 0.4], block_rows=10, seed=2)]
    assert abs(sizes[0] - split_sizes(n, [0.6, 0.4])[0]) <= 10


def test_block_split_keeps_blocks_whole():
    parts = block_split_indices(1000, [0.5, 0.3, 0.2], block_rows=50, seed=4)
    for part in parts:
        assert all(
            len(set(part // 50) & set(other // 50)) == 0 for other in parts if other is not part
        )


# --- RecordingDataset ---------------------------------------------------------------
@pytest.fixture
def rec_dataset(recording):
    return RecordingDataset(recording)


def test_recording_dataset_matches_recording(recording, rec_dataset):
    from backend.recording.reader import Recording

    with Recording(recording) as rec:
        x, y = rec.read()
        amp = rec.config.amplification
    assert len(rec_dataset) == len(x)
    xi, yi = rec_dataset[17]
    assert torch.equal(xi, torch.tensor(x[17], dtype=torch.float32))
    assert torch.equal(yi, torch.tensor(y[17] / amp, dtype=torch.float32))
    bx, _by = rec_dataset[np.array([3, 250, 7])]
    assert torch.equal(bx, torch.tensor(x[[3, 250, 7]], dtype=torch.float32))


def test_one_read_per_dataloader_batch(rec_dataset, monkeypatch):
    reads = []
    original = type(rec_dataset.reader)._read

    def counting(self, start, stop, cols):
        reads.append((start, stop))
        return original(self, start, stop, cols)

    monkeypatch.setattr(type(rec_dataset.reader), "_read", counting)
    rec_dataset.cache_rows = 0  # no cache: each batch must still be a single read
    loader = DataLoader(rec_dataset, batch_size=32, shuffle=False)
    batches = list(loader)
    assert len(reads) == len(batches) == -(-len(rec_dataset) // 32)
    x, y = batches[0]
    assert x.shape == (32, 7) and y.shape == (32, 1)


def test_block_sampler_covers_each_index_once_and_is_seeded():
    sampler = BlockBatchSampler(1000, 32, buffer_batches=4, seed=5)
    sampler.set_epoch(2)
    first = [b.tolist() for b in sampler]
    sampler.set_epoch(2)
    assert [b.tolist() for b in sampler] == first
    assert sorted(functools.reduce(operator.iadd, first, [])) == list(range(1000))
    assert len(first) == len(sampler)
    for batch in first:  # every batch lies inside one buffer of 128 contiguous rows
        assert len({i // 128 for i in batch}) == 1
    sampler.set_epoch(3)
    assert [b.tolist() for b in sampler] != first
    ordered = list(BlockBatchSampler(100, 30, shuffle=False, drop_last=True))
    assert [len(b) for b in ordered] == [30, 30, 30] and ordered[0][0] == 0


def test_recording_loader_reads_each_buffer_once(rec_dataset, monkeypatch):
    reads = []
    original = type(rec_dataset.reader)._read
    monkeypatch.setattr(
        type(rec_dataset.reader),
        "_read",
        lambda self, a, b, c: reads.append((a, b)) or original(self, a, b, c),
    )
    rec_dataset.cache_rows = 0  # smallest cache: exactly one buffer
    loader = recording_loader(rec_dataset, 10, buffer_batches=5, seed=1)
    seen = torch.cat([x for x, _ in loader])
    assert len(seen) == len(rec_dataset)
    assert len(reads) == -(-len(rec_dataset) // 50)  # one read per buffer of 5 batches
    full = rec_dataset[np.arange(len(rec_dataset))][0]
    assert sorted(map(tuple, seen.tolist())) == sorted(map(tuple, full.tolist()))


def test_recording_loader_with_worker_processes(rec_dataset):
    loader = recording_loader(rec_dataset, 64, shuffle=False, num_workers=2)
    got = torch.cat([x for x, _ in loader])
    assert torch.equal(got, rec_dataset[np.arange(len(rec_dataset))][0])


def test_recording_dataset_subset_and_explicit_channels(tmp_path):
    data = np.arange(60.0).reshape(20, 3)
    path = write_raw(tmp_path / "d.bin", data, channel_names=["u", "v", "w"])
    ds = RecordingDataset(path, inputs=["w", "u"], targets=["v"], amplification=2.0)
    part = ds.subset(np.array([5, 1]))
    x, y = part[np.arange(2)]
    assert x.tolist() == [[17.0, 15.0], [5.0, 3.0]] and y.tolist() == [[8.0], [2.0]]
    with pytest.raises(SamplelabError, match="inputs="):
        RecordingDataset(path)


# --- windows and collections --------------------------------------------------------
def test_windows_are_clamped_at_the_edges():
    data = np.arange(10.0).reshape(10, 1)
    ds = WindowedDataset(ArrayReader(data), Offset(2, 2))
    assert ds[0][:, 0].tolist() == [0, 0, 0, 1]
    assert ds[5][:, 0].tolist() == [3, 4, 5, 6]
    assert ds[9][:, 0].tolist() == [7, 8, 9, 9]
    batch = ds[np.array([0, 9])]
    assert batch.shape == (2, 4, 1)
    with pytest.raises(SamplelabError):
        Offset(0, 0)


def test_scattered_windows_read_only_their_rows(monkeypatch):
    import backend.data.reader as readers
    import backend.datasets.windows as windows

    data = np.arange(1000.0).reshape(500, 2)
    reader = ArrayReader(data)
    ds = WindowedDataset(reader, Offset(1, 2), inputs=[0], targets=[1])
    monkeypatch.setattr(windows, "SPAN_ROWS", 8)
    monkeypatch.setattr(readers, "GAP_ROWS", 4)
    spans = []
    original = ArrayReader._read
    monkeypatch.setattr(
        ArrayReader, "_read", lambda self, a, b, c: spans.append(b - a) or original(self, a, b, c)
    )
    x, y = ds[np.array([499, 3, 250])]
    assert sum(spans) <= 12
    assert x[:, :, 0].tolist() == [[996, 998, 998], [4, 6, 8], [498, 500, 502]]
    assert y[:, 0].tolist() == [999, 7, 501]


def test_windowed_dataset_with_targets_through_a_dataloader(recording):
    ds = WindowedDataset(recording, Offset(3, 1), inputs=list(range(7)), targets=["Output 0"])
    x, y = next(iter(DataLoader(ds, batch_size=8)))
    assert x.shape == (8, 4, 7) and y.shape == (8, 1)
    assert torch.equal(x[5, -1], ds[5][0][-1])


def test_dataset_collection_of_sessions():
    a = WindowedDataset(np.zeros((5, 2)), Offset(0, 1))
    b = WindowedDataset(np.ones((3, 4)), Offset(1, 1))
    both = DatasetCollection(a, b)
    assert len(both) == 8 and both.num_sessions == 2
    assert both.get_input_dimension(0) == 2 and both.get_input_dimension(1) == 4
    assert both.get_session(1) is b
    assert both[6].shape == (2, 4)
    items = both.__getitems__([0, 6, 1])
    assert [tuple(i.shape) for i in items] == [(1, 2), (2, 4), (1, 2)]


# --- chunk store --------------------------------------------------------------------
def test_chunk_store_shuffles_per_epoch_and_predicts_in_order(tmp_path):
    data = np.arange(200.0).reshape(100, 2)
    ds = RecordingDataset(ArrayReader(data), inputs=[0], targets=[1], amplification=None)
    path = build_chunk_store(tmp_path / "store.h5", ds, batch_size=8, batches_per_chunk=3)
    train = ChunkStore(path, seed=2)
    train.set_epoch(0)
    epoch0 = [x[:, 0].tolist() for x, _ in DataLoader(train, batch_size=None)]
    train.set_epoch(0)
    assert [x[:, 0].tolist() for x, _ in train] == epoch0
    train.set_epoch(1)
    epoch1 = [x[:, 0].tolist() for x, _ in train]
    assert epoch1 != epoch0
    assert sorted(functools.reduce(operator.iadd, epoch0, [])) == data[:, 0].tolist()
    assert len(epoch0) == len(train)
    for x, y in train:  # pairs stay together through the shuffle
        assert torch.equal(y[:, 0], x[:, 0] + 1)
    predicted = torch.cat([x for x, _ in ChunkStore(path, mode="predict")])
    assert predicted[:, 0].tolist() == data[:, 0].tolist()


def test_chunk_store_splits_chunks_between_workers(tmp_path):
    data = np.arange(100.0).reshape(50, 2)
    ds = RecordingDataset(ArrayReader(data), inputs=[0], targets=[1], amplification=None)
    path = build_chunk_store(tmp_path / "s.h5", ds, batch_size=5, batches_per_chunk=2)
    loader = DataLoader(ChunkStore(path, mode="predict"), batch_size=None, num_workers=2)
    got = sorted(torch.cat([x for x, _ in loader])[:, 0].tolist())
    assert got == data[:, 0].tolist()


# --- export ---------------------------------------------------------------------------
def _peer_load(path):
    """What the peer's ModelDataset does with a file."""
    with np.load(path, allow_pickle=True) as data:
        configs = dict(data["sampling_configs"].tolist())
        return data["inputs"], data["outputs"] / configs["driver"]["amplification"], configs


def test_export_dataset_from_recordings(recording, tmp_path):
    from backend.recording.reader import Recording

    with Recording(recording) as rec:
        x, _y = rec.read()
    written = export_dataset([recording, recording], tmp_path / "ds", [0.8, 0.1, 0.1], seed=1)
    assert set(written) == {"train", "validation", "test"}
    inputs = [_peer_load(p)[0] for p in written.values()]
    assert sum(len(i) for i in inputs) == 2 * len(x)
    all_rows = np.vstack(inputs)
    assert sorted(map(tuple, all_rows)) == sorted(map(tuple, np.vstack([x, x])))
    _, _targets, configs = _peer_load(written["train"])
    assert configs["electrode_info"]["activation_electrodes"]["electrode_no"] == 7
    assert configs["samplelab_dataset"]["part"] == "train"
    loaders, _, _ = get_dataloaders(_training_configs(list(written.values())))
    assert [dl.tag for dl in loaders] == ["train", "validation", "test"]


def test_export_blocks_keeps_time_order(bspysmg_folder, tmp_path):
    io = np.loadtxt(bspysmg_folder / "IO.dat")
    written = export_dataset([bspysmg_folder], tmp_path, [0.8, 0.2], blocks=True)
    train, _, _ = _peer_load(written["train"])
    val, _, _ = _peer_load(written["validation"])
    n = split_sizes(len(io), [0.8, 0.2])[0]
    np.testing.assert_array_equal(train, io[:n, :7])
    np.testing.assert_array_equal(val, io[n:, :7])


def test_cancelled_export_leaves_no_files(recording, tmp_path):
    from backend.errors import Cancelled
    from backend.jobs import CancelToken

    token, reports = CancelToken(), []

    def progress(p) -> None:
        reports.append(p)
        if len(reports) == 3:  # stop in the middle of the second split
            token.cancel()

    with pytest.raises(Cancelled):
        export_dataset([recording], tmp_path / "out", [0.5, 0.5], progress=progress, cancel=token)
    assert list((tmp_path / "out").iterdir()) == []


def test_export_refuses_mixed_setups_and_existing_files(recording, tmp_path, bspysmg_folder):
    export_dataset([recording], tmp_path, [1.0])
    with pytest.raises(SamplelabError, match="already exist"):
        export_dataset([recording], tmp_path, [1.0])
    with pytest.raises(FileFormatError, match="trust"):
        export_dataset([_peer_style_copy(bspysmg_folder, tmp_path)], tmp_path / "b", [1.0])
    odd = tmp_path / "odd.npy"
    np.save(odd, np.zeros((4, 8)))
    with pytest.raises(FileFormatError, match="no sampling config"):
        export_dataset([odd], tmp_path / "c", [1.0])


def test_export_refuses_clipped_and_raw_sources_unless_told(recording, tmp_path, capsys):
    from app.cli import main
    from backend.postprocess.job import postprocess

    npz = postprocess(recording, tmp_path / "pp", figure=False).files["postprocessed_data.npz"]
    with pytest.raises(SamplelabError, match="mix clipped and raw data") as caught:
        export_dataset([npz, recording], tmp_path / "mixed", [0.5, 0.5])
    assert "rec.h5: raw (not clipped)" in caught.value.message
    assert not (tmp_path / "mixed").exists()
    written = export_dataset([npz, recording], tmp_path / "mixed", [0.5, 0.5], mix_clipping=True)
    _, _, config = _peer_load(written["train"])
    assert config["electrode_info"]["output_electrodes"]["clipping_value"] is None
    assert config["samplelab_dataset"]["clipping"] == [[-156.68, 156.68], None]
    # Two postprocessed files with the same clipping are not a mix.
    same = export_dataset([npz, npz], tmp_path / "same", [1.0])
    _, _, config = _peer_load(same["train"])
    assert config["electrode_info"]["output_electrodes"]["clipping_value"] == [-156.68, 156.68]
    args = ["dataset", str(npz), str(recording), "--split", "1", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "cli")]) != 0
    assert "mix clipped and raw data" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "cli"), "--mix-clipping"]) == 0


def test_split_messages_speak_of_fractions():
    for bad, words in (([0.7, 0.2], "must add up to 1"), ([1.5], "must lie in [0, 1]")):
        with pytest.raises(SamplelabError, match="split fractions") as caught:
            split_sizes(10, bad)
        assert words in caught.value.message and "percent" not in caught.value.message


def test_dataset_command(recording, tmp_path, capsys):
    from app.cli import main

    out = tmp_path / "cli"
    assert (
        main(
            [
                "dataset",
                str(recording),
                "--split",
                "0.5,0.5",
                "--blocks",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    assert (out / "train.npz").is_file() and (out / "validation.npz").is_file()
    assert main(["dataset", str(recording), "--split", "0.7,0.2", "--out", str(out)]) != 0
    assert "add up to 1" in capsys.readouterr().err
