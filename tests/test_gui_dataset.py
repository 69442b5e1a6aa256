"""The Dataset export dialog driven as a user clicks it: sources, split, run, pickle trust."""

from __future__ import annotations

import shutil

import numpy as np
from guitools import (
    answer_questions,
    click,
    copy_fixture,
    hold_until,
    live_inputs,
    make_recording,
    make_window,
    settings_dir,
    type_into,
    window,
)
from PySide6.QtWidgets import QFileDialog

from app import dialogs
from backend.recording.reader import Recording

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def open_dialog(qtbot, window):
    """File > Export dataset…, as the user finds it."""
    page = window.pages["postprocess"]
    action = next(a for a in window.menus["File"].actions() if a.text() == "Export &dataset…")
    action.trigger()
    dialog = page.dataset_dialog
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def add_files(qtbot, monkeypatch, dialog, *paths):
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(p) for p in paths], ""))
    )
    click(qtbot, dialog.sources.add_files)
    qtbot.waitUntil(lambda: not dialog.inputs.pending, timeout=10_000)


def choose_folder(qtbot, monkeypatch, dialog, folder):
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder))
    )
    click(qtbot, dialog.out_browse)


def run_and_wait(qtbot, dialog):
    dialog.written = []
    click(qtbot, dialog.run_button)
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=20_000)
    assert not dialogs.open_error_dialogs(), dialogs.open_error_dialogs()[0].message
    return dialog.written


def test_bad_split_is_refused_and_a_good_one_is_written(qtbot, monkeypatch, tmp_path, window):
    rec = make_recording(tmp_path / "rec.h5", seed=4, number_batches=20)
    with Recording(rec) as r:
        inputs, _ = r.read()
    dialog = open_dialog(qtbot, window)
    assert dialog.source_paths() == [] and not dialog.run_button.isEnabled()
    add_files(qtbot, monkeypatch, dialog, rec)
    assert dialog.sources.texts() == [
        "rec.h5 — recording, 1,000 rows, 7 in / 1 out, raw (not clipped)"
    ]
    assert dialog.expected.text() == "Rows: Train 800 · Validation 100 · Test 100"
    assert dialog.run_button.isEnabled()

    # A split that does not add up: the message is next to the fields and Run is disabled.
    type_into(qtbot, dialog.split_edits["train"], "0.7")
    assert dialog.split_message.isVisible()
    assert dialog.split_message.text().startswith("Split fractions must add up to 1")
    assert "sum 0.9" in dialog.split_message.text()
    assert not dialog.run_button.isEnabled() and dialog.expected.text() == ""
    type_into(qtbot, dialog.split_edits["validation"], "x")
    assert dialog.split_message.text() == "Validation: 'x' is not a number"
    assert not dialog.run_button.isEnabled()
    type_into(qtbot, dialog.split_edits["validation"], "0.2")
    assert not dialog.split_message.isVisible()
    assert dialog.run_button.isEnabled()
    assert dialog.expected.text() == "Rows: Train 700 · Validation 200 · Test 100"

    # Block split in 50-row blocks, seed 3, into a chosen folder.
    click(qtbot, dialog.blocks)
    assert dialog.block_rows.isEnabled()
    dialog.block_rows.setValue(50)
    dialog.seed.setValue(3)
    out = tmp_path / "dataset"
    out.mkdir()
    choose_folder(qtbot, monkeypatch, dialog, out)
    written = run_and_wait(qtbot, dialog)
    assert [w.name for w in written] == ["train", "validation", "test"]
    assert sorted(p.name for p in out.iterdir()) == ["test.npz", "train.npz", "validation.npz"]
    parts = {}
    for w in written:  # loaded as the peer's training code loads them
        with np.load(w.path, allow_pickle=True) as data:
            parts[w.name] = (data["inputs"], data["outputs"], data["sampling_configs"].item())
        assert len(parts[w.name][0]) == w.rows
    assert sum(len(x) for x, _, _ in parts.values()) == len(inputs)
    assert parts["train"][2]["electrode_info"]["activation_electrodes"]["electrode_no"] == 7
    # Blocks of 50 rows: every 50-row block of the recording is whole in one split.
    rows = {tuple(row) for row in inputs[:50]}
    assert any(rows <= {tuple(r) for r in x} for x, _, _ in parts.values())
    table = dialog.written_table
    assert [table.item(i, 0).text() for i in range(3)] == ["train", "validation", "test"]
    assert [table.item(i, 1).text() for i in range(3)] == [f"{w.rows:,}" for w in written]
    assert "Wrote 3 files (1,000 rows)" in dialog.written_label.text()

    # Running again asks before replacing the files; No leaves them alone.
    questions = answer_questions(monkeypatch, yes=False)
    stamp = (out / "train.npz").stat().st_mtime_ns
    click(qtbot, dialog.run_button)
    assert "already holds train.npz, validation.npz, test.npz" in questions[-1]
    assert dialog.worker is None and (out / "train.npz").stat().st_mtime_ns == stamp
    dialog.close()


