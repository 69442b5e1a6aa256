"""Postprocessing gives the peer's files and numbers, from its folders and our recordings."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from npztools import same

from backend.data.formats.bspysmg import import_bspysmg_folder
from backend.data.merge import MergeError
from backend.data.sources import source_from
from backend.errors import Cancelled, FileFormatError, SamplelabError
from backend.jobs import CancelToken
from backend.postprocess.electrodes import (
    clipping_value,
    electrode_info,
    parse_clip,
    voltage_ranges,
)
from backend.postprocess.job import default_output_dir, postprocess
from backend.postprocess.preview import preview_dropped, scan_row_means
from backend.postprocess.results import PostprocessedFile
from backend.recording.reader import Recording

NPZ = ("postprocessed_data", "charging_signal", "reference_batch")


def peer_tails(folder: Path) -> tuple[int, int]:
    """The charging/reference batch counts the fixture was made with."""
    from backend.config import load_config

    bp = load_config(folder).batch_points
    with np.load(folder / "charging_signal.npz") as c, np.load(folder / "reference_batch.npz") as r:
        return len(c["inputs"]) // bp, len(r["inputs"]) // bp


def load_peer_way(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """How bspysmg's ModelDataset reads a dataset."""
    with np.load(path, allow_pickle=True) as data:
        return data["inputs"], data["outputs"], data["sampling_configs"].tolist()


def expected_from_iodat(folder: Path, clip: list[float] | None):
    data = np.loadtxt(folder / "IO.dat")
    x, y = data[:, :7], data[:, 7:]
    if clip is None:
        return x, y, np.ones(len(x), dtype=bool)
    mean = y.mean(axis=1)
    keep = (mean > clip[0]) & (mean < clip[1])
    return x[keep], y[keep], keep


def assert_matches_peer(ours: Path, peer: Path, rows: int) -> None:
    for name in NPZ:
        xa, ya, ca = load_peer_way(peer / f"{name}.npz")
        xb, yb, cb = load_peer_way(ours / f"{name}.npz")
        np.testing.assert_allclose(xb, xa, rtol=0, atol=1e-12)
        np.testing.assert_allclose(yb, ya, rtol=0, atol=1e-12)
        assert xb.shape == xa.shape and yb.shape == ya.shape
        assert same(cb, ca), name
    _, _, cfg = load_peer_way(ours / "postprocessed_data.npz")
    ranges = cfg["electrode_info"]["activation_electrodes"]["voltage_ranges"]
    assert ranges.dtype == np.float32 and ranges.shape == (7, 2)
    assert cfg["driver"]["amplification"] == [39.17]
    clip = cfg["electrode_info"]["output_electrodes"]["clipping_value"]
    _, _, keep = expected_from_iodat(peer, clip)
    with PostprocessedFile(ours / "postprocessed_data.h5") as res:
        assert np.array_equal(res.keep_mask(rows), keep)


def test_fixture_folders_give_the_peers_files(tmp_path, bspysmg_folder):
    charging, reference = peer_tails(bspysmg_folder)
    result = postprocess(
        bspysmg_folder, tmp_path / "out", charging_batches=charging, reference_batches=reference
    )
    assert_matches_peer(tmp_path / "out", bspysmg_folder, result.summary["rows_in"])
    assert (tmp_path / "out" / "output_distribution.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["postprocessed_data.h5", "output_distribution.png", *(f"{n}.npz" for n in NPZ)]
    )


def test_our_recording_of_the_fixture_gives_the_peers_files(tmp_path, bspysmg_folder):
    recording = import_bspysmg_folder(bspysmg_folder, tmp_path / "rec.h5")
    charging, reference = peer_tails(bspysmg_folder)
    result = postprocess(
        recording, charging_batches=charging, reference_batches=reference, chunk_rows=77
    )
    assert result.out_dir == tmp_path / "rec_postprocessed"
    assert_matches_peer(result.out_dir, bspysmg_folder, result.summary["rows_in"])


@pytest.mark.parametrize("clip", [None, [-120.0, 95.5]])
def test_no_clipping_and_an_explicit_range(tmp_path, bspysmg_folder, clip):
    result = postprocess(bspysmg_folder, tmp_path, clip=clip, figure=False)
    x, y, keep = expected_from_iodat(bspysmg_folder, clip)
    xb, yb, cfg = load_peer_way(tmp_path / "postprocessed_data.npz")
    assert np.array_equal(xb, x) and np.array_equal(yb, y)
    assert cfg["electrode_info"]["output_electrodes"]["clipping_value"] == clip
    assert result.summary["rows_kept"] == int(keep.sum())
    assert not (tmp_path / "output_distribution.png").exists()


