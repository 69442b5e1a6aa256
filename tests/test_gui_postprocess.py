"""The Postprocess page driven as a user clicks it: sources, clipping preview, run, exports."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import small_config
from guiinput import click_menu_entry, drag, plot_point, window_shows
from guitools import (
    add_files,
    answer_questions,
    choose_output,
    click,
    click_radio,
    copy_fixture,
    hold_until,
    live_inputs,
    make_recording,
    make_window,
    settings_dir,
    type_into,
    wait_for_dialog,
    window,
    write_config,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from app import dialogs
from backend.recording.reader import Recording

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name

RESULT_FILES = {
    "postprocessed_data.npz",
    "postprocessed_data.h5",
    "charging_signal.npz",
    "reference_batch.npz",
    "output_distribution.png",
}


def row_means(path):
    with Recording(path) as rec:
        _, outputs = rec.read()
    return outputs, outputs.mean(axis=1)


def saturating_recording(path, seed=2, amplification=20.0, **input_data):
    """A recording whose outputs often saturate the ADC: exactly at the default clip edge."""
    from backend.sampling.session import start_session

    config = small_config(**input_data).model_copy(deep=True)
    config.driver.amplification = [amplification]
    session = start_session(config, "simulated", path=path, seed=seed, model="analytic")
    return Path(session.run().path)


def show_page(window):
    page = window.pages["postprocess"]
    window.tabs.setCurrentWidget(page)
    return page


def add_folder(qtbot, monkeypatch, page, folder):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: folder))
    click(qtbot, page.sources.add_folder)


def wait_scanned(qtbot, page):
    qtbot.waitUntil(
        lambda: page.inputs.preview is not None and not page.inputs.checking, timeout=10_000
    )


def run_and_wait(qtbot, page):
    page.outcome = None
    click(qtbot, page.run_button)
    qtbot.waitUntil(lambda: page.outcome is not None or page.run_worker is None, timeout=20_000)
    assert not dialogs.open_error_dialogs(), dialogs.open_error_dialogs()[0].message
    return page.outcome


def snapshot(folder):
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


def test_preview_run_histograms_and_summary_of_a_recording(qtbot, monkeypatch, tmp_path, window):
    rec = make_recording(tmp_path / "rec.h5", seed=3, number_batches=20)
    outputs, means = row_means(rec)
    page = show_page(window)
    assert not page.run_button.isEnabled()
    add_files(qtbot, monkeypatch, page, rec)
    wait_scanned(qtbot, page)
    assert page.sources.texts() == ["rec.h5 — recording, 20 × 50 rows at 1,000 Hz"]
    assert page.out_edit.placeholderText().endswith("rec_postprocessed")
    assert page.run_button.isEnabled()

    # Default clipping: +-4 V x 39.17 nA/V, drawn on the row-mean histogram of all rows.
    assert page.clip.default_label.text() == "-156.68 … 156.68 nA"
    assert page.preview_plot.limits() == pytest.approx((-156.68, 156.68))
    edges, counts = page.preview_plot.histogram_data(0)
    assert counts.sum() == len(means) and edges[0] == means.min() and edges[-1] == means.max()

    # Custom limits typed in: the predicted share follows each edit, before any run.
    click(qtbot, page.clip.buttons["custom"])
    type_into(qtbot, page.clip.lo.lineEdit(), "-50")
    type_into(qtbot, page.clip.hi.lineEdit(), "60")
    assert page.clip.custom_limits() == (-50, 60)
    assert page.preview_plot.limits() == (-50, 60)
    dropped = int(np.count_nonzero(~((means > -50) & (means < 60))))
    first_text = page.clip.estimate.text()
    assert first_text == f"Would drop {100 * dropped / 1000:.2f} % ({dropped:,} of 1,000 rows)"
    type_into(qtbot, page.clip.hi.lineEdit(), "20")
    dropped_20 = int(np.count_nonzero(~((means > -50) & (means < 20))))
    assert page.clip.estimate.text().endswith(f"({dropped_20:,} of 1,000 rows)")

    # LO >= HI: the message shows and Run is disabled.
    type_into(qtbot, page.clip.lo.lineEdit(), "30")
    assert page.clip.problem.isVisible() and "LO must be below HI" in page.clip.problem.text()
    assert not page.run_button.isEnabled()

    # Dragging the LO line on the histogram with the mouse sets the custom limit.
    drag(
        page.preview_plot.viewport(),
        plot_point(page.preview_plot, 30),
        plot_point(page.preview_plot, -40),
    )
    lo, hi = page.clip.custom_limits()
    assert lo == pytest.approx(-40, abs=3) and hi == 20  # a pixel is a few nA here
    assert page.preview_plot.limits()[0] == pytest.approx(lo, abs=1e-3)
    assert page.run_button.isEnabled()
    dropped = int(np.count_nonzero(~((means > lo) & (means < 20))))
    assert page.clip.estimate.text().endswith(f"({dropped:,} of 1,000 rows)")

    out = tmp_path / "chosen"
    out.mkdir()
    choose_output(qtbot, monkeypatch, page, out)
    outcome = run_and_wait(qtbot, page)
    assert {p.name for p in out.iterdir()} == RESULT_FILES

    keep = (means > lo) & (means < 20)
    assert outcome.summary["rows_dropped"] == dropped  # the preview's number, exactly
    kept = outputs[keep]
    with np.load(out / "postprocessed_data.npz") as npz:
        np.testing.assert_array_equal(npz["outputs"], kept)
    # The histogram drawn is numpy's histogram of the kept outputs, with the limits on it.
    edges, counts = page.results.outputs.histogram_data(0)
    want_counts, want_edges = np.histogram(kept[:, 0], bins=100)
    np.testing.assert_array_equal(counts, want_counts)
    np.testing.assert_allclose(edges, want_edges)
    assert page.results.outputs.limits() == (lo, 20)
    assert page.results.outputs.legend_names() == ["Output 0"]
    assert not page.results.outputs.legend.isVisible()  # one channel: the title names it
    assert page.results.outputs.axis_label("bottom") == "Output current (nA)"
    # Input coverage: one panel per electrode, in volts.
    assert page.results.coverage.titles() == [f"Input {i} (V)" for i in range(7)]
    _, cov_counts = page.results.coverage.histogram_data(2)
    assert cov_counts.sum() == len(kept[::3])
    # The summary table.
    summary = page.results.summary
    n_drop = len(means) - len(kept)
    assert summary.fact("Rows kept") == f"{len(kept):,}"
    assert summary.fact("Rows dropped") == f"{n_drop:,} ({100 * n_drop / len(means):.2f} % clipped)"
    assert summary.fact("Clipping") == f"[{lo:.6g}, 20] nA (row mean)"
    assert summary.fact("Output folder") == str(out)
    assert summary.channel_header()[:4] == ["Channel", "Units", "Min", "Max"]
    rows = summary.channel_rows()
    assert rows[0][:2] == ["Output 0", "nA"] and float(rows[0][3]) == pytest.approx(
        outputs.max(), rel=1e-5
    )
    assert [r[0] for r in rows[1:]] == [f"Input {i}" for i in range(7)]
    assert outcome.summary["rows_kept"] == len(kept)
    summary.facts.setFocus()
    summary.facts.selectAll()
    qtbot.keyClick(summary.facts, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text().splitlines()
    assert f"Rows kept\t{len(kept):,}" in copied
    assert "kept" in window.statusBar().currentMessage()


def test_the_preview_of_saturated_outputs_is_what_the_run_drops(
    qtbot, monkeypatch, tmp_path, window
):
    """Outputs saturated exactly at the default clip edge: the old preview said 0 rows."""
    rec = saturating_recording(tmp_path / "sat.h5", number_batches=20)
    outputs, means = row_means(rec)
    saturated = int(np.count_nonzero(np.abs(outputs[:, 0]) == 80.0))
    assert saturated > 100
    page = show_page(window)
    add_files(qtbot, monkeypatch, page, rec)
    wait_scanned(qtbot, page)
    assert page.clip.default_label.text() == "-80 … 80 nA"
    text = page.clip.estimate.text()
    assert text == f"Would drop {100 * saturated / 1000:.2f} % ({saturated:,} of 1,000 rows)"
    # The mouse drags HI onto the saturated values' edge and a bit beyond: same count.
    click(qtbot, page.clip.buttons["custom"])
    type_into(qtbot, page.clip.lo.lineEdit(), "-80")
    type_into(qtbot, page.clip.hi.lineEdit(), "80")
    assert page.clip.estimate.text() == text
    plot = page.preview_plot
    drag(plot.viewport(), plot_point(plot, 80), plot_point(plot, 60))
    lo, hi = page.clip.custom_limits()
    assert lo == -80 and 50 < hi < 70
    dropped = int(np.count_nonzero(~((means > lo) & (means < hi))))
    assert page.clip.estimate.text().endswith(f"({dropped:,} of 1,000 rows)")
    out = tmp_path / "out"
    out.mkdir()
    choose_output(qtbot, monkeypatch, page, out)
    outcome = run_and_wait(qtbot, page)
    assert outcome.summary["rows_dropped"] == dropped


def test_a_bspysmg_folder_and_a_refused_merge(qtbot, monkeypatch, tmp_path, window):
    folder = copy_fixture(tmp_path, "small_sine")
    with np.load(folder / "postprocessed_data.npz", allow_pickle=True) as peer:
        peer_outputs = peer["outputs"]  # the peer's own result for the default clipping
    page = show_page(window)
    add_folder(qtbot, monkeypatch, page, str(folder))
    wait_scanned(qtbot, page)
    assert page.sources.texts() == ["small_sine — bspysmg folder, 10 × 100 rows at 2,500 Hz"]

    # A recording of another rate and batch length cannot join: refused, with the reason.
    rec = make_recording(tmp_path / "other.h5", seed=1)
    add_files(qtbot, monkeypatch, page, rec)
    dialog = wait_for_dialog(qtbot)
    assert "cannot be merged" in dialog.message
    assert "batch_points is 50, but 100" in dialog.message
    assert "other.h5 was not added" in dialog.hint
    dialog.close()
    qtbot.waitUntil(lambda: not page.inputs.checking)
    assert page.inputs.paths == [str(folder)]
    assert "Not added (other.h5)" in page.sources.note.text()
    assert page.run_button.isEnabled()

    # The default output is the folder itself, which holds the peer's results: ask first.
    questions = answer_questions(monkeypatch, yes=False)
    before = snapshot(folder)
    click(qtbot, page.run_button)
    assert "already holds" in questions[-1] and "postprocessed_data.npz" in questions[-1]
    assert page.run_worker is None and snapshot(folder) == before  # declined: nothing ran
    answer_questions(monkeypatch, yes=True)
    run_and_wait(qtbot, page)
    with np.load(folder / "postprocessed_data.npz") as ours:
        np.testing.assert_array_equal(ours["outputs"], peer_outputs)
    assert page.results.summary.fact("Rows kept") == f"{len(peer_outputs):,}"


def running_allowed(page) -> dict:
    """The Postprocess page's inputs that stay live while a run goes, and why."""
    return {page.cancel_button: "cancels the run"}


