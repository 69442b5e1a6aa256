"""`samplelab consistency`: does the device still answer its stored reference signal?"""

from __future__ import annotations

import argparse
import sys

from app.commands.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    StageBar,
    fail,
    positive_int,
)
from app.commands.devicecli import add_device_arguments, device_from_args, terminate_as_interrupt

#: Exit code when the check ran and the device drifted (scripts can tell it from an error).
EXIT_DRIFTED = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "consistency",
        help="replay the stored charging and reference signals and judge the device",
        description="Charge the device with charging_signal.npz, replay reference_batch.npz "
        "N times, and write consistency_results.npz (results, deviations, correlation, "
        "deviation_chargeup), consistency_verdict.json and plots into --out. Exit code 0: "
        f"consistent; {EXIT_DRIFTED}: drifted.",
    )
    p.add_argument(
        "folder", help="a postprocessed folder (reference_batch.npz, charging_signal.npz)"
    )
    add_device_arguments(p)
    p.add_argument("--repetitions", type=positive_int, default=1, metavar="N")
    p.add_argument("--no-charge", action="store_true", help="skip the charging signal")
    p.add_argument(
        "--max-rmse", type=float, default=5.0, metavar="NA", help="largest RMSE accepted (nA)"
    )
    p.add_argument(
        "--min-correlation", type=float, default=0.95, metavar="R", help="lowest correlation"
    )
    p.add_argument(
        "--compare-model",
        metavar="PT",
        help="also compare with this surrogate's prediction (as the peer's model=)",
    )
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="read the config pickled in reference_batch.npz when the folder has no "
        "sampler_configs.json (only for files you trust)",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.characterise.checkfiles import RESULTS_NPZ, write_consistency
    from backend.characterise.consistency import Limits, check_consistency, load_stored_signals
    from backend.devices.models import SurrogateModel
    from backend.errors import Cancelled

    limits = Limits(args.max_rmse, args.min_correlation)
    signals = load_stored_signals(args.folder, trust_pickle=args.trust_pickle)
    model = None
    if args.compare_model:
        model = SurrogateModel.load(args.compare_model, list(signals.config.driver.amplification))
    device = device_from_args(args, signals.config)
    print(
        f"checking {signals.folder}: {signals.batches('charging')} charging and "
        f"{signals.batches('reference')} reference batches x {args.repetitions} on the "
        f"{args.device} device",
        file=sys.stderr,
    )
    try:
        with terminate_as_interrupt(), StageBar(args.quiet, unit="batch") as bar:
            result = check_consistency(
                device,
                signals,
                args.repetitions,
                charge=not args.no_charge,
                limits=limits,
                model=model,
                progress=bar.update,
            )
    except Cancelled:
        return fail("cancelled; outputs at 0 V, nothing was written", EXIT_INTERRUPTED)
    files = write_consistency(result, args.out, str(signals.folder))
    for r, (d, c) in enumerate(zip(result.deviations, result.correlation)):
        print(f"  repetition {r + 1}: RMSE {d:.4g} nA, correlation {c:.4f}", file=sys.stderr)
    if len(result.deviation_chargeup):
        values = ", ".join(f"{d:.3g}" for d in result.deviation_chargeup)
        print(f"  charge-up RMSE per batch: {values} nA", file=sys.stderr)
    print(f"verdict: {result.verdict.text()}", file=sys.stderr)
    print(files[RESULTS_NPZ])
    return EXIT_OK if result.verdict.consistent else EXIT_DRIFTED


__all__ = ["EXIT_DRIFTED", "EXIT_FAILED", "register", "run"]
