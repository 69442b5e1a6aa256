"""The Recordings page driven as a user does: choose a folder, click files, zoom, follow."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import small_config
from guitools import (
    click,
    click_path,
    copy_fixture,
    make_recording,
    make_window,
    settings_dir,
    show_page,
    window,
)
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QFileDialog

from app import dialogs
from backend.data.kinds import load_data
from backend.devices import FaultPlan
from backend.display.decimate import minmax
from backend.display.pyramid import overview_path
from backend.recording.reader import Recording
from backend.sampling.session import start_session
from backend.streams import H5StreamWriter
from widgets.metatree import format_value

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name


def choose_folder(qtbot, monkeypatch, page, folder) -> None:
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder))
    )
    click(qtbot, page.tree.choose_button)
    assert page.tree.root == str(folder.resolve())


def open_file(qtbot, page, path, timeout: int = 10_000) -> None:
    """Click `path` in the tree and wait until it is drawn (or refused)."""
    click_path(qtbot, page.tree, path)
    qtbot.waitUntil(
        lambda: (
            (page.view.info is not None and page.view.info.path == str(path))
            or page.view.message.text().startswith("Cannot open")
        ),
        timeout=timeout,
    )


def raw_rows(path) -> np.ndarray:
    with Recording(path) as rec:
        inputs, outputs = rec.read()
    return np.hstack([inputs, outputs])


def _shown_rows(view, rows: int) -> tuple[int, int]:
    env = view.window.envelope
    return int(env.starts[0]), min(int(env.starts[-1]) + env.step, rows)


def _covers_view(view, rows: int) -> bool:
    if view.window is None or view.window.envelope is None:
        return False
    a, b = _shown_rows(view, rows)
    lo, hi = view.plot.x_range()
    return a <= view.row_of(lo) + 1 and b >= view.row_of(hi) - 1


def check_curves_equal_raw_envelope(qtbot, view, data: np.ndarray) -> None:
    """Every drawn curve is min/max of the raw rows for the window shown, binned as drawn.

    Waits first for the newest view request to be served: the page answers
    requests in the background and only ever draws the latest.
    """
    qtbot.waitUntil(
        lambda: not view.worker.pending("view") and _covers_view(view, len(data)), timeout=10_000
    )
    env = view.window.envelope
    a, step = int(env.starts[0]), env.step
    b = min(int(env.starts[-1]) + step, len(data))
    expected = minmax(data[a:b], 0, a, step)
    for channel in range(data.shape[1]):
        x, y = view.plot.curve_data(channel)
        ex, ey = expected.line(channel)
        np.testing.assert_array_equal(y, ey)
        np.testing.assert_allclose(x, ex / view.info.fs)


def test_browse_a_folder_of_recordings_and_foreign_files(qtbot, monkeypatch, tmp_path, window):
    folder = tmp_path / "data"
    folder.mkdir()
    rec = make_recording(folder / "long.h5", number_batches=200)  # 10,000 rows
    sine = copy_fixture(folder, "small_sine")
    junk = folder / "junk.h5"
    junk.write_bytes(np.random.default_rng(0).bytes(4000))
    (folder / "notes.json").write_text("{}")
    with H5StreamWriter(folder / "filtered.h5", 2, fs=100) as writer:
        writer.put(np.zeros((10, 2)))
    page = show_page(qtbot, window, "recordings")
    choose_folder(qtbot, monkeypatch, page, folder)
    qtbot.waitUntil(lambda: {"long.h5", "small_sine", "junk.h5"} <= set(page.tree.listed_names()))
    qtbot.waitUntil(lambda: page.tree.kind_text(folder / "filtered.h5") == "samplelab stream")
    assert "notes.json" not in page.tree.listed_names()  # nothing we could open
    qtbot.waitUntil(lambda: page.tree.kind_text(junk).startswith("cannot be opened"))
    assert page.tree.kind_text(rec) == "samplelab recording"
    assert page.tree.kind_text(sine) == "bspysmg sampling folder"

    # A foreign file that only looks like HDF5: a clear message, no dialog, no crash.
    open_file(qtbot, page, junk)
    assert "not an HDF5 file" in page.view.message.text()
    assert page.view.message.isVisible()
    assert dialogs.open_error_dialogs() == []
    qtbot.waitUntil(lambda: "Problem" in page.meta.section_titles())
    assert "not an HDF5 file" in page.meta.text_at(["Problem", "Error"])

    # The bspysmg folder opens as one table, named and scaled by its config.
    open_file(qtbot, page, sine)
    info = page.view.info
    assert info.kind == "bspysmg-folder" and info.fs == 2500.0
    assert info.units == ["V"] * 7 + ["nA"]
    qtbot.waitUntil(lambda: "Config" in page.meta.section_titles())
    assert page.meta.text_at(["Config", "input_data", "batch_time"]) == "0.04"
    data = load_data(sine)
    qtbot.waitUntil(lambda: page.view.window is not None)
    check_curves_equal_raw_envelope(qtbot, page.view, data)
    # Seven inputs stacked in lanes, each to its own range; the one output keeps its nA.
    labels = [page.view.plot.axis_label(r) for r in range(2)]
    assert labels == ["Inputs (each to its range)", "Current (nA)"]

    # Our recording: status, batches, units and exact min/max per channel.
    open_file(qtbot, page, rec)
    data = raw_rows(rec)
    qtbot.waitUntil(lambda: page.meta.text_at(["Recording", "Status"]) == "complete")
    assert page.meta.text_at(["Batches", "Complete"]) == "200 of 200"
    assert page.meta.text_at(["Batches", "Rows per batch"]) == "50"
    assert page.meta.text_at(["Recording", "Seed"]) == "7"
    qtbot.waitUntil(lambda: page.meta.text_at(["Channels", "Output 0", "Min"]) != "")
    names = [f"Input {i}" for i in range(7)] + ["Output 0"]
    for i, name in enumerate(names):
        assert page.meta.text_at(["Channels", name, "Units"]) == ("nA" if i == 7 else "V")
        assert page.meta.text_at(["Channels", name, "Min"]) == format_value(data[:, i].min())
        assert page.meta.text_at(["Channels", name, "Max"]) == format_value(data[:, i].max())
    lo, hi = page.ranges
    np.testing.assert_array_equal(lo, data.min(axis=0))
    np.testing.assert_array_equal(hi, data.max(axis=0))
    assert page.view.picker.boxes[7].text() == "Output 0 (nA)"
    assert window.windowTitle().startswith("long.h5")

    # The whole recording, decimated: curves are the min/max envelope of the raw rows.
    view = page.view
    first = view.window.envelope.step
    assert first > 1  # 10,000 rows do not fit the plot's width
    check_curves_equal_raw_envelope(qtbot, view, data)

    # Zoom in as the wheel does: finer data is loaded for the new window.
    view.plot.zoom(0.02, centre=5.0)
    qtbot.waitUntil(lambda: view.window.envelope.step < first)
    check_curves_equal_raw_envelope(qtbot, view, data)
    assert view.window.envelope.step == 1
    lo_x, hi_x = view.plot.x_range()
    assert hi_x - lo_x == pytest.approx(0.02 * 9.999, rel=0.01)

    # Hide the output: its curve disappears; the readout leaves it out.
    click(qtbot, view.picker.boxes[7])
    assert not view.plot.channel_visible(7) and not view.plot.curves[7].isVisible()
    assert view.plot.channel_visible(0)

    # The cursor follows the mouse and reads the raw value under it.
    centre = view.plot.plots[0].getViewBox().sceneBoundingRect().center()
    pos = view.plot.mapFromScene(centre)
    qtbot.mouseMove(view.plot.viewport(), QPoint(int(pos.x()), int(pos.y())))
    qtbot.waitUntil(lambda: view.values is not None, timeout=5_000)
    row, values = view.values
    assert view.plot.cursor_x == pytest.approx(row / 1000, abs=0.001)
    np.testing.assert_array_equal(values, data[row])
    text = view.readout.text()
    assert f"Input 0 = {data[row, 0]:.6g} V" in text and "Output 0" not in text
    assert f"(row {row:,})" in text

    # Home shows the whole recording again.
    click(qtbot, page.buttons["show_all"])
    qtbot.waitUntil(lambda: (view.window.start, view.window.stop) == (0, len(data)))
    assert view.window.envelope.step > 1
    check_curves_equal_raw_envelope(qtbot, view, data)


def test_a_big_file_gets_an_overview_built_once(qtbot, monkeypatch, tmp_path, window):
    folder = tmp_path / "big"
    folder.mkdir()
    rec = make_recording(folder / "big.h5", number_batches=200)
    data = raw_rows(rec)
    page = show_page(qtbot, window, "recordings")
    page.view.raw_limit = 800  # 100 rows of 8 channels: everything longer needs the overview
    choose_folder(qtbot, monkeypatch, page, folder)
    open_file(qtbot, page, rec)
    assert page.view.info.overview == "needed"
    qtbot.waitUntil(lambda: page.view.info.overview == "ready", timeout=20_000)
    assert overview_path(rec).is_file()
    qtbot.waitUntil(lambda: page.view.window is not None and page.view.window.envelope is not None)
    check_curves_equal_raw_envelope(qtbot, page.view, data)
    qtbot.waitUntil(lambda: page.ranges is not None)
    np.testing.assert_array_equal(page.ranges[0], data.min(axis=0))  # exact, from the overview
    np.testing.assert_array_equal(page.ranges[1], data.max(axis=0))
    # Short windows are read raw; opening again uses the sidecar straight away.
    page.view.show_rows(4000, 4060)
    qtbot.waitUntil(lambda: page.view.window.envelope.step == 1)
    check_curves_equal_raw_envelope(qtbot, page.view, data)
    page.view.open(str(rec))
    qtbot.waitUntil(lambda: page.view.info is not None and page.view.window is not None)
    assert page.view.info.overview == "ready" and page.view.build is None
    check_curves_equal_raw_envelope(qtbot, page.view, data)


def test_follow_a_recording_being_written(qtbot, monkeypatch, tmp_path, window):
    folder = tmp_path / "live"
    folder.mkdir()
    config = small_config(number_batches=60)
    session = start_session(config, "simulated", path=folder / "live.h5", seed=3, model="analytic")
    started, go_on = threading.Event(), threading.Event()

    def slow(batch):  # a paced device (about 40 batches a second) once the page is looking
        started.set()
        if batch.index >= 2:
            go_on.wait(30)
        time.sleep(0.025)

    session.add_listener(slow)
    thread = threading.Thread(target=session.run)
    thread.start()
    try:
        page = show_page(qtbot, window, "recordings")
        choose_folder(qtbot, monkeypatch, page, folder)
        assert started.wait(10)
        open_file(qtbot, page, folder / "live.h5")
        view = page.view
        assert view.info.live and view.info.status == "running"
        qtbot.waitUntil(lambda: page.meta.text_at(["Recording", "Status"]) == "running")
        assert page.follow.isEnabled()
        rows0, extent0 = view.info.rows, view.plot.x_range()[1]
        x0, _ = view.plot.curve_data(7)
        click(qtbot, page.follow)
        go_on.set()
        qtbot.waitUntil(lambda: view.info.rows >= rows0 + 500, timeout=10_000)
        qtbot.waitUntil(lambda: view.plot.x_range()[1] > extent0 + 0.4, timeout=5_000)
        qtbot.waitUntil(lambda: view.plot.curve_data(7)[0][-1] > x0[-1] + 0.4, timeout=5_000)
    finally:
        go_on.set()
        thread.join(30)
    # The writer finished: the page notices, stops following and shows the final facts.
    qtbot.waitUntil(lambda: not view.info.live, timeout=10_000)
    assert view.info.rows == 3000
    assert not page.follow.isChecked()
    qtbot.waitUntil(lambda: page.meta.text_at(["Recording", "Status"]) == "complete")
    qtbot.waitUntil(lambda: view.plot.x_range()[1] == pytest.approx(2.999))
    check_curves_equal_raw_envelope(qtbot, view, raw_rows(folder / "live.h5"))


def test_resume_an_interrupted_recording(qtbot, monkeypatch, tmp_path, window):
    folder = tmp_path / "resume"
    folder.mkdir()
    config = small_config(number_batches=8)
    path = folder / "part.h5"
    fault = FaultPlan.parse("disconnect@3")
    session = start_session(config, "simulated", path=path, seed=9, model="analytic", faults=fault)
    assert session.run().status == "failed"
    page = show_page(qtbot, window, "recordings")
    choose_folder(qtbot, monkeypatch, page, folder)
    open_file(qtbot, page, path)
    qtbot.waitUntil(lambda: page.meta.text_at(["Recording", "Status"]) == "failed")
    assert page.resume_action.isEnabled()
    click(qtbot, page.buttons["resume"])
    qtbot.waitUntil(lambda: not page.runner.active, timeout=20_000)
    qtbot.waitUntil(lambda: page.view.info is not None and page.view.info.status == "complete")
    qtbot.waitUntil(lambda: page.meta.text_at(["Recording", "Status"]) == "complete")
    assert page.view.info.rows == 400 and not page.resume_action.isEnabled()
    assert "Resumed recording complete" in window.statusBar().currentMessage()
    with Recording(path) as rec:
        assert (rec.status, rec.batches_done) == ("complete", 8)
    full = make_recording(tmp_path / "full.h5", seed=9, number_batches=8)
    np.testing.assert_array_equal(raw_rows(path)[:, :7], raw_rows(full)[:, :7])
    assert dialogs.open_error_dialogs() == []


def test_the_browser_worker_serves_only_the_newest_view(qtbot):
    from app.browserworker import LatestOnlyWorker

    worker = LatestOnlyWorker(("cursor", "view"), "test")
    gate, ran, answers = threading.Event(), [], []
    worker.answered.connect(lambda slot, number, result: answers.append((slot, number, result)))
    try:
        worker.request("view", lambda: (gate.wait(5), ran.append("slow"))[1])
        qtbot.waitUntil(lambda: not worker.pending("view") and worker.pending())  # it runs
        for i in range(5):  # the user keeps zooming while the slow one runs
            worker.request("view", lambda i=i: ran.append(i) or i)
        worker.request("cursor", lambda: ran.append("cursor") or "c")
        gate.set()
        qtbot.waitUntil(lambda: len(answers) == 3)
    finally:
        worker.close()
    assert ran == ["slow", "cursor", 4]  # the cursor first; of five views only the last
    assert worker.dropped == {"cursor": 0, "view": 4}
    assert [a[1] for a in answers if a[0] == "view"] == [1, 6]
    assert worker.is_newer("view", 6) and not worker.is_newer("view", 1)  # stale: not drawn
