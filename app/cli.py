"""The `samplelab` command: the GUI without arguments, jobs as subcommands.

User errors end as one message on stderr and a non-zero exit code, never a
traceback. The last line of stdout of a job that writes something is the path
it wrote, so scripts can chain commands.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from backend import __version__
from backend.errors import SamplelabError

log = logging.getLogger("samplelab")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"samplelab: error: {message}", file=sys.stderr)
    return code


# --- sample ---------------------------------------------------------------------
def _cmd_sample(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from backend.config import load_config
    from backend.devices.simulated import FaultPlan
    from backend.recording import Recording
    from backend.sampling import resume_session, start_session

    options: dict[str, Any] = {}
    if args.device == "simulated":
        options["realtime"] = bool(args.realtime)
        if args.model:
            options["model"] = args.model
        if args.fault:
            try:
                options["faults"] = FaultPlan.parse(args.fault)
            except ValueError as exc:
                return _fail(str(exc), EXIT_USAGE)
    if args.resume:
        if args.config:
            with Recording(args.resume) as rec:
                stored = rec.config
            given = load_config(args.config)
            if given.to_bspysmg() != stored.to_bspysmg():
                return _fail(
                    f"{args.config} differs from the config stored in {args.resume}; "
                    "resume without CONFIG to use the stored one",
                    EXIT_USAGE,
                )
        session = resume_session(args.resume, args.device, **options)
    else:
        if not args.config:
            return _fail("give a CONFIG file, or --resume RECORDING", EXIT_USAGE)
        config = load_config(args.config)
        if args.batches is not None:
            config = config.model_copy(deep=True)
            config.input_data.number_batches = args.batches
        session = start_session(
            config, args.device, out_dir=args.out, seed=args.seed, **options
        )

    plan = session.plan
    print(
        f"sampling {len(plan)} batches x {plan.batch_points} rows on the {args.device} device "
        f"(seed {plan.seed}) into {session.writer.path}",
        file=sys.stderr,
    )
    bar = tqdm(
        total=len(plan),
        initial=session.writer.batches_done,
        unit="batch",
        file=sys.stderr,
        disable=args.quiet,
        dynamic_ncols=True,
    )

    def on_progress(p) -> None:
        bar.update(p.batch - bar.n)
        bar.set_postfix(rows=p.rows, refresh=False)

    session.on_progress = on_progress
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        result = session.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.close()
    summary = f"{result.batches_done} of {len(plan)} batches, {result.rows} rows"
    if result.status == "complete":
        print(f"done: {summary} in {result.elapsed:.1f} s", file=sys.stderr)
        code = EXIT_OK
    elif result.status == "cancelled":
        print(f"stopped: {summary} kept; outputs at 0 V. Resume with --resume.", file=sys.stderr)
        code = EXIT_INTERRUPTED
    else:
        print(f"samplelab: error: {result.error}", file=sys.stderr)
        print(f"outputs at 0 V; {summary} kept. Resume with --resume.", file=sys.stderr)
        code = EXIT_FAILED
    print(result.path)
    return code


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


# --- info -------------------------------------------------------------------------
def _cmd_info(args: argparse.Namespace) -> int:
    from backend.recording import Recording

    with Recording(args.file) as rec:
        summary = rec.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return EXIT_OK
    print(format_summary(summary))
    return EXIT_OK


def format_summary(s: dict) -> str:
    """A recording summary as readable text."""
    cfg = s["config"]["input_data"]
    lines = [
        f"recording   {s['path']}",
        f"format      {s['format']}",
        f"status      {s['status']}" + (f" ({s['message']})" if s.get("message") else ""),
        f"device      {s['device'].get('name', s['device'].get('kind', '?'))}",
        f"seed        {s['seed']}",
        f"batches     {s['batches_done']} of {s['batches_planned']} "
        f"({s['batch_points']} rows each)",
        f"rows        {s['rows']}  ({s['duration_s']:.2f} s at {s['sampling_frequency_hz']:g} Hz)",
        f"waves       {cfg['input_distribution']}, frequencies {cfg['input_frequency']}",
        "channels",
    ]
    width = max(len(c["name"]) for c in s["channels"])
    for c in s["channels"]:
        lo = "-" if c["min"] is None else f"{c['min']:.6g}"
        hi = "-" if c["max"] is None else f"{c['max']:.6g}"
        lines.append(f"  {c['name']:<{width}}  [{c['units']:>2}]  min {lo:>12}  max {hi:>12}")
    return "\n".join(lines)


# --- export -----------------------------------------------------------------------
def _cmd_export(args: argparse.Namespace) -> int:
    from backend.formats.bspysmg import export_bspysmg_folder

    if args.format == "iodat":
        out = export_bspysmg_folder(args.recording, args.out, overwrite=args.overwrite)
        print(out)
        return EXIT_OK
    return _fail(f"unknown export format {args.format!r}", EXIT_USAGE)


# --- gui ----------------------------------------------------------------------------
def _cmd_gui(args: argparse.Namespace) -> int:
    try:
        from app.main import run_gui
    except ImportError as exc:
        return _fail(f"the desktop application is not available here ({exc})")
    return run_gui(getattr(args, "config", None))


# --- parser -------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samplelab",
        description="Sample DNPU devices, postprocess recordings and export datasets. "
        "Without a command, opens the desktop application.",
    )
    parser.add_argument("--version", action="version", version=f"samplelab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("sample", help="run a sampling session into an HDF5 recording")
    p.add_argument("config", nargs="?", help="our YAML config or a bspysmg sampler_configs.json")
    p.add_argument("--device", choices=["simulated", "nidaq"], default="simulated")
    p.add_argument("--out", help="output folder (default: the config's save_directory)")
    p.add_argument("--batches", type=_positive_int, help="override number_batches")
    p.add_argument("--seed", type=int, help="seed for phases and simulated noise")
    pacing = p.add_mutually_exclusive_group()
    pacing.add_argument("--fast", action="store_true", help="simulate as fast as possible (default)")
    pacing.add_argument("--realtime", action="store_true", help="pace batches to their real duration")
    p.add_argument("--resume", metavar="RECORDING", help="continue an interrupted recording")
    p.add_argument("--model", help="simulated device model: mlp, analytic or a surrogate .pt")
    p.add_argument("--fault", help=argparse.SUPPRESS)  # fault injection for tests and demos
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("info", help="summarise a recording")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("export", help="export a recording for other tools")
    p.add_argument("recording")
    p.add_argument("--format", choices=["iodat"], required=True)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("gui", help="open the desktop application")
    p.add_argument("config", nargs="?", help="config to load at start")
    p.set_defaults(func=_cmd_gui)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", _cmd_gui)
    try:
        return func(args)
    except SamplelabError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
