"""What every command shares: exit codes, the one-line error, the progress bar."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """Print `samplelab: error: ...` to stderr and return the exit code."""
    print(f"samplelab: error: {message}", file=sys.stderr)
    return code


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

    def update(self, progress: Any) -> None:
        if self.quiet:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                unit=self.unit, unit_scale=self.unit == "row", file=sys.stderr, dynamic_ncols=True
            )
        if progress.stage != self._stage:
            self._stage = progress.stage
            self._bar.reset(total=progress.total)
            self._bar.set_description(progress.stage)
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
