"""The HDF5 recording: layout, complete batches only, live reading, crash flags."""

from __future__ import annotations

import json
import threading
import time

import h5py
import numpy as np
import pytest
from conftest import small_config

from backend.acquisition.waves import BatchPlan
from backend.errors import RecordingError
from backend.recording.h5clear import clear_consistency_flags
from backend.recording.layout import default_recording_path
from backend.recording.reader import FORMAT_NAME, Recording, is_recording
from backend.recording.superblock import lookup3
from backend.recording.writer import RecordingWriter


def _write(path, batches=3, close=True, status="complete"):
    cfg = small_config()
    plan = BatchPlan(cfg, seed=4)
    writer = RecordingWriter.create(path, cfg, {"kind": "test"}, seed=4)
    rng = np.random.default_rng(0)
    for i in range(batches):
        b = plan.batch(i)
        writer.append(i, b.inputs, rng.normal(size=(50, 1)), b.phases, b.t0, 1e9 + i, 0.01)
    if close:
        writer.close(status)
    return writer, plan


def test_layout_units_names_and_provenance(tmp_path):
    path = tmp_path / "r.h5"
    _write(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == FORMAT_NAME
        assert f["inputs"].shape == (150, 7) and f["inputs"].dtype == np.float64
        assert f["outputs"].attrs["units"] == "nA" and f["inputs"].attrs["units"] == "V"
        assert json.loads(f["inputs"].attrs["daq_channels"])[0] == "cDAQ1Mod3/ao6"
        assert f["batches"].shape == (3,)
        assert json.loads(f.attrs["config_json"])["input_data"]["number_batches"] == 6
        assert json.loads(f.attrs["provenance_json"])["app"] == "samplelab"
    assert is_recording(path)


def test_reader_sees_what_was_written(tmp_path):
    path = tmp_path / "r.h5"
    _, plan = _write(path)
    with Recording(path) as rec:
        assert (rec.n_rows, rec.batches_done, rec.batches_planned) == (150, 3, 6)
        assert rec.status == "complete" and rec.seed == 4
        x, _ = rec.batch(2)
        np.testing.assert_array_equal(x, plan.batch(2).inputs)
        np.testing.assert_array_equal(rec.batches["phases"][1], plan.batch(1).phases)
        assert rec.batches["first_row"].tolist() == [0, 50, 100]
        assert rec.channel_names[-1] == "Output 0" and rec.units[-1] == "nA"
        chunks = list(rec.iter_chunks(rows=64))
        assert [c[0] for c in chunks] == [0, 64, 128]
        np.testing.assert_array_equal(np.vstack([c[1] for c in chunks]), rec.read()[0])
        summary = rec.summary()
        assert summary["rows"] == 150 and len(summary["channels"]) == 8
        assert summary["channels"][0]["min"] >= -1.2 - 1e-12


def test_rows_of_an_unfinished_batch_are_invisible(tmp_path):
    path = tmp_path / "r.h5"
    writer, _ = _write(path, close=False)
    # A batch in flight: data resized but its table row not yet written.
    writer._inputs.resize(175, axis=0)
    writer._outputs.resize(175, axis=0)
    writer._f.flush()
    with Recording(path) as rec:
        assert rec.n_rows == 150 and rec.read(0, 10_000)[0].shape == (150, 7)
    writer.close("failed", "power cut")
    with Recording(path) as rec:
        assert rec.status == "failed" and rec.message == "power cut"


def test_a_live_reader_follows_the_writer(tmp_path):
    path = tmp_path / "live.h5"
    writer, plan = _write(path, batches=1, close=False)
    with Recording(path) as rec:
        assert rec.n_rows == 50 and rec.status == "running"
        b = plan.batch(1)
        writer.append(1, b.inputs, np.zeros((50, 1)), b.phases, b.t0, 0.0, 0.0)
        assert rec.refresh() == 100
        np.testing.assert_array_equal(rec.read(50, 100)[0], b.inputs)
        writer.close("cancelled")
        rec.refresh()
        assert rec.status == "cancelled"


def test_existing_file_is_not_overwritten(tmp_path):
    path = tmp_path / "r.h5"
    path.write_bytes(b"precious")
    with pytest.raises(RecordingError, match="already exists"):
        RecordingWriter.create(path, small_config(), {}, 0)
    assert path.read_bytes() == b"precious"


def test_default_path_never_collides(tmp_path):
    first = default_recording_path(tmp_path, "run")
    first.touch()
    second = default_recording_path(tmp_path, "run")
    assert second != first and second.suffix == ".h5" and second.name.startswith("run_")


def test_foreign_and_broken_files_get_clear_errors(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(RecordingError, match="not a samplelab recording"):
        Recording(other)
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(RecordingError, match="not a readable HDF5 file"):
        Recording(text)
    with pytest.raises(RecordingError, match="not found"):
        Recording(tmp_path / "missing.h5")
    assert not is_recording(text) and not is_recording(other)


def test_newer_format_versions_are_refused(tmp_path):
    path = tmp_path / "r.h5"
    _write(path)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(RecordingError, match="Update samplelab"):
        Recording(path)


def test_resume_refuses_complete_recordings(tmp_path):
    path = tmp_path / "r.h5"
    cfg = small_config(number_batches=2)
    writer = RecordingWriter.create(path, cfg, {"kind": "test"}, 0)
    plan = BatchPlan(cfg)
    for i in range(2):
        b = plan.batch(i)
        writer.append(i, b.inputs, np.zeros((50, 1)), b.phases, b.t0, 0, 0)
    writer.close()
    with pytest.raises(RecordingError, match="already complete"):
        RecordingWriter.resume(path)


# --- h5clear ---------------------------------------------------------------------------
def test_lookup3_matches_known_values():
    # Reference values of Bob Jenkins' hashlittle (lookup3.c driver5).
    assert lookup3(b"", 0) == 0xDEADBEEF
    assert lookup3(b"", 0xDEADBEEF) == 0xBD5B7DDE
    assert lookup3(b"Four score and seven years ago", 0) == 0x17770551
    assert lookup3(b"Four score and seven years ago", 1) == 0xCD628161


def test_clear_flags_refuses_non_hdf5_and_leaves_clean_files(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"x" * 2000)
    with pytest.raises(ValueError, match="not an HDF5 file"):
        clear_consistency_flags(junk)
    path = tmp_path / "r.h5"
    _write(path)
    before = path.read_bytes()
    assert clear_consistency_flags(path) is False
    assert path.read_bytes() == before


def test_clear_flags_refuses_a_corrupt_superblock(tmp_path):
    path = tmp_path / "r.h5"
    _write(path)
    raw = bytearray(path.read_bytes())
    raw[11] = 5  # set flags without fixing the checksum
    raw[20] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum does not verify"):
        clear_consistency_flags(path)


@pytest.mark.parametrize("batch_points", [50, 2500, 100_000])
def test_whole_chunk_and_partial_chunk_writes_store_the_same_rows(tmp_path, batch_points):
    """Batches that fill chunks go in as raw chunks, others through selections."""
    cfg = small_config(batch_time=batch_points / 1000, ramp_time=0.01, number_batches=3)
    writer = RecordingWriter.create(tmp_path / "r.h5", cfg, {"kind": "test"}, seed=0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3 * batch_points, 7))
    y = rng.normal(size=(3 * batch_points, 1))
    for i in range(3):
        rows = slice(i * batch_points, (i + 1) * batch_points)
        writer.append(i, x[rows], y[rows], np.zeros(7), 0.0, 0.0, 0.0)
    writer.close()
    with Recording(tmp_path / "r.h5") as rec:
        np.testing.assert_array_equal(rec.read()[0], x)
        np.testing.assert_array_equal(rec.read()[1], y)


def test_a_resume_beside_a_reader_that_keeps_coming_back(tmp_path):
    """A folder scan opening the file again and again must not slip in between the
    resume's check for readers and its reopening for writing (HDF5 refuses that:
    "file is already open for read-only"); it waits those milliseconds instead."""
    path = tmp_path / "r.h5"
    _write(path, batches=3, status="failed")  # 3 of 6 batches: resumable
    stop, reads, errors = threading.Event(), [0], []

    def scan() -> None:  # as app/pages/recordings/scan.py: open, read the status, close
        while not stop.is_set():
            try:
                with Recording(path) as rec:
                    assert rec.n_rows >= 150
                reads[0] += 1
            except Exception as exc:
                errors.append(exc)

    scanner = threading.Thread(target=scan, daemon=True)
    scanner.start()
    try:
        for _ in range(5):
            while reads[0] < 3:  # the scanner is busy reopening the file
                time.sleep(0.001)
            reads[0] = 0
            writer = RecordingWriter.resume(path)
            writer.close("failed", "stopped again")
    finally:
        stop.set()
        scanner.join(10)
    assert errors == []
