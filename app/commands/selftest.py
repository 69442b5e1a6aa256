"""`samplelab selftest`: a short, safe acceptance run of a device before a long session."""

from __future__ import annotations

import argparse
import json
import sys

from app.commands.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, fail, positive_int

DEFAULT_PRESET = "dnpu-7x1-sawtooth"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "selftest",
        help="a short, safe acceptance run of the device (0 V and small test waves only)",
        description="Sample the config's wiring, rates and ramps with small in-range test "
        "waves, then check routes, sample clocks, sync detection, read timing and 0 V at the "
        "end. Saves the recording and a JSON report; exits 1 if a check fails.",
    )
    p.add_argument("config", nargs="?", help=f"the lab's config (default: {DEFAULT_PRESET})")
    p.add_argument("--device", choices=["nidaq", "simulated"], default="nidaq")
    p.add_argument("--out", default="selftest", help="folder for the recording (default: selftest)")
    # Defaults live in backend.sampling.selftest (imported only when the command runs).
    p.add_argument("--batches", type=positive_int, help="batches to run (default 50, >= 3)")
    p.add_argument(
        "--amplitude",
        type=float,
        help="half-span of the test waves in V (default 0.1, at most 0.5); always kept "
        "inside each electrode's range",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the test waves' phases")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    import resources
    from backend.config import load_config
    from backend.sampling.selftest import DEFAULT_BATCHES, report_path, run_selftest

    config = load_config(args.config or resources.preset_path(DEFAULT_PRESET))
    options = {"batches": args.batches, "amplitude_v": args.amplitude}
    options = {k: v for k, v in options.items() if v is not None}
    batches = options.get("batches", DEFAULT_BATCHES)
    bar = tqdm(total=batches, unit="batch", file=sys.stderr, disable=args.quiet)

    def progress(p) -> None:
        bar.update(p.done - bar.n)

    print(f"self-test of the {args.device} device: {batches} batches", file=sys.stderr)
    try:
        report = run_selftest(
            config, args.device, out_dir=args.out, seed=args.seed, progress=progress, **options
        )
    except KeyboardInterrupt:
        return fail("self-test interrupted; outputs at 0 V", EXIT_INTERRUPTED)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        width = max(len(c.name) for c in report.checks)
        for check in report.checks:
            print(f"{check.status.upper():<4}  {check.name:<{width}}  {check.detail}")
        print(f"self-test {'PASSED' if report.passed else 'FAILED'}")
    if report.recording:
        print(f"report: {report_path(report.recording)}", file=sys.stderr)
        print(report.recording)
    return EXIT_OK if report.passed else EXIT_FAILED