def test_simulated_recording_matches_plain_numpy(tmp_path, recording):
    with Recording(recording) as rec:
        x, y = rec.read()
        bp, amp = rec.batch_points, rec.config.amplification
    lo, hi = (amp[0] * np.array([-4, 4])).tolist()
    keep = (y.mean(axis=1) > lo) & (y.mean(axis=1) < hi)
    postprocess(recording, tmp_path, charging_batches=2, reference_batches=1, chunk_rows=64)
    xb, yb, cfg = load_peer_way(tmp_path / "postprocessed_data.npz")
    assert np.array_equal(xb, x[keep]) and np.array_equal(yb, y[keep])
    xc, yc, ccfg = load_peer_way(tmp_path / "charging_signal.npz")
    assert np.array_equal(xc, x[-2 * bp :]) and np.array_equal(yc, y[-2 * bp :])
    assert "electrode_info" not in ccfg and "electrode_info" in cfg
    xr, _, _ = load_peer_way(tmp_path / "reference_batch.npz")
    assert np.array_equal(xr, x[-bp:])
    assert cfg["input_data"]["amplitude"].dtype == np.float64
    with PostprocessedFile(tmp_path / "postprocessed_data.h5") as res:
        outs = res.histograms("outputs")[0]
        counts, edges = np.histogram(y[::3, 0], bins=100)
        assert np.array_equal(outs.counts, counts) and np.array_equal(outs.edges, edges)
        ins = res.histograms("inputs")
        wave = voltage_ranges_f64(rec_config(recording))
        for j, h in enumerate(ins):
            c, e = np.histogram(x[keep][::3, j], bins=100, range=tuple(wave[j]))
            assert np.array_equal(h.counts, c) and np.array_equal(h.edges, e)
            assert h.below == h.above == 0
        assert np.array_equal(res.inputs[:], x[keep])
        assert res.summary["outputs"][0]["min"] == y.min()
        kept = res.kept_histograms(bins=40, chunk_rows=50)[0]
        counts, edges = np.histogram(y[keep][:, 0], bins=40)
        np.testing.assert_array_equal(kept.counts, counts)
        np.testing.assert_allclose(kept.edges, edges)
        assert kept.units == "nA" and kept.name == "Output 0"


def rec_config(path):
    with Recording(path) as rec:
        return rec.config


def voltage_ranges_f64(cfg):
    return np.stack([cfg.offset() - cfg.amplitude(), cfg.offset() + cfg.amplitude()], axis=1)


@pytest.mark.parametrize("kind", ["recording", "folder"])
def test_chunks_read_into_reused_buffers_equal_fresh_reads(recording, bspysmg_folder, kind):
    path = recording if kind == "recording" else bspysmg_folder
    with source_from(path) as src:
        fresh = [(f, x.copy(), y.copy()) for f, x, y in src.iter_chunks(70)]
        reused = [(f, x.copy(), y.copy()) for f, x, y in src.iter_chunks(70, reuse=True)]
        buffers = {id(x.base) for _, x, _ in src.iter_chunks(70, reuse=True)}
    assert len(fresh) == len(reused) > 2 and len(buffers) == 1
    for (f, x, y), (g, u, v) in zip(fresh, reused, strict=True):
        assert f == g
        np.testing.assert_array_equal(x, u)
        np.testing.assert_array_equal(y, v)


def test_tails_longer_than_the_recording_take_everything(tmp_path, bspysmg_folder):
    postprocess(bspysmg_folder, tmp_path, charging_batches=999, reference_batches=999, figure=False)
    x = np.loadtxt(bspysmg_folder / "IO.dat")[:, :7]
    assert np.array_equal(load_peer_way(tmp_path / "charging_signal.npz")[0], x)


def test_electrode_info_and_clipping_values():
    assert clipping_value("default", [39.17]) == [-156.68, 156.68]
    assert clipping_value(None, [39.17]) is None
    assert clipping_value([-100, 90], [39.17]) == [-100.0, 90.0]
    assert clipping_value(150, [39.17]) == [-150.0, 150.0]
    with pytest.raises(SamplelabError, match="keeps nothing"):
        clipping_value([5, -5], [39.17])
    assert parse_clip("none") is None and parse_clip("-1,2.5") == [-1.0, 2.5]
    with pytest.raises(SamplelabError, match="not understood"):
        parse_clip("lots")
    vr = voltage_ranges(np.array([-0.3, -0.2]), np.array([0.9, 0.5]))
    assert vr.dtype == np.float32 and vr.shape == (2, 2)
    info = electrode_info(
        {
            "driver": {"amplification": [39.17]},
            "input_data": {
                "activation_electrode_no": 2,
                "readout_electrode_no": 1,
                "offset": np.array([-0.3, -0.2]),
                "amplitude": np.array([0.9, 0.5]),
            },
        },
        [-156.68, 156.68],
    )
    assert info["electrode_no"] == 3
    assert info["output_electrodes"] == {
        "electrode_no": 1,
        "amplification": [39.17],
        "clipping_value": [-156.68, 156.68],
    }