def test_cancel_leaves_the_output_folder_unchanged(qtbot, monkeypatch, tmp_path, window):
    import app.pages.postprocess.jobs as jobs
    import backend.postprocess.job as backend_postprocess

    rec = make_recording(tmp_path / "rec.h5", seed=5)
    page = show_page(window)
    add_files(qtbot, monkeypatch, page, rec)
    wait_scanned(qtbot, page)
    out = tmp_path / "out"
    out.mkdir()
    choose_output(qtbot, monkeypatch, page, out)
    run_and_wait(qtbot, page)
    before = snapshot(out)

    assert not hasattr(jobs, "postprocess")  # imported inside the job: patch it at its home

    original = backend_postprocess.postprocess

    def held(*args, progress=None, cancel=None, **kwargs):
        def report(p):  # the first report waits for the user's Cancel
            hold_until(lambda: cancel.cancelled)
            progress(p)

        return original(*args, progress=report, cancel=cancel, **kwargs)

    monkeypatch.setattr(backend_postprocess, "postprocess", held)
    answer_questions(monkeypatch, yes=True)  # replace the results of the first run
    page.clip.set_mode("none")
    editable = live_inputs(page)
    click(qtbot, page.run_button)
    assert page.run_worker is not None and page.cancel_button.isEnabled()
    assert not page.run_button.isEnabled() and not page.sources.add_files.isEnabled()
    assert live_inputs(page, running_allowed(page)) == []
    click(qtbot, page.cancel_button)
    qtbot.waitUntil(lambda: page.run_worker is None, timeout=10_000)
    assert set(editable) <= set(live_inputs(page))  # every input unlocked again
    assert page.progress.format() == "Cancelled"
    assert snapshot(out) == before  # same files, same bytes, nothing left behind
    assert page.run_button.isEnabled()


