"""The `samplelab` command: the GUI without arguments, jobs as subcommands.

User errors end as one message on stderr and a non-zero exit code, never a
traceback. The last line of stdout of a job that writes something is the path
it wrote, so scripts can chain commands.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from app.commands import COMMANDS
from app.commands.common import EXIT_FAILED, EXIT_INTERRUPTED, fail
from app.commands.presets import config_argument
from backend import __version__
from backend.errors import SamplelabError, from_os_error


def _run_gui(args: argparse.Namespace) -> int:
    try:
        from app.main import run_gui
    except ImportError as exc:
        return fail(f"the desktop application is not available here ({exc})")
    config = getattr(args, "config", None)
    return run_gui(str(config_argument(config)) if config else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samplelab",
        description="Sample DNPU devices, postprocess recordings and export datasets. "
        "Without a command, opens the desktop application.",
    )
    parser.add_argument("--version", action="version", version=f"samplelab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    p = sub.add_parser("gui", help="open the desktop application")
    p.add_argument("config", nargs="?", help="config file or preset name to load at start")
    p.set_defaults(func=_run_gui)
    return parser


def survive_any_console() -> None:
    """Print what the console cannot show as escapes instead of failing on it.

    A Windows console or pipe in cp1252 cannot encode a path like 'Ω-runs'; strict
    encoding would raise after the work is done. Escaped text keeps every fact.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    survive_any_console()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", _run_gui)
    try:
        return func(args)
    except SamplelabError as exc:
        return fail(str(exc))
    except BrokenPipeError as exc:
        if exc.filename is not None:  # a named file or device, not our output stream
            return fail(str(from_os_error(exc)).replace("\n", ". "))
        _stdout_to_devnull()
        return EXIT_FAILED  # the reader of our output left (`| head`): nothing to say, to no one
    except OSError as exc:  # disk full, permissions, a drive gone: not a bug of ours
        return fail(str(from_os_error(exc)).replace("\n", ". "))
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)


def _stdout_to_devnull() -> None:
    """Point stdout at devnull, so the interpreter's last flush cannot print a second error."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