def test_a_pickled_peer_npz_needs_the_users_trust(qtbot, monkeypatch, tmp_path, window):
    peer = copy_fixture(tmp_path, "small_sine") / "postprocessed_data.npz"
    npz = shutil.copy(peer, tmp_path / "peer.npz")
    dialog = open_dialog(qtbot, window)

    # Declined: the file is not loaded.
    questions = answer_questions(monkeypatch, yes=False)
    add_files(qtbot, monkeypatch, dialog, npz)
    assert len(questions) == 1
    assert "This file contains a pickled Python object; only open files you trust." in questions[0]
    assert dialog.source_paths() == []
    assert "not loaded" in dialog.sources.note.text()
    assert not dialog.run_button.isEnabled()

    # Trusted: its config is read, and the export reads it too.
    answer_questions(monkeypatch, yes=True)
    add_files(qtbot, monkeypatch, dialog, npz)
    assert dialog.source_paths() == [str(npz)]
    with np.load(peer, allow_pickle=True) as data:
        n = len(data["inputs"])
    assert dialog.sources.texts() == [
        f"peer.npz — bspysmg npz, {n:,} rows, 7 in / 1 out, clipped to [-156.68, 156.68] nA, "
        "config from a trusted pickle"
    ]
    out = tmp_path / "ds"
    choose_folder(qtbot, monkeypatch, dialog, out)
    written = run_and_wait(qtbot, dialog)
    assert sum(w.rows for w in written) == n
    with np.load(out / "train.npz", allow_pickle=True) as data:
        assert data["sampling_configs"].item()["data_name"] == "small_sine"
    dialog.close()


def test_cancel_writes_nothing(qtbot, monkeypatch, tmp_path, window):
    import backend.datasets as datasets

    rec = make_recording(tmp_path / "rec.h5", seed=9)
    dialog = open_dialog(qtbot, window)
    add_files(qtbot, monkeypatch, dialog, rec)
    original = datasets.export_dataset

    def held(*args, progress=None, cancel=None, **kwargs):
        def report(p):  # the first report waits for the user's Cancel
            hold_until(lambda: cancel.cancelled)
            progress(p)

        return original(*args, progress=report, cancel=cancel, **kwargs)

    monkeypatch.setattr(datasets, "export_dataset", held)
    out = tmp_path / "ds"
    choose_folder(qtbot, monkeypatch, dialog, out)
    editable = live_inputs(dialog)
    click(qtbot, dialog.run_button)
    assert dialog.busy and dialog.cancel_button.isEnabled()
    assert window.pages["postprocess"].busy_reason() == "a dataset export is running"
    allowed = {
        dialog.cancel_button: "cancels the export",
        dialog.close_button: "asks, then cancels the export and closes",
    }
    assert live_inputs(dialog, allowed) == []
    click(qtbot, dialog.cancel_button)
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=10_000)
    assert set(editable) <= set(live_inputs(dialog))  # every input unlocked again
    assert dialog.progress.format() == "Cancelled; nothing was written"
    assert not out.exists() or list(out.iterdir()) == []
    dialog.close()


def test_clipped_and_raw_sources_are_not_mixed_without_asking(qtbot, monkeypatch, tmp_path, window):
    from backend.postprocess.job import postprocess

    rec = make_recording(tmp_path / "rec.h5", seed=4, number_batches=20)
    clipped = postprocess(rec, tmp_path / "pp", clip=[-40, 40], figure=False)
    npz = clipped.files["postprocessed_data.npz"]
    dialog = open_dialog(qtbot, window)
    add_files(qtbot, monkeypatch, dialog, npz, rec)
    assert dialog.sources.texts()[0].endswith("clipped to [-40, 40] nA")
    note = dialog.sources.note.text()
    assert note.startswith("These sources mix clipped and raw data")
    assert "postprocessed_data.npz: clipped to [-40, 40] nA; rec.h5: raw (not clipped)" in note
    out = tmp_path / "ds"
    choose_folder(qtbot, monkeypatch, dialog, out)

    questions = answer_questions(monkeypatch, yes=False)  # No: nothing is written
    click(qtbot, dialog.run_button)
    assert len(questions) == 1 and "went through different clipping" in questions[0]
    assert dialog.worker is None and not out.exists()

    answer_questions(monkeypatch, yes=True)  # Yes: mixed, and the config says so
    written = run_and_wait(qtbot, dialog)
    with np.load(written[0].path, allow_pickle=True) as data:
        config = data["sampling_configs"].item()
    assert config["electrode_info"]["output_electrodes"]["clipping_value"] is None
    assert config["samplelab_dataset"]["clipping"] == [[-40.0, 40.0], None]

    # Removing the raw recording ends the warning.
    dialog.sources.select(str(rec))
    click(qtbot, dialog.sources.remove)
    assert not dialog.sources.note.isVisible()
    dialog.close()
