"""One thread that serves only the newest request of each kind (like ephyviewer's worker).

A browser asks for data on every wheel step and every mouse move; answering
each request in turn would leave the view seconds behind the user. Here each
request kind has a slot that holds at most one waiting job: a new request
replaces the waiting one (counted in `dropped`), so the thread always works on
the latest view. Slots are served in priority order (e.g. open before the
cursor readout before the view). Answers carry the request's number; the GUI
keeps an answer only if nothing newer of its kind was drawn already
(`is_newer`), so an answer that was overtaken is never drawn over a newer one.

All jobs run on this one thread, so the objects they use (open files, an
overview pyramid) are only ever touched by it: no locks are needed around them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class LatestOnlyWorker(QObject):
    """Runs jobs on one thread; per slot only the most recent waiting job survives."""

    answered = Signal(str, int, object)  # slot, request number, result
    failed = Signal(str, int, object)  # slot, request number, exception

    def __init__(
        self, slots: Sequence[str], name: str = "browser", parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.slots = tuple(slots)
        self.name = name
        self.dropped = dict.fromkeys(self.slots, 0)
        self.served = dict.fromkeys(self.slots, 0)
        self._waiting: dict[str, tuple[int, Callable[[], Any]]] = {}
        self._numbers = dict.fromkeys(self.slots, 0)
        self._shown = dict.fromkeys(self.slots, 0)
        self._wake = threading.Condition()
        self._closing = False
        self._busy = False
        self._final: Callable[[], Any] | None = None
        self._thread = threading.Thread(target=self._loop, name=f"samplelab-{name}", daemon=True)
        self._thread.start()

    # --- GUI thread -------------------------------------------------------------------
    def request(self, slot: str, job: Callable[[], Any]) -> int:
        """Queue `job` in `slot`, replacing a job still waiting there; returns its number."""
        if slot not in self._numbers:
            raise KeyError(f"unknown slot {slot!r}; slots: {', '.join(self.slots)}")
        with self._wake:
            if self._closing:
                return -1
            self._numbers[slot] += 1
            number = self._numbers[slot]
            if slot in self._waiting:
                self.dropped[slot] += 1
            self._waiting[slot] = (number, job)
            self._wake.notify()
        return number

    def discard(self, *slots: str) -> None:
        """Forget jobs still waiting in these slots (e.g. views of a file just closed)."""
        with self._wake:
            for slot in slots:
                if self._waiting.pop(slot, None) is not None:
                    self.dropped[slot] += 1

    def latest(self, slot: str) -> int:
        """Number of the newest request made in `slot`."""
        return self._numbers[slot]

    def is_newer(self, slot: str, number: int) -> bool:
        """True (once) if `number` is newer than the last answer shown from `slot`."""
        if number <= self._shown[slot]:
            return False
        self._shown[slot] = number
        return True

    def pending(self, slot: str | None = None) -> bool:
        """A job waits (in `slot`, or anywhere) or runs now."""
        with self._wake:
            if slot is not None:
                return slot in self._waiting
            return bool(self._waiting) or self._busy

    def close(self, final: Callable[[], Any] | None = None, timeout_s: float = 10.0) -> bool:
        """Drop waiting jobs, run `final` (e.g. close files) on the thread, and end it."""
        with self._wake:
            self._waiting.clear()
            self._closing = True
            self._final = final
            self._wake.notify()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # --- worker thread ----------------------------------------------------------------
    def _next(self) -> tuple[str, int, Callable[[], Any]] | None:
        with self._wake:
            while not self._waiting and not self._closing:
                self._wake.wait()
            if self._closing:
                return None
            slot = next(s for s in self.slots if s in self._waiting)
            number, job = self._waiting.pop(slot)
            self._busy = True
            return slot, number, job

    def _loop(self) -> None:
        while True:
            task = self._next()
            if task is None:
                break
            slot, number, job = task
            try:
                result = job()
            except Exception as exc:  # reported to the GUI; the thread keeps serving
                self._emit(self.failed, slot, number, exc)
            else:
                self._emit(self.answered, slot, number, result)
            finally:
                with self._wake:
                    self._busy = False
                    self.served[slot] += 1
        final = self._final
        if final is not None:
            try:
                final()
            except Exception:
                log.exception("%s worker: cleanup failed", self.name)

    def _emit(self, signal: Any, slot: str, number: int, value: Any) -> None:
        # RuntimeError: the QObject was deleted while the job ran (window closed)
        with contextlib.suppress(RuntimeError):
            signal.emit(slot, number, value)