def export_entry(qtbot, monkeypatch, page, which, fmt, target):
    """Choose `fmt` in the `which` export menu with the mouse; the dialog answers `target`."""
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(target))
    )
    results = page.results
    closed = click_menu_entry(
        qtbot, results.export_buttons[which], results.export_actions[(which, fmt)]
    )
    qtbot.waitUntil(lambda: not page.exporter.busy, timeout=20_000)
    return closed


def test_exports_from_menus_at_1024x700(qtbot, monkeypatch, tmp_path, window):
    window.resize(1024, 700)
    rec = saturating_recording(tmp_path / "rec.h5")
    page = show_page(window)
    add_files(qtbot, monkeypatch, page, rec)
    wait_scanned(qtbot, page)
    results = page.results
    # Every export is reachable: two buttons in full view, each opening a menu.
    for button in results.export_buttons.values():
        assert window_shows(button), button.text()
    assert window_shows(page.run_button)
    # Before a run only the source rows can be exported; the kept rows say why not.
    assert not results.export_buttons["kept"].isEnabled()
    assert results.export_buttons["all"].isEnabled()
    assert results.export_actions[("kept", "csv")].toolTip() == "Run postprocessing first."
    outcome = run_and_wait(qtbot, page)
    assert outcome.out_dir == tmp_path / "rec_postprocessed"
    kept = outcome.summary["rows_kept"]
    assert 0 < kept < 300  # the default clipping dropped the saturated rows

    csv = tmp_path / "exports" / "kept.csv"
    csv.parent.mkdir()
    assert export_entry(qtbot, monkeypatch, page, "kept", "csv", csv)
    lines = csv.read_text().splitlines()
    names = [f"Input {i} (V)" for i in range(7)] + ["Output 0 (nA)"]
    assert lines[0].split(",") == names
    assert len(lines) == 1 + kept
    assert window.statusBar().currentMessage() == f"Exported CSV (kept rows) to {csv}"
    png = tmp_path / "exports" / "hist.png"
    export_entry(qtbot, monkeypatch, page, "kept", "histograms-png", png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.exporter.last_written == png

    # IO.dat of the kept rows: clipping cut rows out of batches, so it is not offered.
    iodat = results.export_actions[("kept", "iodat")]
    assert not iodat.isEnabled() and "whole 50-row batches" in iodat.toolTip()
    folder = tmp_path / "exports" / "iodat"
    folder.mkdir()
    assert not export_entry(qtbot, monkeypatch, page, "kept", "iodat", folder)
    assert list(folder.iterdir()) == []
    # From the source rows (whole batches) it makes a bspysmg sampling folder.
    assert export_entry(qtbot, monkeypatch, page, "all", "iodat", folder)
    assert sorted(p.name for p in folder.iterdir()) == ["IO.dat", "sampler_configs.json"]

    # Every row of the source, as CSV; replacing a file asks first, and No keeps it.
    questions = answer_questions(monkeypatch, yes=False)
    stamp = csv.stat().st_mtime_ns
    export_entry(qtbot, monkeypatch, page, "all", "csv", csv)
    assert "already exists" in questions[-1]
    assert csv.stat().st_mtime_ns == stamp
    answer_questions(monkeypatch, yes=True)
    export_entry(qtbot, monkeypatch, page, "all", "csv", csv)
    assert len(csv.read_text().splitlines()) == 1 + 6 * 50
    h5 = tmp_path / "exports" / "all.h5"
    export_entry(qtbot, monkeypatch, page, "all", "hdf5", h5)
    with h5py.File(h5, "r") as f:
        assert f["inputs"].shape == (300, 7) and f["outputs"].attrs["units"] == "nA"
    waveform = tmp_path / "exports" / "wave.png"
    assert export_entry(qtbot, monkeypatch, page, "all", "waveform-png", waveform)
    assert waveform.read_bytes()[:4] == b"\x89PNG"


def test_a_failed_or_cancelled_export_ends_in_the_status_bar(qtbot, monkeypatch, tmp_path, window):
    import backend.export.exporters as exporters
    from backend.errors import SamplelabError

    rec = make_recording(tmp_path / "rec.h5", seed=2)
    page = show_page(window)
    add_files(qtbot, monkeypatch, page, rec)
    wait_scanned(qtbot, page)
    run_and_wait(qtbot, page)

    def broken(src, tmp, ctl, **_):
        raise SamplelabError("the disk is full", "Free some space.")

    monkeypatch.setitem(exporters._WRITERS, "npz", broken)
    export_entry(qtbot, monkeypatch, page, "kept", "npz", tmp_path / "x.npz")
    dialog = wait_for_dialog(qtbot)
    assert "the disk is full" in dialog.message
    dialog.close()
    status = window.statusBar().currentMessage()
    assert status == "Export of bspysmg npz (kept rows) failed: the disk is full"
    assert not (tmp_path / "x.npz").exists()
    assert page.results.export_buttons["kept"].isEnabled()

    original = exporters._WRITERS["csv"]

    def held(src, tmp, ctl, **kwargs):
        hold_until(lambda: ctl.cancelled)  # the job's own token: the user pressed Cancel
        return original(src, tmp, ctl, **kwargs)

    monkeypatch.setitem(exporters._WRITERS, "csv", held)
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "y.csv"), ""))
    )
    results = page.results
    click_menu_entry(qtbot, results.export_buttons["all"], results.export_actions[("all", "csv")])
    assert page.exporter.busy and window_shows(results.cancel_export)
    assert window.statusBar().currentMessage().startswith("Exporting CSV (every source row)")
    # The export took its files at start and Run waits for it: the form sets up the next run.
    next_run = [*page.inputs.findChildren(QWidget), *page.fanout.findChildren(QWidget)]
    next_run += [page.charging, page.reference, page.out_edit, page.out_browse]
    allowed = {w: "sets up the next run; Run waits for the export" for w in next_run}
    allowed[page.dataset_button] = "splits the results it only reads, as the export does"
    allowed[results.cancel_export] = "cancels the export"
    assert live_inputs(page, allowed) == [] and not page.run_button.isEnabled()
    click(qtbot, results.cancel_export)
    qtbot.waitUntil(lambda: not page.exporter.busy, timeout=10_000)
    status = window.statusBar().currentMessage()
    assert status == "Export of CSV (every source row) cancelled; nothing was written"
    assert not (tmp_path / "y.csv").exists()