def test_default_output_folders(tmp_path, bspysmg_folder):
    assert default_output_dir(bspysmg_folder) == bspysmg_folder
    assert default_output_dir(tmp_path / "a.h5") == tmp_path / "a_postprocessed"
    folder = tmp_path / "copy"
    shutil.copytree(bspysmg_folder, folder)
    folder.chmod(0o755)
    for f in folder.iterdir():
        f.chmod(0o644)
    (folder / "postprocessed_data.npz").unlink()
    result = postprocess(folder, figure=False)
    assert result.out_dir == folder and (folder / "postprocessed_data.npz").is_file()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_read_only_folders_and_results_are_refused(tmp_path, bspysmg_folder):
    """The peer writes beside IO.dat; a folder marked read-only is left alone, even for root."""
    folder = tmp_path / "kept"
    shutil.copytree(bspysmg_folder, folder)
    (folder / "postprocessed_data.npz").chmod(0o444)  # whatever the checkout's modes
    before = snapshot(folder)
    folder.chmod(0o555)
    try:
        with pytest.raises(SamplelabError, match="is read-only"):
            postprocess(folder)
    finally:
        folder.chmod(0o755)
    assert snapshot(folder) == before
    with pytest.raises(SamplelabError, match=r"postprocessed_data\.npz is read-only"):
        postprocess(folder)  # the result file itself is r--r--r--
    assert snapshot(folder) == before


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


@pytest.mark.timeout(60)
def test_a_background_write_failure_surfaces_and_writes_nothing(tmp_path, recording, monkeypatch):
    """The kept inputs' writer fails (disk full): the error reaches the caller, no hang."""
    from backend.data.formats import npz_write

    writes = []

    def failing_write(self, block):
        writes.append(len(block))
        if len(writes) > 1:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(npz_write.RowsMember, "write", failing_write)
    with pytest.raises(OSError, match="No space left"):
        postprocess(recording, tmp_path / "out", chunk_rows=10, figure=False)
    assert not (tmp_path / "out").exists()


