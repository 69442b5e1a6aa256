"""The Postprocess page with "each on its own": a table of sources, here and on Dask."""

from __future__ import annotations

from pathlib import Path

import guitools
import pytest
from fanouttools import assert_same_outputs, big_recording, no_staging_left
from guitools import (
    choose_output,
    click,
    click_radio,
    live_inputs,
    make_recording,
    make_window,
    settings_dir,
    show_page,
    type_into,
    window,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar

from app import dialogs

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def add_files(qtbot, monkeypatch, page, *paths):
    guitools.add_files(qtbot, monkeypatch, page, *paths)
    qtbot.waitUntil(lambda: not page.inputs.checking, timeout=20_000)


def choose_where(qtbot, page, kind: str):
    """Pick an entry of "Run on" with the keyboard, as a user would after clicking it."""
    combo = page.fanout.where_combo
    combo.setFocus()
    while combo.currentData() != kind:
        before = combo.currentIndex()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != before, f"{kind} cannot be chosen"


def click_cell(qtbot, table, row: int, column: int = 0, double: bool = False):
    table.scrollToItem(table.item(row, column))
    pos = table.visualItemRect(table.item(row, column)).center()
    if double:
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    else:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def statuses(page) -> list[str]:
    table = page.each_results.table
    return [table.status(r) for r in range(table.rowCount())]


def run_each(qtbot, page, timeout: int = 60_000):
    click(qtbot, page.run_button)
    assert page.each_run.worker is not None
    qtbot.waitUntil(lambda: page.each_run.worker is None, timeout=timeout)
    assert not dialogs.open_error_dialogs(), dialogs.open_error_dialogs()[0].message


def watch_rows(page) -> list:
    """Every snapshot of rows the table was given (progress bars included)."""
    seen = []
    table = page.each_results.table
    real = table.set_rows

    def spy(rows):
        seen.append(list(rows))
        real(rows)

    table.set_rows = spy
    return seen


@pytest.fixture
def damaged(tmp_path) -> Path:
    path = tmp_path / "damaged.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 200)  # a header and nothing else
    return path


def cli_outputs(tmp_path, *sources) -> Path:
    from app.cli import main

    out = tmp_path / "cli"
    assert main(["postprocess", *map(str, sources), "--out", str(out), "-q"]) == 1  # one fails
    return out


def test_each_source_on_its_own_fails_alone_and_equals_the_cli(
    qtbot, monkeypatch, tmp_path, window, damaged
):
    rec = big_recording(tmp_path / "rec.h5", batches=150)  # long enough to be seen running
    page = show_page(qtbot, window, "postprocess")
    click_radio(qtbot, page.fanout.each_radio)
    assert page.inputs.sources_box.title() == "Sources (each on its own)"
    assert page.right.currentWidget() is page.each_results
    add_files(qtbot, monkeypatch, page, rec, damaged)
    texts = page.sources.texts()
    assert texts[0].startswith("rec.h5 — recording, 150 ×")
    assert texts[1].startswith("damaged.h5 — cannot be opened:")
    assert "cannot be opened; Run reports it as failed" in page.sources.note.text()
    choose_output(qtbot, monkeypatch, page, tmp_path / "out")
    assert page.run_button.isEnabled()

    seen = watch_rows(page)
    run_each(qtbot, page)
    ok, failed = statuses(page)
    assert ok.startswith("ok (") and failed.startswith("failed: ")
    assert "damaged.h5" in failed
    # per-source progress: the recording had its own bar while the damaged one waited
    # (whether the bar had moved yet when the table was redrawn depends on the machine's
    # speed: a quiet CI run finished the 150 batches between two redraws)
    running = [rows for rows in seen if rows[0].progress is not None]
    assert running and running[0][1].cells[-1] == "waiting"
    assert page.progress.format() == "Done: 1 ok, 1 failed"
    table = page.each_results.table
    out = tmp_path / "out" / "rec_postprocessed"
    assert table.item(0, 0).text() == "rec.h5" and table.item(0, 0).toolTip() == str(rec)
    assert table.item(0, 3).text() == out.name and table.item(0, 3).toolTip() == str(out)
    assert table.item(0, 1).text() != "–" and table.item(1, 1).text() == "–"

    # the same files and arrays as `samplelab postprocess rec.h5 damaged.h5 --out DIR`
    assert_same_outputs(out, cli_outputs(tmp_path, rec, damaged) / "rec_postprocessed")
    assert not (tmp_path / "out" / "damaged_postprocessed").exists()
    assert no_staging_left(tmp_path)

    # the failed row opens nothing; the finished one opens on the Recordings page
    click_cell(qtbot, table, 1)
    assert not page.each_results.open_button.isEnabled()
    click_cell(qtbot, table, 0)
    assert page.each_results.folder_button.isEnabled()
    click(qtbot, page.each_results.open_button)
    recordings = window.pages["recordings"]
    assert window.tabs.currentWidget() is recordings
    assert recordings.path == str(out / "postprocessed_data.h5")

    # back to merging: the list cannot merge, which the note says (no dialog); Run waits
    window.tabs.setCurrentWidget(page)
    click_radio(qtbot, page.fanout.merge)
    qtbot.waitUntil(lambda: not page.inputs.checking, timeout=20_000)
    assert page.inputs.sources_box.title() == "Sources (merged in this order)"
    assert "damaged.h5" in page.sources.note.text() and not dialogs.open_error_dialogs()
    assert not page.run_button.isEnabled() and page.right.currentWidget() is page.results
    click_radio(qtbot, page.fanout.each_radio)
    qtbot.waitUntil(lambda: not page.inputs.checking, timeout=20_000)
    assert page.run_button.isEnabled() and len(page.sources.texts()) == 2


def test_cancel_stops_the_running_source_and_keeps_the_finished_one(
    qtbot, monkeypatch, tmp_path, window
):
    first = make_recording(tmp_path / "first.h5", seed=3)
    big = big_recording(tmp_path / "big.h5", batches=400)
    last = make_recording(tmp_path / "last.h5", seed=4)
    page = show_page(qtbot, window, "postprocess")
    click_radio(qtbot, page.fanout.each_radio)
    add_files(qtbot, monkeypatch, page, first, big, last)
    assert len(page.sources.texts()) == 3  # they need not merge: each is opened alone
    editable = live_inputs(page)
    click(qtbot, page.run_button)
    bar = lambda: page.each_results.table.cellWidget(1, 4)  # noqa: E731
    qtbot.waitUntil(lambda: isinstance(bar(), QProgressBar) and bar().value() > 0, timeout=30_000)
    allowed = {page.cancel_button: "cancels the run"}
    allowed.update(
        (button, "views a source that is done")
        for button in (page.each_results.open_button, page.each_results.folder_button)
    )
    assert live_inputs(page, allowed) == []
    click(qtbot, page.cancel_button)
    qtbot.waitUntil(lambda: page.each_run.worker is None, timeout=30_000)
    assert set(editable) <= set(live_inputs(page))  # every input unlocked again
    done, stopped, pending = statuses(page)
    assert done.startswith("ok (")
    assert stopped == pending == "cancelled: nothing written"
    assert page.progress.format() == "Cancelled: 1 ok, 0 failed, 2 cancelled"
    assert (tmp_path / "first_postprocessed" / "postprocessed_data.npz").is_file()
    assert not (tmp_path / "big_postprocessed").exists()
    assert not (tmp_path / "last_postprocessed").exists()
    assert no_staging_left(tmp_path)
    assert page.run_button.isEnabled() and page.fanout.each_radio.isEnabled()


def test_without_the_extra_the_cluster_choices_say_what_to_install(qtbot, monkeypatch, make_window):
    from app.pages.postprocess import fanout as postprocess_fanout

    hint = "Dask is not installed. Install the extra with: pip install 'samplelab[distributed]'"
    monkeypatch.setattr(postprocess_fanout, "distributed_missing", lambda: hint)
    page = show_page(qtbot, make_window(), "postprocess")
    click_radio(qtbot, page.fanout.each_radio)
    assert page.fanout.hint.isVisible() and page.fanout.hint.text() == hint
    model = page.fanout.where_combo.model()
    assert not model.item(1).isEnabled() and not model.item(2).isEnabled()
    assert model.item(1).toolTip() == hint
    click_radio(qtbot, page.fanout.merge)
    assert not page.fanout.hint.isVisible()


distributed = pytest.importorskip("dask.distributed")


@pytest.mark.timeout(180)
def test_on_a_local_cluster_of_two_processes_the_outputs_equal_the_cli(
    qtbot, monkeypatch, tmp_path, make_window, damaged
):
    recs = [big_recording(tmp_path / f"c{i}.h5", batches=6 + i, seed=i) for i in range(2)]
    window = make_window()
    page = show_page(qtbot, window, "postprocess")
    click_radio(qtbot, page.fanout.each_radio)
    choose_where(qtbot, page, "local")
    assert page.fanout.workers.isVisible() and page.fanout.workers.value() == 2
    add_files(qtbot, monkeypatch, page, recs[0], damaged, recs[1])
    choose_output(qtbot, monkeypatch, page, tmp_path / "out")
    run_each(qtbot, page, timeout=150_000)
    got = statuses(page)
    assert got[0].startswith("ok (") and got[2].startswith("ok (")
    assert got[1].startswith("failed: ") and "damaged.h5" in got[1]
    assert "local Dask cluster of 2 worker processes" in page.each_results.title.text()
    cli = cli_outputs(tmp_path, recs[0], damaged, recs[1])
    for rec in recs:
        name = f"{rec.stem}_postprocessed"
        assert_same_outputs(tmp_path / "out" / name, cli / name)
    assert no_staging_left(tmp_path)
    # the choice and the address are kept in the settings for the next start
    page.save_state(window.settings)
    assert window.settings.value("postprocess/run_on", "", str) == "local"
    assert window.settings.value("postprocess/each", False, bool)


@pytest.mark.timeout(180)
def test_on_a_scheduler_whose_address_the_settings_keep(
    qtbot, monkeypatch, tmp_path, make_window, settings_dir
):
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    rec = big_recording(tmp_path / "s.h5", batches=6, seed=4)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        window = make_window()
        page = show_page(qtbot, window, "postprocess")
        click_radio(qtbot, page.fanout.each_radio)
        add_files(qtbot, monkeypatch, page, rec)
        choose_where(qtbot, page, "scheduler")
        assert not page.run_button.isEnabled()  # no address yet: the hint says what to enter
        assert "scheduler's address" in page.fanout.hint.text()
        type_into(qtbot, page.fanout.address, cluster.scheduler_address)
        assert page.run_button.isEnabled() and not page.fanout.hint.isVisible()
        run_each(qtbot, page, timeout=120_000)
        assert statuses(page)[0].startswith("ok (")
        assert (
            f"on the Dask cluster at {cluster.scheduler_address}" in page.each_results.title.text()
        )
        want = tmp_path / "want"
        from backend.postprocess.job import postprocess

        postprocess(rec, want)
        assert_same_outputs(tmp_path / "s_postprocessed", want)
        page.save_state(window.settings)
        window.settings.sync()
    # the next start offers the same choice and address
    again = show_page(qtbot, make_window(), "postprocess")
    assert again.fanout.each() and again.fanout.where().kind == "scheduler"
    assert again.fanout.address.text() == cluster.scheduler_address
