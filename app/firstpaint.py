"""Knowing when a window has first been painted, so slow imports can wait until then.

The first view needs neither torch nor scipy.signal nor the NI driver; loading
them before the window shows would make every start 1-2 s slower. Work that
can wait registers with `FirstPaint.call_after` and runs once the window's
first paint is on screen (or shortly after it was shown, should the window
system never expose it).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

#: If a shown window is never exposed (minimised at start), deferred work runs anyway.
FALLBACK_MS = 3000


class FirstPaint(QObject):
    """Emits `painted` once, right after `window` has drawn itself for the first time."""

    painted = Signal()

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.done = False
        self._deferred: list[Callable[[], None]] = []
        self._filtering = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.window and kind == QEvent.Type.Show and not self._filtering:
            # From showing to the first paint, on the whole application: a window whose
            # children cover it gets no paint event of its own, only they do.
            self._filtering = True
            QApplication.instance().installEventFilter(self)
            QTimer.singleShot(FALLBACK_MS, self, self._fire)
        elif kind == QEvent.Type.Paint and self._filtering and self._inside(watched):
            # The rest of the window paints in this same pass; the timer fires after it.
            self._stop_filtering()
            QTimer.singleShot(0, self, self._fire)
        return False

    def _inside(self, watched: QObject) -> bool:
        return isinstance(watched, QWidget) and watched.window() is self.window

    def _stop_filtering(self) -> None:
        if self._filtering:
            self._filtering = False
            QApplication.instance().removeEventFilter(self)

    def call_after(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the GUI thread after the first paint (at once if that was)."""
        if self.done:
            QTimer.singleShot(0, self, lambda: self._run(callback))
        else:
            self._deferred.append(callback)

    def _fire(self) -> None:
        if self.done:
            return
        self.done = True
        self._stop_filtering()
        self.window.removeEventFilter(self)
        self.painted.emit()
        # One turn later, so whoever listens to `painted` sees the state before this work.
        for callback in self._deferred:
            QTimer.singleShot(0, self, lambda callback=callback: self._run(callback))
        self._deferred.clear()

    def _run(self, callback: Callable[[], None]) -> None:
        if self.window.isVisible():  # closed at once: nobody needs the work any more
            callback()
