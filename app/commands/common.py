"""What every command shares: exit codes and the one-line error."""

from __future__ import annotations

import argparse
import sys

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
