"""Closing a Windows console: a safe stop before Windows ends the process.

Windows tells a console process that its window is being closed (or the user
logs off, or the machine shuts down) through a console control handler, not a
signal: Python maps only Ctrl+C and Ctrl+Break to SIGINT / SIGBREAK, so without
a handler the process dies mid-batch with the recording open and the outputs
wherever they were. Windows calls the handler on a thread of its own and ends
the process as soon as the handler returns, or 5 s after the event at the
latest: the handler asks for the stop, then waits (at most `WAIT_S`) until the
stop is done.

`console_api` is the one place that touches Windows; tests give it a fake.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CTRL_C_EVENT, CTRL_BREAK_EVENT = 0, 1
CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT = 2, 5, 6
#: The events after which Windows ends the process whatever the handler returns.
CLOSING_EVENTS = frozenset({CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT})
#: Windows ends the process 5 s after a close event; return before, to exit on our terms.
WAIT_S = 4.5

#: Every handler ever registered: Windows may still be inside one after it was removed,
#: and freeing a ctypes callback that C code is running crashes the process.
_ROUTINES: list[Any] = []


@dataclass(frozen=True)
class ConsoleApi:
    """What the handler needs from Windows: kernel32 and ctypes' WINFUNCTYPE."""

    kernel32: Any
    functype: Callable[..., Any]


def console_api() -> ConsoleApi | None:
    """kernel32's console functions on Windows; None elsewhere (nothing to install)."""
    if sys.platform != "win32":
        return None
    return ConsoleApi(ctypes.WinDLL("kernel32", use_last_error=True), ctypes.WINFUNCTYPE)


class ConsoleClose:
    """While entered, closing the console calls `on_close`, then waits for `done`.

    `on_close` runs on Windows' thread and must only ask for the stop (a
    thread-safe request). `done` is set on leaving the `with` block, which a
    command leaves once its safe stop has finished; callers that finish earlier
    (the GUI, once its window has closed) set it themselves. Ctrl+C and
    Ctrl+Break pass on to Python's own handler (SIGINT / SIGBREAK).
    """

    def __init__(self, on_close: Callable[[], None], wait_s: float | None = None) -> None:
        self.on_close = on_close
        self.wait_s = WAIT_S if wait_s is None else wait_s
        self.done = threading.Event()
        self._api: ConsoleApi | None = None
        self._routine: Any = None

    def __enter__(self) -> ConsoleClose:
        api = console_api()
        if api is None:
            return self
        routine = api.functype(ctypes.c_long, ctypes.c_ulong)(self.handle)  # BOOL (DWORD)
        _ROUTINES.append(routine)
        if api.kernel32.SetConsoleCtrlHandler(routine, True):
            self._api, self._routine = api, routine
        else:  # no console (pythonw), or refused: nothing to watch
            error = ctypes.get_last_error() if hasattr(ctypes, "get_last_error") else "?"
            log.warning("could not watch for the console closing (error %s)", error)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.done.set()
        if self._api is not None:
            self._api.kernel32.SetConsoleCtrlHandler(self._routine, False)
            self._api = self._routine = None

    @property
    def installed(self) -> bool:
        return self._api is not None

    def handle(self, event: int) -> int:
        """The console control handler: TRUE once a close was handled, FALSE to pass it on."""
        if event not in CLOSING_EVENTS:
            return 0
        log.warning("the console is closing (event %s): stopping safely", event)
        try:
            self.on_close()
        except Exception:  # an exception would end the handler: Windows kills at once
            log.exception("could not ask for a safe stop")
        if not self.done.wait(self.wait_s):
            log.warning("the safe stop did not finish within %.1f s", self.wait_s)
        return 1
