"""Run notes (stored, shown, exported) and the live saturation counts of a session."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import small_config

from app.cli import main
from backend.acquisition.quality import TOLERANCE, SaturationCounter
from backend.config import ADC_LIMIT_V, saturation_current, save_config
from backend.export.exporters import export
from backend.recording.reader import NOTES_ATTR, Recording
from backend.recording.runnotes import NOTES_FILE, NOTES_MEMBER, run_notes
from backend.sampling.session import start_session

NOTES = {"sample_id": "D-17 (chip 4)", "operator": "Ada", "notes": "after annealing\n2nd run"}


@pytest.fixture
def noted(tmp_path) -> Path:
    session = start_session(
        small_config(),
        "simulated",
        path=tmp_path / "noted.h5",
        seed=3,
        model="analytic",
        notes=NOTES,
    )
    assert session.run().status == "complete"
    return tmp_path / "noted.h5"


def test_run_notes_drop_empty_fields():
    assert run_notes(" D-17 ", "", "  ") == {"sample_id": "D-17"}
    assert run_notes() == {}


def test_notes_are_stored_in_the_recording_attributes(noted):
    with h5py.File(noted, "r") as f:  # readable without samplelab
        assert json.loads(f.attrs[NOTES_ATTR]) == NOTES
    with Recording(noted) as rec:
        assert rec.notes == NOTES and rec.summary()["notes"] == NOTES


def test_damaged_notes_never_stop_a_recording_from_opening(tmp_path, noted):
    for stored, expected in (
        ("{not json", {"notes": "{not json"}),
        ('["a", 1]', {"notes": "['a', 1]"}),
        ('{"operator": 7}', {"operator": "7"}),
    ):
        with h5py.File(noted, "r+") as f:
            f.attrs[NOTES_ATTR] = stored
        with Recording(noted) as rec:
            assert rec.notes == expected


def test_recordings_without_notes_have_none(recording):
    with h5py.File(recording, "r") as f:
        assert NOTES_ATTR not in f.attrs
    with Recording(recording) as rec:
        assert rec.notes == {}


def test_cli_stores_notes_and_info_shows_them(tmp_path, capsys):
    config = save_config(small_config(number_batches=2), tmp_path / "c.yaml")
    code = main(
        [
            "sample",
            str(config),
            "--out",
            str(tmp_path / "out"),
            "-q",
            "--sample-id",
            "D-17",
            "--operator",
            "Ada",
            "--notes",
            "line one\nline two",
        ]
    )
    assert code == 0
    path = capsys.readouterr().out.strip().splitlines()[-1]
    with Recording(path) as rec:
        assert rec.notes == {"sample_id": "D-17", "operator": "Ada", "notes": "line one\nline two"}
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert "sample      D-17\n" in out and "operator    Ada\n" in out
    assert "notes       line one\n            line two\n" in out
    assert main(["info", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notes"]["operator"] == "Ada"


def test_exports_carry_the_notes(tmp_path, noted):
    h5 = export(noted, "hdf5", tmp_path / "x.h5")
    with h5py.File(h5, "r") as f:
        assert json.loads(f.attrs[NOTES_MEMBER]) == NOTES
    npz = export(noted, "npz", tmp_path / "x.npz")
    with np.load(npz) as data:
        assert json.loads(str(data[NOTES_MEMBER])) == NOTES
    folder = export(noted, "iodat", tmp_path / "iodat")
    assert json.loads((folder / NOTES_FILE).read_text(encoding="utf-8")) == NOTES


def test_exports_of_a_recording_without_notes_are_unchanged(tmp_path, recording):
    with np.load(export(recording, "npz", tmp_path / "x.npz")) as data:
        assert NOTES_MEMBER not in data.files
    assert not (export(recording, "iodat", tmp_path / "iodat") / NOTES_FILE).exists()


# --- saturation ------------------------------------------------------------------------
def test_saturation_counter_counts_samples_at_the_limit_per_channel():
    config = small_config()
    config = config.model_copy(deep=True)
    config.driver.amplification = [10.0, 20.0]
    config.input_data.readout_electrode_no = 2
    limits = saturation_current(config.amplification)
    assert limits.tolist() == [ADC_LIMIT_V * 10, ADC_LIMIT_V * 20]
    counter = SaturationCounter(config)
    clean = np.zeros((100, 2))
    first = counter.add(0, clean)
    assert (first.count, first.total, first.batches_saturated, first.worst_batch) == (0, 0, 0, -1)
    hit = np.zeros((100, 2))
    hit[:5, 0] = 40.0  # channel 0's limit, exactly
    hit[5, 0] = -40.0 * (1 - TOLERANCE / 2)  # a hair inside: an ADC code at the edge
    hit[6, 1] = 40.0  # channel 1's limit is 80: not saturated
    hit[7, 1] = -80.0
    second = counter.add(1, hit)
    assert second.count == 7 and second.samples == 200
    assert second.fraction == pytest.approx(7 / 200)
    assert (second.total, second.batches_saturated, second.batches) == (7, 1, 2)
    third = counter.add(2, clean)
    assert third.count == 0 and third.worst_batch == 1 and third.worst_fraction == 7 / 200


def test_a_session_reports_saturation_with_its_progress(tmp_path):
    config = small_config().model_copy(deep=True)
    config.driver.amplification = [0.05]  # the analytic device's currents far exceed 0.2 nA
    reports = []
    session = start_session(
        config,
        "simulated",
        path=tmp_path / "sat.h5",
        seed=1,
        model="analytic",
        on_progress=reports.append,
    )
    session.run()
    last = reports[-1].saturation
    assert last is not None and last.batches == 6 and last.batches_saturated >= 1
    with Recording(tmp_path / "sat.h5") as rec:
        _, outputs = rec.read()
    expected = np.count_nonzero(
        np.abs(outputs) >= saturation_current(config.amplification) * (1 - TOLERANCE)
    )
    assert last.total == expected > 0
