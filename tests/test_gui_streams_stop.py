"""Start and Stop on the Streams page clicked quickly and repeatedly, as an impatient user does.

A Stop click must never be lost: whatever the delay after Start (still opening the
source, waiting for a session, streaming), the page returns to a stopped state
and no worker keeps running. Found under a real X server: the status lines
re-wrapped as their numbers grew and moved the Stop button away from the click.
"""

from __future__ import annotations

from guitools import (
    answer_questions,
    click,
    make_recording,
    make_window,
    settings_dir,
    show_page,
    start_long_session,
    window,
)
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QSplitter

__all__ = ["make_window", "settings_dir", "window"]  # fixtures used by name

DELAYS_MS = (0, 0, 5, 20, 50, 100, 200)  # Stop this long after Start


def choose(page, source: str) -> None:
    page.form.source.setCurrentIndex(page.form.source.findData(source))


def stopped(page) -> bool:
    """Idle, Start offered again and the stream's worker thread ended."""
    return (
        page.runner.state == "idle"
        and not page.waiting
        and page.buttons["start"].isEnabled()
        and not page.buttons["stop"].isEnabled()
        and not (page.runner.worker is not None and page.runner.worker.running)
    )


def cycle(qtbot, page, delay_ms: int) -> None:
    click(qtbot, page.buttons["start"])
    assert page.buttons["stop"].isEnabled(), "Stop is offered at once after Start"
    if delay_ms:
        qtbot.wait(delay_ms)
    click(qtbot, page.buttons["stop"])
    qtbot.waitUntil(lambda: stopped(page), timeout=5_000)
    assert page.status_label.text().startswith(("Stopped", "Ended"))
    assert page.form.source.isEnabled()  # the form is unlocked again


def test_stop_at_any_moment_stops_each_source(qtbot, tmp_path, window):
    rec = make_recording(tmp_path / "rec.h5", number_batches=40)
    page = show_page(qtbot, window, "streams")
    runs = {"random": 14, "file": 7, "session": 7}  # the session source waits for one
    for source, count in runs.items():
        choose(page, source)
        page.form.path.setText(str(rec))
        for k in range(count):
            cycle(qtbot, page, DELAYS_MS[k % len(DELAYS_MS)])
    assert not window.pages["sampling"].runner._watchers  # no waiting page left attached
    assert not window.workers.running()


def test_stop_while_following_a_running_session_leaves_it_sampling(qtbot, tmp_path, make_window):
    window, sampling, _session = start_long_session(qtbot, make_window, tmp_path)
    page = show_page(qtbot, window, "streams")
    choose(page, "session")
    for k in range(len(DELAYS_MS)):
        cycle(qtbot, page, DELAYS_MS[k % len(DELAYS_MS)])
        assert sampling.runner.state == "running"  # only the view stopped
    click(qtbot, sampling.buttons["stop"])
    qtbot.waitUntil(lambda: sampling.last_result is not None, timeout=10_000)


def test_stop_stays_where_it_was_while_the_status_rewraps(qtbot, window):
    """The user aims at Stop before starting; the lines above it grow and wrap as it runs."""
    window.resize(1024, 700)
    page = show_page(qtbot, window, "streams")
    page.findChild(QSplitter, "streams_splitter").setSizes([300, 724])  # the narrowest
    choose(page, "random")
    page.form.rate.setValue(100_000)  # long numbers: the Source line wraps
    qtbot.wait(50)
    stop = page.buttons["stop"]
    aimed = stop.mapTo(window, stop.rect().center())
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: "rows/s" in page.status_label.text(), timeout=5_000)
    line = page.status_label.fontMetrics().lineSpacing()
    qtbot.waitUntil(lambda: page.status_label.height() > 3.5 * line, timeout=5_000)
    target = window.childAt(aimed)
    assert target is stop, f"Stop moved from where the user aimed ({target!r} is there now)"
    QTest.mouseClick(target, Qt.MouseButton.LeftButton, pos=target.mapFrom(window, aimed))
    qtbot.waitUntil(lambda: stopped(page), timeout=5_000)
    assert stop.mapTo(window, QPoint(0, 0)) == page.buttons["stop"].mapTo(window, QPoint(0, 0))


def test_closing_while_streaming_names_the_stream(qtbot, monkeypatch, window):
    page = show_page(qtbot, window, "streams")
    choose(page, "random")
    click(qtbot, page.buttons["start"])
    qtbot.waitUntil(lambda: page.runner.state == "running", timeout=5_000)
    asked = answer_questions(monkeypatch, yes=False)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert len(asked) == 1 and "the Streams page is showing a stream" in asked[0]
    assert "background jobs" not in asked[0]
    click(qtbot, page.buttons["stop"])
    qtbot.waitUntil(lambda: stopped(page), timeout=5_000)
