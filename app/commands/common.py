"""What every command shares: exit codes, the one-line error, the progress bar."""

from __future__ import annotations

import _thread
import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.commands.winconsole import ConsoleClose

if TYPE_CHECKING:
    from backend.jobs import JobProgress

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """Print `samplelab: error: ...` to stderr and return the exit code."""
    print(f"samplelab: error: {message}", file=sys.stderr)
    return code


#: What a terminal, a service manager or a closed window sends to stop a command
#: (SIGBREAK: Ctrl+Break in a Windows console; SIGHUP: a closed terminal on Linux).
STOP_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
    if hasattr(signal, name)
)


class StopSignals:
    """Ctrl+C, SIGTERM and SIGHUP for a command that opens a device or a recording.

    Enter it before anything is opened. Until `hold()` the first signal stops the
    command at once (KeyboardInterrupt: nothing is open yet). From `hold()` on it
    never interrupts a step: it calls `on_stop` (a session's `cancel`, so the stop
    comes between batches, at 0 V, with the recording closed), or waits for it if
    there is none yet. Any later signal only says the safe stop is under way, so a
    second Ctrl+C cannot cut short closing the device and the recording, nor kill
    the process while it reports how the session ended.

    On Windows, closing the console (or logging off, shutting down) counts as
    SIGTERM, and the process lives on until the safe stop is done or Windows'
    5 s are nearly up (`winconsole`).
    """

    def __init__(self) -> None:
        self.requested: int | None = None
        self._holding = False
        self._on_stop: Callable[[], None] | None = None
        self._previous: dict[int, Any] = {}
        self._console = ConsoleClose(self._console_closed)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
            self._console.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for sig, handler in self._previous.items():
            # Ending on a stop: later signals are ignored until the process exits.
            # (SIG_IGN, because Python resets its own handlers to the default
            # action while shutting down, and a late SIGINT would then kill it.)
            signal.signal(sig, signal.SIG_IGN if self.requested is not None else handler)
        self._previous.clear()
        self._console.__exit__(*exc_info)  # the safe stop is done: Windows may end us now

    def hold(self) -> None:
        """From now on, signals ask for a safe stop instead of raising."""
        self._holding = True

    def stop_with(self, on_stop: Callable[[], None]) -> None:
        """Call `on_stop` for the first signal; now, if one came already."""
        self._on_stop = on_stop
        if self.requested is not None:
            on_stop()

    def _console_closed(self) -> None:
        """On Windows' thread: SIGTERM's handler, run on the main thread as for a signal."""
        _thread.interrupt_main(signal.SIGTERM)

    def _handle(self, signum: int, frame: Any) -> None:
        # os.write, not print: the signal may land inside a write to stderr.
        if self.requested is not None:
            _say("already stopping safely: outputs to 0 V, closing the device and the files")
            return
        self.requested = signum
        if not self._holding:
            raise KeyboardInterrupt
        _say("stopping after the current batch; outputs go to 0 V")
        if self._on_stop is not None:
            self._on_stop()


def _say(text: str) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.write(sys.stderr.fileno(), f"\nsamplelab: {text}\n".encode())


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


class StageBar:
    """A tqdm bar on stderr for a job's `on_progress`: made at the first report, reset per stage.

    Use as `with StageBar(quiet) as bar: job(..., on_progress=bar.update)`.
    """

    def __init__(self, quiet: bool, unit: str = "row") -> None:
        self.quiet = quiet
        self.unit = unit
        self._bar = None
        self._stage = ""

    def update(self, progress: JobProgress) -> None:
        if self.quiet:
            return
        if progress.stage != self._stage:
            from tqdm import tqdm

            self.close()  # a bar per stage: each counts its own unit
            self._stage = progress.stage
            unit = progress.unit or self.unit
            self._bar = tqdm(
                total=progress.total,
                desc=progress.stage,
                unit=unit,
                unit_scale=unit in ("row", "B"),
                file=sys.stderr,
                dynamic_ncols=True,
            )
        self._bar.n = progress.done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> StageBar:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class JobBar:
    """A tqdm bar on stderr over whole jobs (`progress` of `backend.fanout.run_jobs`)."""

    def __init__(self, quiet: bool, total: int) -> None:
        self._bar = None
        if not quiet:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="job", file=sys.stderr, dynamic_ncols=True)

    def update(self, progress: Any) -> None:
        if self._bar is not None:
            self._bar.n = progress.done
            self._bar.refresh()

    def __enter__(self) -> JobBar:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._bar is not None:
            self._bar.close()
