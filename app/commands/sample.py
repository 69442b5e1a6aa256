"""`samplelab sample`: run a sampling session into an HDF5 recording."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.commands.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    StopSignals,
    fail,
    positive_int,
)
from app.commands.presets import config_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="run a sampling session into an HDF5 recording")
    p.add_argument(
        "config",
        nargs="?",
        help="our YAML config, a bspysmg sampler_configs.json, or a preset name "
        "(samplelab presets lists them)",
    )
    p.add_argument("--device", choices=["simulated", "nidaq"], default="simulated")
    p.add_argument("--out", help="output folder (default: the config's save_directory)")
    p.add_argument("--batches", type=positive_int, help="override number_batches")
    p.add_argument("--seed", type=int, help="seed for phases and simulated noise")
    pacing = p.add_mutually_exclusive_group()
    pacing.add_argument(
        "--fast", action="store_true", help="simulate as fast as possible (default)"
    )
    pacing.add_argument(
        "--realtime", action="store_true", help="pace batches to their real duration"
    )
    p.add_argument("--resume", metavar="RECORDING", help="continue an interrupted recording")
    p.add_argument("--model", help="simulated device model: mlp, analytic or a surrogate .pt")
    p.add_argument("--sample-id", default="", help="sample / device ID, stored in the recording")
    p.add_argument("--operator", default="", help="who runs the session, stored in the recording")
    p.add_argument("--notes", default="", help="free-text notes, stored in the recording")
    p.add_argument("--fault", help=argparse.SUPPRESS)  # fault injection for tests and demos
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Signal handlers first: a SIGTERM must never find a device or a recording open
    # without them, nor cut short the safe stop (see StopSignals).
    with StopSignals() as signals:
        return _run(args, signals)


def _run(args: argparse.Namespace, signals: StopSignals) -> int:
    from tqdm import tqdm

    from backend.config import load_config, parse_config
    from backend.devices.simulated import FaultPlan
    from backend.recording.reader import Recording
    from backend.recording.runnotes import run_notes
    from backend.sampling.session import resume_session, start_session

    options: dict[str, Any] = {}
    if args.device == "simulated":
        options["realtime"] = bool(args.realtime)
        if args.model:
            options["model"] = args.model
        if args.fault:
            try:
                options["faults"] = FaultPlan.parse(args.fault)
            except ValueError as exc:
                return fail(str(exc), EXIT_USAGE)
    if args.resume:
        if args.config:
            with Recording(args.resume) as rec:
                stored = rec.config
            given = load_config(config_argument(args.config))
            if given.to_bspysmg() != stored.to_bspysmg():
                return fail(
                    f"{args.config} differs from the config stored in {args.resume}; "
                    "resume without CONFIG to use the stored one",
                    EXIT_USAGE,
                )
        signals.hold()
        session = resume_session(args.resume, args.device, **options)
    else:
        if not args.config:
            return fail("give a CONFIG file, or --resume RECORDING", EXIT_USAGE)
        source = config_argument(args.config)
        config = load_config(source)
        if args.batches is not None:  # checked like the file's own value (session size)
            data = config.to_bspysmg()
            data["input_data"]["number_batches"] = args.batches
            config = parse_config(data, f"{source} with --batches {args.batches}")
        notes = run_notes(args.sample_id, args.operator, args.notes)
        signals.hold()
        session = start_session(
            config, args.device, out_dir=args.out, seed=args.seed, notes=notes, **options
        )
    signals.stop_with(session.cancel)

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
        bar.set_postfix_str(f"rows={p.rows:,}", refresh=False)  # not tqdm's 1e+4

    session.on_progress = on_progress
    try:
        result = session.run()
    finally:
        bar.close()
    return _report(result, len(plan))


def _report(result: Any, planned: int) -> int:
    """How the session ended, on stderr; the recording's path last on stdout."""
    from backend.errors import DiskFullError

    summary = f"{result.batches_done} of {planned} batches, {result.rows} rows"
    resume = f"samplelab sample --resume {result.path}"
    if result.status == "complete":
        print(f"done: {summary} in {result.elapsed:.1f} s", file=sys.stderr)
        code = EXIT_OK
    elif result.status == "cancelled":
        print(f"stopped: {summary} kept; outputs at 0 V. Resume with: {resume}", file=sys.stderr)
        code = EXIT_INTERRUPTED
    elif isinstance(result.error, DiskFullError):
        print(
            f"samplelab: error: {result.error.message}; outputs at 0 V. "
            f"Free some space, then resume with: {resume}",
            file=sys.stderr,
        )
        code = EXIT_FAILED
    else:
        print(f"samplelab: error: {result.error}", file=sys.stderr)
        print(f"outputs at 0 V; {summary} kept. Resume with: {resume}", file=sys.stderr)
        code = EXIT_FAILED
    print(result.path)
    return code
