"""Start the desktop application: `run_gui` is what `samplelab` (no arguments) calls.

Safe without a display: on Linux with neither X11 nor Wayland it says so and
returns instead of letting Qt abort; `QT_QPA_PLATFORM=offscreen` runs it
headless (tests, screenshots, benchmarks). Exceptions that escape a slot or a
thread are shown in the error dialog and logged to the log file
(`app.crashlog`), never silently lost.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from app import crashlog
from app.commands.common import EXIT_FAILED, fail
from app.commands.winconsole import ConsoleClose
from app.settings import APPLICATION, ORGANIZATION
from app.theme import app_icon
from backend import __version__

if TYPE_CHECKING:
    from app.mainwindow import MainWindow

log = logging.getLogger(__name__)


def display_problem() -> str | None:
    """Why no window can be shown here, or None when one can (Qt would abort instead)."""
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    ):
        return (
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset); run samplelab on a "
            "desktop, or set QT_QPA_PLATFORM=offscreen to run it headless"
        )
    from app.qtplatform import xcb_problem

    return xcb_problem()


def ensure_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication, created once with samplelab's names and plot defaults."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    from app import widgetrules

    widgetrules.install(app)
    if app.windowIcon().isNull():
        app.setWindowIcon(app_icon())
    import pyqtgraph as pg

    # We decimate ourselves; antialiasing costs more than it shows at these densities.
    pg.setConfigOptions(antialias=False, useOpenGL=False)
    return app


def _leave_a_core_for_the_gui() -> None:
    """Load torch with one thread for the simulated device's network.

    Lab PCs often have two to four cores; torch would take them all and the
    GUI thread, which draws the live plots, would queue behind it. Run on a
    thread once the window shows, so the first Start does not wait for torch
    and the first paint does not either.
    """
    try:
        import torch

        torch.set_num_threads(1)
    except Exception as exc:  # the simulated device will say so when it is used
        log.warning("could not load torch: %s", exc)


class ConsoleCloser(QObject):
    """Closes the window, on the GUI thread, when the console it was started from closes.

    Windows asks on a thread of its own (`winconsole.ConsoleClose`); the signal
    queues the close into the GUI thread, and Windows waits until the window
    has closed (its running session stopped at 0 V) or its 5 s are nearly up.
    Use `with closer.console:` around the event loop.
    """

    requested = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.console = ConsoleClose(self.requested.emit)
        self.requested.connect(self._close)

    def _close(self) -> None:
        try:
            self.window.close_without_asking("the console samplelab was started from is closing")
        finally:
            self.console.done.set()


def run_gui(
    config_path: str | None = None,
    exit_after_ms: int | None = None,
    on_first_paint: Callable[[QWidget], None] | None = None,
) -> int:
    """Open the main window (with `config_path` loaded, if given); the exit code when closed.

    `on_first_paint(window)` is called once the window has first been painted,
    before any deferred work starts (start-up benchmark and tests).
    """
    problem = display_problem()
    if problem:
        return fail(problem, EXIT_FAILED)
    app = ensure_app()
    from app.mainwindow import MainWindow

    window = MainWindow(config_path=config_path)
    crashes = crashlog.install(window)
    if on_first_paint is not None:
        window.first_paint.painted.connect(lambda: on_first_paint(window))
    # Not a daemon: quitting at once waits for the import instead of cutting it.
    warm_up = threading.Thread(target=_leave_a_core_for_the_gui, name="torch-warm-up")
    window.first_paint.call_after(warm_up.start)
    window.show()
    if exit_after_ms is not None:  # smoke tests and demos
        QTimer.singleShot(exit_after_ms, window.close)
    try:
        with ConsoleCloser(window).console:
            code = app.exec()
        log.info("samplelab closed (exit code %s)", code)
    finally:
        crashes.uninstall()
    return int(code)
