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
from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app import crashlog
from app.commands.common import EXIT_FAILED, fail
from app.settings import APPLICATION, ORGANIZATION
from backend import __version__

log = logging.getLogger(__name__)


def display_problem() -> str | None:
    """Why no window can be shown here, or None when one can."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return None
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return (
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset); run samplelab on a "
            "desktop, or set QT_QPA_PLATFORM=offscreen to run it headless"
        )
    return None


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
    import pyqtgraph as pg

    # We decimate ourselves; antialiasing costs more than it shows at these densities.
    pg.setConfigOptions(antialias=False, useOpenGL=False)
    return app


def _leave_a_core_for_the_gui() -> None:
    """One torch thread for the simulated device's network.

    Lab PCs often have two to four cores; torch would take them all and the
    GUI thread, which draws the live plots, would queue behind it.
    """
    import torch

    torch.set_num_threads(1)


def run_gui(config_path: str | None = None, exit_after_ms: int | None = None) -> int:
    """Open the main window (with `config_path` loaded, if given); the exit code when closed."""
    problem = display_problem()
    if problem:
        return fail(problem, EXIT_FAILED)
    app = ensure_app()
    _leave_a_core_for_the_gui()
    from app.mainwindow import MainWindow

    window = MainWindow(config_path=config_path)
    crashes = crashlog.install(window)
    window.show()
    if exit_after_ms is not None:  # smoke tests and demos
        QTimer.singleShot(exit_after_ms, window.close)
    try:
        code = app.exec()
        log.info("samplelab closed (exit code %s)", code)
    finally:
        crashes.uninstall()
    return int(code)