def test_a_dataset_file_is_not_a_postprocessing_source(qtbot, monkeypatch, tmp_path, window):
    npz = shutil.copy(copy_fixture(tmp_path, "small_sine") / "postprocessed_data.npz", tmp_path)
    page = show_page(window)
    add_files(qtbot, monkeypatch, page, npz)  # no pickle question: it is not opened at all
    dialog = wait_for_dialog(qtbot)
    assert "already postprocessed" in dialog.message
    assert "Export dataset" in dialog.hint
    assert page.inputs.paths == [] and not page.run_button.isEnabled()


def test_session_recordings_are_offered_and_the_menu_opens_the_dataset_dialog(
    qtbot, monkeypatch, tmp_path, make_window
):
    window = make_window(str(write_config(tmp_path, number_batches=3)))
    sampling = window.pages["sampling"]
    sampling.run_options.realtime.setChecked(False)
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=10_000)
    page = show_page(window)
    path = sampling.last_result.path
    assert page.sources.suggestion_row.isVisibleTo(page)
    assert page.sources.suggestion_paths() == [path]
    click(qtbot, page.sources.add_suggestion)
    wait_scanned(qtbot, page)
    assert page.inputs.paths == [path]

    action = window.findChild(type(page.dataset_action), "action_export_dataset")
    assert action in window.menus["File"].actions()
    action.trigger()
    dialog = page.dataset_dialog
    qtbot.waitUntil(lambda: dialog.source_paths() == [path], timeout=10_000)
    assert dialog.isVisible() and dialog.sources.suggestion_paths() == [path]
    dialog.close()