def test_a_failure_mid_pass_writes_nothing(tmp_path, bspysmg_folder):
    folder = tmp_path / "bad"
    shutil.copytree(bspysmg_folder, folder)
    iodat = folder / "IO.dat"
    iodat.chmod(0o644)
    lines = iodat.read_text().splitlines()
    row = lines[-5].split()
    row[7] = "nan"
    lines[-5] = " ".join(row)
    iodat.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "postprocessed_data.npz").write_bytes(b"older result")
    before = snapshot(out)
    with pytest.raises(FileFormatError, match=rf"line {len(lines) - 4}: Output 0 is nan"):
        postprocess(folder, out, chunk_rows=16)
    assert snapshot(out) == before
    with pytest.raises(FileFormatError):
        postprocess(folder, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize("stage", ["scanning outputs", "reading"])
def test_cancel_writes_nothing_and_progress_is_reported(tmp_path, recording, stage):
    """Cancelled in the outputs scan, or with the npz member half streamed."""
    seen, token = [], CancelToken()

    def report(p) -> None:  # the user presses Cancel at the third report of `stage`
        seen.append(p)
        if sum(q.stage == stage for q in seen) >= 3:
            token.cancel()

    with pytest.raises(Cancelled):
        postprocess(recording, tmp_path / "out", chunk_rows=50, progress=report, cancel=token)
    assert not (tmp_path / "out").exists()
    stages = []
    result = postprocess(recording, tmp_path / "out", chunk_rows=50, progress=stages.append)
    assert {p.stage for p in stages} >= {"scanning outputs", "reading", "writing npz", "figure"}
    assert all(0 <= p.done <= p.total for p in stages)
    assert result.files["postprocessed_data.npz"].is_file()


def test_merge_appends_rows_and_marks_mixed_keys(tmp_path, recording, config):
    from backend.sampling.session import start_session

    sine = config.model_copy(deep=True)
    sine.input_data.input_distribution = "sine"
    other = start_session(sine, "simulated", path=tmp_path / "sine.h5", seed=3, model="analytic")
    assert other.run().status == "complete"
    result = postprocess(
        [recording, tmp_path / "sine.h5"],
        tmp_path / "merged",
        clip=None,
        charging_batches=1,
        reference_batches=1,
    )
    with Recording(recording) as a, Recording(tmp_path / "sine.h5") as b:
        xa, _ = a.read()
        xb, _ = b.read()
        bp = b.batch_points
    x, _, cfg = load_peer_way(tmp_path / "merged" / "postprocessed_data.npz")
    assert np.array_equal(x, np.concatenate([xa, xb]))
    assert np.array_equal(load_peer_way(tmp_path / "merged" / "reference_batch.npz")[0], xb[-bp:])
    assert cfg["input_data"]["input_distribution"] == "mixed"
    assert cfg["input_data"]["number_batches"] == 12
    assert [m["path"] for m in cfg["merged_from"]] == [str(recording), str(tmp_path / "sine.h5")]
    assert result.summary["sources"] == [str(recording), str(tmp_path / "sine.h5")]


def test_incompatible_merge_is_refused_with_the_reason(tmp_path, recording, config):
    from backend.sampling.session import start_session

    louder = config.model_copy(deep=True)
    louder.driver.amplification = [28.5]
    other = start_session(louder, "simulated", path=tmp_path / "b.h5", seed=3, model="analytic")
    assert other.run().status == "complete"
    with pytest.raises(MergeError) as info:
        postprocess([recording, tmp_path / "b.h5"], tmp_path / "merged")
    assert "amplification is [28.5], but [39.17]" in str(info.value)
    assert not (tmp_path / "merged").exists()


def test_not_a_source(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(FileFormatError, match="neither a samplelab recording"):
        postprocess(tmp_path / "x.txt")
    with pytest.raises(FileFormatError, match="not found"):
        postprocess(tmp_path / "missing.h5")
    with pytest.raises(SamplelabError, match="charging batches must be >= 1"):
        postprocess(tmp_path / "x.txt", charging_batches=0)


def test_clipping_preview_is_the_exact_count(bspysmg_folder, tmp_path):
    with scan_row_means(bspysmg_folder) as means:
        y = np.loadtxt(bspysmg_folder / "IO.dat")[:, 7]
        assert means.total == len(y) and means.lowest == y.min() and means.highest == y.max()
        for lo, hi in [(-156.68, 156.68), (-50.0, 20.0), (0.0, 0.1), (-1e9, 1e9), (-1e9, -1e8)]:
            exact = int(np.count_nonzero(~((y > lo) & (y < hi))))
            assert means.dropped(lo, hi).rows == exact
        assert means.dropped(None, None).rows == 0
        default = preview_dropped(means, "default", [39.17])
        result = postprocess(bspysmg_folder, tmp_path, figure=False)
        assert default.rows == result.summary["rows_dropped"]
        with PostprocessedFile(tmp_path / "postprocessed_data.h5") as res:
            stored = res.row_mean_histogram()
        drawn = means.histogram(len(stored.counts))
        assert np.array_equal(drawn.counts, stored.counts)
        assert np.array_equal(drawn.edges, stored.edges)


def _damage(folder: Path, kind: str) -> str:
    """Break a copied sampling folder one way; returns what the error must say."""
    iodat = folder / "IO.dat"
    lines = iodat.read_text().splitlines()
    if kind == "truncated":
        iodat.write_bytes(iodat.read_bytes()[:-12])
        return "the last line is incomplete"
    if kind == "columns":
        lines[40] = " ".join(lines[40].split()[:-2])
        iodat.write_text("\n".join(lines) + "\n")
        return "line 41: 6 values"
    if kind == "partial batch":
        iodat.write_text("\n".join(lines[:-3]) + "\n")
        return "not a whole number of"
    if kind == "nan":
        row = lines[9].split()
        row[2] = "nan"
        lines[9] = " ".join(row)
        iodat.write_text("\n".join(lines) + "\n")
        return "line 10: Input 2 is nan"
    if kind == "text":
        lines[77] = lines[77].replace("e-01", "e-0x", 1)
        iodat.write_text("\n".join(lines) + "\n")
        return "line 78: value"
    (folder / "sampler_configs.json").unlink()
    return "has no sampler_configs.json"


@pytest.mark.parametrize("kind", ["truncated", "columns", "partial batch", "nan", "text", "config"])
def test_each_damage_is_one_clear_error_and_writes_nothing(tmp_path, bspysmg_folder, kind):
    folder = tmp_path / "src"
    shutil.copytree(bspysmg_folder, folder)
    folder.chmod(0o755)
    for f in folder.iterdir():
        f.chmod(0o644)
    expected = _damage(folder, kind)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SamplelabError) as info:
        postprocess(folder, out, chunk_rows=32)
    assert expected in str(info.value)
    assert str(info.value).count("\n") <= 1  # one message (and one hint line)
    assert snapshot(out) == {"notes.txt": b"mine"}
