"""`samplelab iv`: I-V curves of every activation electrode, on the simulated device or NI."""

from __future__ import annotations

import argparse
import sys

from app.commands.common import EXIT_INTERRUPTED, EXIT_OK, StageBar, fail
from app.commands.devicecli import add_device_arguments, device_from_args, terminate_as_interrupt


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "iv",
        help="measure I-V curves: each electrode swept in turn, the others at 0 V",
        description="Sweep each activation electrode over its voltage range (0 V, one end, "
        "the other end, 0 V), all others at 0 V, and write iv_curves.npz, iv_curves.h5 and "
        "iv_curves.png into --out.",
    )
    p.add_argument(
        "config",
        help="our YAML, a bspysmg sampler_configs.json (or its folder), or a bspysmg I-V "
        "config (devices, shape, input_signal, driver)",
    )
    add_device_arguments(p)
    p.add_argument("--points", type=int, help="points per sweep, even (default: config or 200)")
    p.add_argument("--direction", choices=["up", "down"], help="up: to the top of the range first")
    p.add_argument("--shape", choices=["sawtooth", "sine"], help="sweep shape (default sawtooth)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.characterise.iv import measure_iv
    from backend.characterise.ivconfig import load_iv_setup
    from backend.characterise.ivfiles import IV_NPZ, write_iv
    from backend.errors import Cancelled

    setup = load_iv_setup(args.config)
    settings = setup.settings.with_overrides(args.points, args.direction, args.shape)
    device = device_from_args(args, setup.config)
    n = setup.config.n_inputs
    print(
        f"sweeping {n} electrodes x {settings.points} points ({settings.shape}, "
        f"{'up' if settings.up else 'down'}) on the {args.device} device",
        file=sys.stderr,
    )
    try:
        with terminate_as_interrupt(), StageBar(args.quiet, unit="sweep") as bar:
            curves = measure_iv(device, settings, progress=bar.update)
    except Cancelled:
        return fail("cancelled; outputs at 0 V, nothing was written", EXIT_INTERRUPTED)
    files = write_iv(curves, args.out, setup.config)
    print(format_iv(curves), file=sys.stderr)
    print(files[IV_NPZ])
    return EXIT_OK


def format_iv(curves) -> str:
    """One line per electrode: its range and the current span of each output."""
    lines = []
    for k, name in enumerate(curves.activation_channels):
        lo, hi = curves.voltage_ranges[k]
        spans = ", ".join(
            f"{curves.currents[k, :, j].min():.4g} .. {curves.currents[k, :, j].max():.4g} nA"
            for j in range(curves.currents.shape[2])
        )
        lines.append(f"  IV{k + 1} {name:<14} [{lo:g}, {hi:g}] V  ->  {spans}")
    return "\n".join(lines)
