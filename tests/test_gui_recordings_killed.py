"""The Recordings page with a real writer process: shown as being written, SIGKILLed while
followed, then shown as interrupted with Resume enabled, and resumed with a click."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from guitools import click, make_recording, make_window, settings_dir, show_page, window
from test_gui_recordings_live import choose_folder, open_file
from writertools import start_writer, wait_for_batches

from app import dialogs
from backend.recording.reader import Recording
from backend.recording.superblock import read_superblock

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name

pytestmark = pytest.mark.timeout(240)


def inputs_of(path) -> np.ndarray:
    with Recording(path) as rec:
        return rec.read()[0]


def test_a_killed_recording_shows_interrupted_and_resumes_with_a_click(
    qtbot, monkeypatch, tmp_path, window
):
    proc, path = start_writer(tmp_path, batches=200, seed=9)
    try:
        wait_for_batches(proc, path, 2)
        page = show_page(qtbot, window, "recordings")
        choose_folder(qtbot, monkeypatch, page, path.parent)
        open_file(qtbot, page, path)
        info = page.view.info
        assert info.live and info.status == "running"
        assert "— being written" in page.file_label.text()
        assert not page.resume_action.isEnabled()  # its writer still runs
        click(qtbot, page.follow)
        qtbot.waitUntil(page.follow.isChecked)
        os.kill(proc.pid, signal.SIGKILL)  # as a crash or a power cut would end it
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert read_superblock(path).writing  # the flags the killed writer left
    qtbot.waitUntil(lambda: page.view.info is not None and not page.view.info.live, timeout=20_000)
    qtbot.waitUntil(
        lambda: page.meta.text_at(["Recording", "Status"]) == "interrupted", timeout=20_000
    )
    assert "— interrupted" in page.file_label.text()
    assert page.resume_action.isEnabled()
    assert read_superblock(path).writing  # browsing it cleared nothing
    click(qtbot, page.buttons["resume"])
    qtbot.waitUntil(lambda: not page.runner.active, timeout=120_000)
    qtbot.waitUntil(lambda: page.view.info is not None and page.view.info.status == "complete")
    assert dialogs.open_error_dialogs() == []
    assert page.view.info.rows == 200 * 50 and not page.resume_action.isEnabled()
    with Recording(path) as rec:
        assert (rec.status, rec.batches_done) == ("complete", 200)
    full = make_recording(tmp_path / "full.h5", seed=9, number_batches=200)
    np.testing.assert_array_equal(inputs_of(path), inputs_of(full))