def test_results_follow_the_sources(qtbot, monkeypatch, tmp_path, window):
    """Adding a source (and cancelling its run) marks the results stale; 'source rows'
    exports every row the list holds now."""
    import backend.postprocess.job as backend_postprocess

    first = make_recording(tmp_path / "a.h5", seed=1)
    second = make_recording(tmp_path / "b.h5", seed=2)
    page = show_page(window)
    add_files(qtbot, monkeypatch, page, first)
    wait_scanned(qtbot, page)
    out = tmp_path / "out"
    out.mkdir()
    choose_output(qtbot, monkeypatch, page, out)
    run_and_wait(qtbot, page)
    assert not page.results.stale.isVisible()

    add_files(qtbot, monkeypatch, page, second)
    wait_scanned(qtbot, page)
    original = backend_postprocess.postprocess

    def held(*args, progress=None, cancel=None, **kwargs):
        def report(p):
            hold_until(lambda: cancel.cancelled)
            progress(p)

        return original(*args, progress=report, cancel=cancel, **kwargs)

    monkeypatch.setattr(backend_postprocess, "postprocess", held)
    answer_questions(monkeypatch, yes=True)
    click(qtbot, page.run_button)
    click(qtbot, page.cancel_button)
    qtbot.waitUntil(lambda: page.run_worker is None, timeout=10_000)
    banner = page.results.stale
    assert window_shows(banner)
    assert banner.text().startswith("Out of date: the sources changed (this run used a.h5)")
    assert "Run again" in banner.text()

    csv = tmp_path / "every.csv"
    titles = page.results.menu_headers
    assert titles["all"].text() == "Every row of the 2 sources: 600 rows"
    assert titles["kept"].text().startswith("Kept rows of the last run:")
    assert export_entry(qtbot, monkeypatch, page, "all", "csv", csv)
    assert len(csv.read_text().splitlines()) == 1 + 600  # both sources, not the run's one

    # Back to the run's source, but another clipping: still stale, and it says why.
    page.sources.select(str(second))
    click(qtbot, page.sources.remove)
    wait_scanned(qtbot, page)
    click_radio(qtbot, page.clip.buttons["none"])
    assert banner.text().startswith("Out of date: clipping changed (this run used default")
    click_radio(qtbot, page.clip.buttons["default"])
    assert not banner.isVisible()


@pytest.mark.parametrize("size", [(1024, 700), (1400, 900)])
def test_layout_keeps_run_and_the_results_usable(qtbot, monkeypatch, tmp_path, window, size):
    """Run stays in view however many sources; the kept-outputs plot keeps a usable size,
    its title is not cut and the last tick label has room."""
    window.resize(*size)
    recordings = [make_recording(tmp_path / f"r{i}.h5", seed=i) for i in range(4)]
    page = show_page(window)
    add_files(qtbot, monkeypatch, page, *recordings)
    wait_scanned(qtbot, page)
    assert len(page.inputs.paths) == 4
    assert window_shows(page.run_button) and window_shows(page.dataset_button)
    run_and_wait(qtbot, page)
    plot = page.results.outputs
    assert plot.width() >= 200 and plot.height() >= 150
    title = plot.title_label
    assert title.item.boundingRect().width() <= plot.width()  # the text fits the widget
    # The plot area ends before the widget does, leaving room for the last tick label.
    view_right = plot.plot_item.getViewBox().sceneBoundingRect().right()
    assert plot.width() - view_right >= 12
    for button in page.results.export_buttons.values():
        assert window_shows(button)
    assert page.results.coverage.plots and all(p.isVisible() for p in page.results.coverage.plots)
