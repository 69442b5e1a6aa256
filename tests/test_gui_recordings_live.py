"""The Recordings page with real input: facts that follow a growing file, stacked lanes,
batch boundaries, saturated stretches, the cursor at the data's edge, and a browser that
starts in the recordings folder and offers the newest recording."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import small_config
from guiinput import move_mouse, wheel
from guitools import (
    click,
    click_path,
    make_recording,
    make_window,
    settings_dir,
    show_page,
    window,
    write_config,
)
from PySide6.QtCore import QLocale, QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from backend.recording.reader import Recording
from backend.sampling.session import start_session
from widgets.channellanes import lane_ticks

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def choose_folder(qtbot, monkeypatch, page, folder) -> None:
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder))
    )
    click(qtbot, page.tree.choose_button)


def open_file(qtbot, page, path) -> None:
    click_path(qtbot, page.tree, path)
    qtbot.waitUntil(
        lambda: page.view.info is not None and page.view.info.path == str(path), timeout=10_000
    )


def saturating_recording(path: Path, batches: int = 6, seed: int = 2) -> Path:
    """Outputs often at the ADC limit: amplification 20 nA/V saturates at exactly ±80 nA."""
    config = small_config(number_batches=batches).model_copy(deep=True)
    config.driver.amplification = [20.0]
    session = start_session(config, "simulated", path=path, seed=seed, model="analytic")
    return Path(session.run().path)


def data_point(view, row: int, plot_row: int = 0, lane_y: float | None = None) -> QPoint:
    """The viewport position over `row` in plot `plot_row` (mid-height unless told)."""
    plot = view.plot.plots[plot_row]
    vb = plot.getViewBox()
    y0, y1 = vb.viewRange()[1]
    from PySide6.QtCore import QPointF

    scene = vb.mapViewToScene(QPointF(view.x_of(row), (y0 + y1) / 2 if lane_y is None else lane_y))
    return view.plot.mapFromScene(scene)


def test_following_keeps_every_fact_current(qtbot, monkeypatch, tmp_path, window):
    folder = tmp_path / "live"
    folder.mkdir()
    other = make_recording(folder / "done.h5", seed=1)
    config = small_config(number_batches=40)
    path = folder / "live.h5"
    session = start_session(config, "simulated", path=path, seed=3, model="analytic")
    started, go_on = threading.Event(), threading.Event()

    def paced(batch):
        started.set()
        if batch.index >= 2:
            go_on.wait(30)
        time.sleep(0.03)

    session.add_listener(paced)
    thread = threading.Thread(target=session.run)
    thread.start()
    try:
        page = show_page(qtbot, window, "recordings")
        choose_folder(qtbot, monkeypatch, page, folder)
        assert started.wait(10)
        # The cursor's values belong to the file they were read from.
        open_file(qtbot, page, other)
        view = page.view
        qtbot.waitUntil(lambda: view.window is not None)
        move_mouse(view.plot.viewport(), data_point(view, 100))
        qtbot.waitUntil(lambda: "(row 100)" in view.readout.text())
        open_file(qtbot, page, path)
        assert "row 100" not in view.readout.text()

        info = view.info
        assert (
            info.live and page.file_label.text() == f"live.h5 — being written  ({info.rows:,} rows)"
        )
        assert window.statusBar().currentMessage().endswith("is still being written: tick Follow")
        qtbot.waitUntil(lambda: page.meta.text_at(["Recording", "Status"]) == "running")
        click(qtbot, page.follow)
        assert "tick Follow" not in window.statusBar().currentMessage()
        assert window.statusBar().currentMessage() == "Following live.h5 as it is written…"
        first_rows = page.meta.text_at(["Recording", "Rows"])
        first_size = page.meta.text_at(["File", "Size"])
        go_on.set()
        qtbot.waitUntil(lambda: view.info.rows >= 1000, timeout=15_000)
        qtbot.waitUntil(lambda: page.meta.text_at(["Recording", "Rows"]) != first_rows)
        rows = view.info.rows
        assert page.file_label.text().startswith("live.h5 — being written")
    finally:
        go_on.set()
        thread.join(30)
    # Finished: every fact shows the final file, without clicking anything.
    qtbot.waitUntil(lambda: not view.info.live, timeout=10_000)
    assert view.info.rows == 2000 > rows
    qtbot.waitUntil(lambda: page.meta.text_at(["Recording", "Status"]) == "complete")
    assert page.file_label.text() == "live.h5 — complete  (2,000 rows)"
    meta = page.meta
    assert meta.text_at(["Recording", "Rows"]) == "2,000"
    assert meta.text_at(["Recording", "Duration"]) == "2 s"
    assert meta.text_at(["Recording", "Batches"]).startswith("40 of 40")
    assert meta.text_at(["Batches", "Complete"]) == "40 of 40"
    assert meta.text_at(["Batches", "Indices"]) == "0…39"
    with Recording(path) as rec:
        device_time = float(np.sum(rec.batches["duration"]))
    assert meta.text_at(["Batches", "Device time in all"]) == f"{device_time:.2f} s"
    assert meta.text_at(["File", "Size"]) != first_size
    size = path.stat().st_size
    qtbot.waitUntil(lambda: page.tree.cell_text(path, "Status") == "complete")
    assert page.tree.cell_text(path, "Rows") == "2,000"
    assert page.tree.cell_text(path, "Size") == QLocale().formattedDataSize(size)
    assert "complete: 2,000 rows" in window.statusBar().currentMessage()


def test_stacked_lanes_batch_boundaries_saturation_and_the_cursor_edge(
    qtbot, monkeypatch, tmp_path, window
):
    folder = tmp_path / "sat"
    folder.mkdir()
    path = saturating_recording(folder / "sat.h5")
    with Recording(path) as rec:
        x, y = rec.read()
    page = show_page(qtbot, window, "recordings")
    choose_folder(qtbot, monkeypatch, page, folder)
    open_file(qtbot, page, path)
    view, plot = page.view, page.view.plot
    qtbot.waitUntil(lambda: view.window is not None and page.ranges is not None)

    # Stacked (the default): the seven inputs get a lane each, named on the y axis.
    assert page.stacked.isChecked() and plot.stacked
    assert plot.lanes_in(0) == 7 and plot.lanes_in(1) == 0  # one output keeps its nA
    assert [name for _, name in sorted(lane_ticks(plot.plots[0]), reverse=True)] == [
        f"Input {i}" for i in range(7)
    ]
    # Each lane holds its channel within +-0.45 of the lane's centre.
    for channel in range(7):
        shown = plot.curves[channel].getData()[1]
        lane = 6 - channel
        assert shown.min() >= lane - 0.46 and shown.max() <= lane + 0.46
    np.testing.assert_array_equal(plot.curve_data(0)[1].min(), x[:, 0].min())  # values kept

    # Batch boundaries: every 50 rows (50 ms at 1 kHz) of the 300 shown.
    np.testing.assert_allclose(plot.overlays.marks(), np.arange(50, 300, 50) / 1000)
    # Saturated stretches: drawn over the output at exactly the ADC limit (+-80 nA).
    fx, fy = plot.overlays.flag_data(7)
    flagged = fy[np.isfinite(fy)]
    assert len(flagged) and set(np.abs(flagged)) == {80.0}
    saturated_rows = np.flatnonzero(np.abs(y[:, 0]) == 80.0)
    assert len(saturated_rows) > 10
    # Whole span at 2 points per pixel column: every saturated row lies in a flagged bin.
    centres = fx[np.isfinite(fx)] * 1000
    assert np.all(np.abs(centres[:, None] - saturated_rows[None, :]).min(axis=0) <= 2)

    # The mouse over the y axis (left of the data) moves no cursor; at the data's left
    # edge the readout says row 0, never a negative row.
    axis = plot.plots[0].getAxis("left").sceneBoundingRect().center()
    move_mouse(plot.viewport(), plot.mapFromScene(axis))
    assert view.values is None and plot.cursor_x is None

    def hover_the_edge() -> bool:
        # Recomputed each try: under load the view range may settle after the first move.
        edge = data_point(view, 0)
        move_mouse(plot.viewport(), QPoint(edge.x() + 1, edge.y()))
        return view.values is not None

    qtbot.waitUntil(hover_the_edge, timeout=10_000)
    # One pixel in: row 0, or the few rows one pixel spans on a narrow screen.
    rows_per_pixel = 100 / max(1, data_point(view, 100).x() - data_point(view, 0).x())
    row = view.values[0]
    assert 0 <= row <= math.ceil(rows_per_pixel) and f"(row {row})" in view.readout.text()
    assert "row -" not in view.readout.text()

    # The wheel zooms in: fewer rows, and still boundaries at multiples of 50.
    wheel(plot.viewport(), data_point(view, 150), notches=3)
    qtbot.waitUntil(lambda: view.window.stop - view.window.start < 290, timeout=5_000)
    marks = np.round(plot.overlays.marks() * 1000).astype(int)
    assert len(marks) and np.all(marks % 50 == 0)

    # Unticked: the channels overlay on one axis in volts again.
    click(qtbot, page.stacked)
    assert not plot.stacked and plot.axis_label(0) == "Voltage (V)"
    shown = plot.curves[0].getData()[1]
    np.testing.assert_array_equal(shown, plot.curve_data(0)[1])


def test_the_browser_starts_in_the_recordings_folder_and_offers_the_newest(
    qtbot, tmp_path, make_window
):
    window = make_window(str(write_config(tmp_path, number_batches=3)))
    recordings = tmp_path / "recordings"  # the config's save_directory
    page = window.pages["recordings"]
    sampling = window.pages["sampling"]
    # Before any session the folder may not exist: the page still starts somewhere real.
    assert Path(page.tree.root).is_dir()
    sampling.run_options.realtime.setChecked(False)
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=10_000)
    newest = Path(sampling.last_result.path)
    show_page(qtbot, window, "recordings")
    qtbot.waitUntil(lambda: page.tree.root == str(recordings.resolve()), timeout=5_000)
    offer = page.tree.offer_button
    tree = page.tree
    qtbot.waitUntil(lambda: offer.isVisible() and newest.name in tree.offer_text(), timeout=10_000)
    assert tree.offer_text() == f"Newest: {newest.name} (complete, 150 rows)"
    click(qtbot, offer)
    qtbot.waitUntil(lambda: page.view.info is not None and page.view.info.path == str(newest))
    # Status and rows as columns; long names keep their start and their time stamp.
    assert page.tree.cell_text(newest, "Status") == "complete"
    assert page.tree.cell_text(newest, "Rows") == "150"
    assert page.tree.view.textElideMode() == Qt.TextElideMode.ElideMiddle
    # A default folder is not remembered as if the user had chosen it.
    settings = window.settings
    page.save_state(settings)
    assert settings.value("recordings/root", "", str) == ""


def test_a_chosen_folder_is_remembered_and_a_new_session_is_offered(
    qtbot, monkeypatch, tmp_path, make_window
):
    window = make_window(str(write_config(tmp_path, number_batches=2)))
    page = show_page(qtbot, window, "recordings")
    chosen = tmp_path / "recordings"
    chosen.mkdir(exist_ok=True)
    old = make_recording(chosen / "old.h5", seed=1)
    choose_folder(qtbot, monkeypatch, page, chosen)
    qtbot.waitUntil(lambda: page.tree.offer_button.isVisible(), timeout=10_000)
    assert page.tree.offer_text().startswith("Newest: old.h5")
    sampling = window.pages["sampling"]
    sampling.run_options.realtime.setChecked(False)
    click(qtbot, sampling.buttons["start"])
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=10_000)
    new = Path(sampling.last_result.path)
    assert new.parent == chosen and new != old
    qtbot.waitUntil(lambda: new.name in page.tree.offer_text(), timeout=10_000)
    page.save_state(window.settings)
    assert window.settings.value("recordings/root", "", str) == str(chosen.resolve())


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    """The platform's data folder lives in the test's own folder."""
    monkeypatch.setenv("SAMPLELAB_HOME", str(tmp_path / "home"))


def test_long_names_keep_their_start_their_end_and_the_status(qtbot):
    from widgets.elidedlabel import ElidedLabel

    label = ElidedLabel()
    qtbot.addWidget(label)
    name = "quick_demo_2026_12_07_030505_with_a_long_note.h5"
    label.setText(name, " — complete  (25,000 rows)")
    label.resize(260, 20)
    label.show()
    shown = label.shown_text()
    assert "…" in shown and shown.startswith("quick_")
    assert shown.endswith(" — complete  (25,000 rows)")
    assert label.text() == name + " — complete  (25,000 rows)"
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    label.resize(900, 20)
    assert label.shown_text() == label.text()
