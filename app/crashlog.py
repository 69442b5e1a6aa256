"""The log on disk, and the last word on exceptions nobody caught.

What the log console shows also goes to a rotating file in the platform's log
folder (`backend.userdirs.log_dir()`, Help > Open log folder), so a problem
can be reported after the window is gone. Crashes land there too:

- an exception escaping a Qt slot (`sys.excepthook`) or any thread
  (`threading.excepthook`) is logged with its traceback and shown in the
  error dialog (for a thread, on the GUI thread, queued);
- Qt's own critical and fatal messages are logged (a fatal one aborts the
  process right after; the log is flushed first);
- a hard crash of the interpreter (a segfault in a library) writes Python's
  tracebacks of every thread to `crash.log` beside it (`faulthandler`).

`run_gui` installs all of it for the application's lifetime; `install`
returns an `Installed` whose `uninstall()` restores what was there.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from PySide6.QtCore import QObject, QtMsgType, Signal, qInstallMessageHandler
from PySide6.QtWidgets import QWidget

from backend import userdirs

log = logging.getLogger(__name__)

LOG_NAME = "samplelab.log"
CRASH_NAME = "crash.log"
MAX_BYTES = 2 << 20
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"


def log_file_handler(folder: Path) -> RotatingFileHandler:
    """A rotating handler writing `folder`/samplelab.log (2 MiB x 6 files at most)."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        folder / LOG_NAME, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    return handler


class _Relay(QObject):
    """Carries a thread's exception to the GUI thread (queued: the relay lives there)."""

    crashed = Signal(object, str)  # the exception, the thread's name


@dataclass
class Installed:
    """What `install` changed; `uninstall()` puts the previous hooks back."""

    folder: Path
    handler: logging.Handler
    relay: _Relay
    undo: list[Callable[[], None]] = field(default_factory=list)

    @property
    def log_file(self) -> Path:
        return self.folder / LOG_NAME

    def uninstall(self) -> None:
        for step in reversed(self.undo):
            step()
        self.undo.clear()


def install(window: QWidget, folder: Path | None = None, native_crashes: bool = True) -> Installed:
    """Log to `folder` (default: the platform's log folder) and catch every uncaught error.

    `native_crashes` also points `faulthandler` at crash.log, unless something
    (pytest, `python -X faulthandler`) already enabled it.
    """
    from app import dialogs

    folder = Path(folder) if folder is not None else userdirs.log_dir()
    root = logging.getLogger()
    handler = log_file_handler(folder)
    root.addHandler(handler)
    level = root.level
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    relay = _Relay(window)
    relay.crashed.connect(
        lambda exc, name: dialogs.show_error(
            window, exc, f"It happened on the thread {name!r}.", logged=True
        )
    )
    done = Installed(folder, handler, relay)
    done.undo.append(lambda: (root.removeHandler(handler), handler.close(), root.setLevel(level)))

    previous_sys = sys.excepthook

    def on_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None):
        if issubclass(kind, KeyboardInterrupt):
            previous_sys(kind, exc, tb)
            return
        exc.__traceback__ = tb
        try:
            dialogs.show_error(window, exc)  # logs it with its traceback
        except Exception:  # the dialog itself failed: the log and stderr still get it
            log.critical("uncaught exception", exc_info=(kind, exc, tb))
            previous_sys(kind, exc, tb)

    sys.excepthook = on_uncaught
    done.undo.append(lambda: setattr(sys, "excepthook", previous_sys))

    previous_thread = threading.excepthook

    def on_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        info = (args.exc_type, args.exc_value, args.exc_traceback)
        log.critical("uncaught exception on thread %r", name, exc_info=info)
        args.exc_value.__traceback__ = args.exc_traceback
        with contextlib.suppress(RuntimeError):  # RuntimeError: the window is gone
            relay.crashed.emit(args.exc_value, name)

    threading.excepthook = on_thread
    done.undo.append(lambda: setattr(threading, "excepthook", previous_thread))

    previous_qt = qInstallMessageHandler(_qt_message)
    done.undo.append(lambda: qInstallMessageHandler(previous_qt))

    if native_crashes and not faulthandler.is_enabled():
        crash_file: TextIO = open(folder / CRASH_NAME, "a", encoding="utf-8")  # noqa: SIM115
        faulthandler.enable(crash_file, all_threads=True)
        done.undo.append(lambda: (faulthandler.disable(), crash_file.close()))
    log.info("logging to %s", done.log_file)
    return done


_QT_LEVELS = {
    QtMsgType.QtFatalMsg: logging.CRITICAL,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtWarningMsg: logging.DEBUG,  # Qt's warnings are for developers
}
_qt_log = logging.getLogger("qt")


def _qt_message(kind: QtMsgType, context: Any, message: str) -> None:
    level = _QT_LEVELS.get(kind, logging.DEBUG)
    where = getattr(context, "category", "") or "qt"
    _qt_log.log(level, "%s: %s", where, message)
    if kind == QtMsgType.QtFatalMsg:  # Qt aborts when this returns: get it on disk first
        for handler in logging.getLogger().handlers:
            handler.flush()
