"""What the window lends every page: settings, workers, the session service, errors, status.

One `AppContext` per window. It owns the one `SessionService` (app/sessions.py),
so pages reach sessions, the device's other users and this run's recordings
through it, and other pages only through `open_in_page` (a path handed over).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMainWindow

from app import dialogs
from app.sessions import SessionService
from app.settings import AppSettings
from app.theme import LIGHT, Theme
from app.workers import Job, Worker, WorkerPool


class AppContext:
    """What the window lends every page."""

    def __init__(self, window: QMainWindow, settings: AppSettings, workers: WorkerPool) -> None:
        self.window = window
        self.settings = settings
        self.workers = workers
        self.sessions = SessionService(workers, window)
        self.theme: Theme = LIGHT
        self.initial_config: str | None = None  # a config named on the command line

    def after_first_paint(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the window is on screen: for work the first view can do without."""
        self.window.first_paint.call_after(callback)

    def show_error(self, exc: BaseException, context: str = "") -> dialogs.ErrorDialog:
        return dialogs.show_error(self.window, exc, context)

    def status(self, text: str, timeout_ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)

    def open_in_page(self, key: str, path: str) -> bool:
        """Show `path` on page `key` (e.g. a new recording on 'recordings') and bring it up."""
        page = getattr(self.window, "pages", {}).get(key)
        if page is None or not page.open_file(path):
            return False
        self.window.tabs.setCurrentWidget(page)
        return True

    def run_job(
        self,
        job: Job,
        name: str,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Worker:
        """Run `job(report, token)` on a thread; errors go to the dialog unless handled."""
        return self.workers.run(
            job,
            name,
            on_result=on_result,
            on_error=on_error or (lambda exc: self.show_error(exc)),
            on_progress=on_progress,
        )
