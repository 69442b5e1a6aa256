"""The log console: Python `logging` records from every thread, shown in a dock.

A logging.Handler may be called on any thread; it only emits a Qt signal,
which Qt queues to the GUI thread where the line is appended. The console
keeps a bounded number of lines, so a chatty job cannot eat memory.
"""

from __future__ import annotations

import html
import logging
import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.theme import LIGHT, Theme

MAX_LINES = 5000
LEVELS = {"Debug": logging.DEBUG, "Info": logging.INFO, "Warning": logging.WARNING}


class _Relay(QObject):
    record = Signal(int, str)  # level number, formatted text


class QtLogHandler(logging.Handler):
    """Forwards formatted records to the GUI thread through a queued signal."""

    def __init__(self, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.relay = _Relay()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
            self.relay.record.emit(record.levelno, f"{stamp} {self.format(record)}")
        except RuntimeError:  # the console is gone (application shutting down)
            pass
        except Exception:
            self.handleError(record)


#: Readable on light and dark backgrounds alike, so old lines survive a theme switch.
LEVEL_COLOURS = {logging.DEBUG: "#8a8a8a", logging.WARNING: "#d08000", logging.ERROR: "#e53935"}


def level_colour(level: int) -> str | None:
    """The colour of a record's line; None (the palette's text colour) for INFO."""
    if level >= logging.ERROR:
        return LEVEL_COLOURS[logging.ERROR]
    if level >= logging.WARNING:
        return LEVEL_COLOURS[logging.WARNING]
    if level >= logging.INFO:
        return None
    return LEVEL_COLOURS[logging.DEBUG]


class LogDock(QDockWidget):
    """A dock with the log lines (level-coloured), a level filter and Clear."""

    def __init__(self, parent: QWidget | None = None, level: int = logging.INFO) -> None:
        super().__init__("Log", parent)
        self.setObjectName("log_dock")  # saveState needs a name
        self.theme = LIGHT
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setObjectName("log_text")
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.level_box = QComboBox()
        self.level_box.addItems(list(LEVELS))
        self.level_box.setToolTip("Show records of this level and above")
        clear = QPushButton("Clear")
        clear.clicked.connect(self.text.clear)
        bar = QHBoxLayout()
        bar.addWidget(self.level_box)
        bar.addStretch(1)
        bar.addWidget(clear)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.text)
        self.setWidget(body)

        self.handler = QtLogHandler()
        self.handler.relay.record.connect(self._append, Qt.ConnectionType.QueuedConnection)
        self.level_box.currentTextChanged.connect(self._set_level)
        self.level_box.setCurrentText(next(k for k, v in LEVELS.items() if v == level))
        self._set_level(self.level_box.currentText())

    def install(self, logger: logging.Logger | None = None) -> None:
        """Start showing records of `logger` (the root logger by default)."""
        self._logger = logger or logging.getLogger()
        self._logger.addHandler(self.handler)
        self._let_through(self.handler.level)

    def uninstall(self) -> None:
        logger = getattr(self, "_logger", None)
        if logger is not None:
            logger.removeHandler(self.handler)

    def _set_level(self, name: str) -> None:
        self.handler.setLevel(LEVELS.get(name, logging.INFO))
        self._let_through(self.handler.level)

    def _let_through(self, level: int) -> None:
        """Lower the logger's level so records the console wants reach it."""
        logger = getattr(self, "_logger", None)
        if logger is not None and logger.getEffectiveLevel() > level:
            logger.setLevel(level)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme

    def lines(self) -> list[str]:
        return self.text.toPlainText().splitlines()

    def _append(self, level: int, text: str) -> None:
        colour = level_colour(level)
        style = "white-space:pre;" + (f" color:{colour};" if colour else "")
        if level >= logging.CRITICAL:
            style += " font-weight:bold;"
        body = html.escape(text).replace("\n", "<br>")
        down = self.text.verticalScrollBar()
        following = down.value() >= down.maximum() - 1  # not while the user reads older lines
        self.text.appendHtml(f'<span style="{style}">{body}</span>')
        if following:  # to the newest line, without scrolling sideways to its end
            down.setValue(down.maximum())
