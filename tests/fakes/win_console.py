"""A Windows console on any OS: kernel32's SetConsoleCtrlHandler, recorded, and its events.

`FakeConsole.api` stands in for `app.commands.winconsole.console_api()`: an
autospecced kernel32 (a call with the wrong arguments fails) that records every
handler added and removed, and ctypes' CFUNCTYPE for WINFUNCTYPE, so the
registered handler is a real C function pointer around the real handler.
`close()` does what Windows does when the console window is closed: calls the
newest handler with CTRL_CLOSE_EVENT on a thread of its own, and notes what it
returned, and when.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import Any
from unittest.mock import create_autospec

from app.commands import winconsole


class Kernel32:
    """The spec: what the handler calls in kernel32, with Windows' signature."""

    def SetConsoleCtrlHandler(self, HandlerRoutine: Any, Add: int) -> int:
        """BOOL SetConsoleCtrlHandler(PHANDLER_ROUTINE HandlerRoutine, BOOL Add)."""
        raise NotImplementedError


class ConsoleEvent:
    """One control event, delivered on its own thread as Windows delivers it."""

    def __init__(
        self, console: FakeConsole, event: int, snapshot: Callable[[], Any] | None
    ) -> None:
        self.console = console
        self.event = event
        self.sent_at = 0.0
        self.returned: int | None = None
        self.returned_at: float | None = None
        self.state_on_return: Any = None
        self._snapshot = snapshot
        self.thread = threading.Thread(target=self._run, daemon=True)

    def deliver(self) -> ConsoleEvent:
        """Call the newest handler (Windows calls the last one added first)."""
        handlers = self.console.handlers()
        assert handlers, "no console handler is registered"
        self.routine = handlers[-1]
        self.sent_at = time.monotonic()
        self.thread.start()
        return self

    def _run(self) -> None:
        returned = self.routine(self.event)
        self.returned_at = time.monotonic()
        if self._snapshot is not None:
            self.state_on_return = self._snapshot()
        self.returned = returned

    @property
    def finished(self) -> bool:
        return not self.thread.is_alive()

    @property
    def waited_s(self) -> float:
        assert self.returned_at is not None, "the handler has not returned"
        return self.returned_at - self.sent_at


class FakeConsole:
    def __init__(self) -> None:
        self.kernel32 = create_autospec(Kernel32, instance=True)
        self.kernel32.SetConsoleCtrlHandler.return_value = 1
        self.api = winconsole.ConsoleApi(self.kernel32, ctypes.CFUNCTYPE)

    def install(self, monkeypatch: Any) -> FakeConsole:
        monkeypatch.setattr(winconsole, "console_api", lambda: self.api)
        return self

    def calls(self) -> list[tuple[Any, int]]:
        """(handler, Add) of every SetConsoleCtrlHandler call, in order."""
        return [call.args for call in self.kernel32.SetConsoleCtrlHandler.call_args_list]

    def handlers(self) -> list[Any]:
        """The handlers registered now (added and not yet removed), oldest first."""
        registered: list[Any] = []
        for routine, add in self.calls():
            if add:
                registered.append(routine)
            else:
                registered.remove(routine)
        return registered

    def event(self, event: int, snapshot: Callable[[], Any] | None = None) -> ConsoleEvent:
        """A control event to `deliver()`; `snapshot()` is noted when the handler returns."""
        return ConsoleEvent(self, event, snapshot)

    def send(self, event: int, snapshot: Callable[[], Any] | None = None) -> ConsoleEvent:
        return self.event(event, snapshot).deliver()

    def close(self, snapshot: Callable[[], Any] | None = None) -> ConsoleEvent:
        """The user closes the console window."""
        return self.send(winconsole.CTRL_CLOSE_EVENT, snapshot)
