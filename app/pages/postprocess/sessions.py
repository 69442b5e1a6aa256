"""Recordings made in this run of the application, newest first, for the source lists.

Pages that sample expose a `runner` whose `finished` signal carries the
session's result (`SessionRunner`, see app/livesession.py) and keep the last
one as `last_result`; this watches every such page through the window's page
registry, so the sampling page needs no knowledge of who listens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.pages import AppContext


class SessionRecordings(QObject):
    """Paths of this session's recordings that hold data, newest first."""

    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._paths: list[str] = []
        pages = getattr(ctx.window, "pages", {})
        for page in list(pages.values()):
            runner = getattr(page, "runner", None)
            finished = getattr(runner, "finished", None)
            if finished is None or not hasattr(finished, "connect"):
                continue
            finished.connect(self.note)
            last = getattr(page, "last_result", None)
            if last is not None:
                self.note(last)

    def note(self, result: Any = None, *_more: Any) -> None:
        """Remember a finished session's recording if it kept any rows (anything else: ignored)."""
        path = getattr(result, "path", None)
        if not path or not getattr(result, "rows", 0):
            return
        path = str(Path(path))
        if path in self._paths:
            self._paths.remove(path)
        self._paths.insert(0, path)
        self.changed.emit()

    def paths(self) -> list[str]:
        """The recordings still on disk, newest first."""
        return [p for p in self._paths if Path(p).exists()]
