"""Command-line options that pick the device a characterisation drives (`iv`, `consistency`)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from app.commands.common import StopSignals


def add_device_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", choices=["simulated", "nidaq"], default="simulated")
    p.add_argument(
        "--model",
        metavar="PT|mlp|analytic",
        help="simulated device: a trained surrogate (training_data.pt, read with "
        "weights_only=True) or a built-in model (default mlp)",
    )
    p.add_argument(
        "--noise",
        type=float,
        metavar="NA",
        help="simulated device: readout noise in nA (default 0 with a surrogate, else 0.5)",
    )
    p.add_argument(
        "--drift",
        type=float,
        metavar="NA",
        help="simulated device: slow baseline wander in nA (default 0 with a surrogate, else 2)",
    )
    p.add_argument(
        "--shift",
        type=float,
        default=0.0,
        metavar="NA",
        help="simulated device: add NA nA to every current, as a device that changed since "
        "it was sampled (demos and tests of the consistency verdict)",
    )
    p.add_argument("--seed", type=int, default=0, help="simulated device: noise seed")
    p.add_argument(
        "--realtime", action="store_true", help="simulated device: take as long as hardware"
    )


def device_from_args(args: argparse.Namespace, config: Any) -> Any:
    """The (closed) device the options describe, for `config`."""
    from backend.characterise.device import characterisation_device

    return characterisation_device(
        args.device,
        config,
        model=args.model,
        noise_nA=args.noise,
        drift_nA=args.drift,
        shift_nA=args.shift,
        seed=args.seed,
        realtime=args.realtime,
    )


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (and SIGHUP) end a job like Ctrl+C: through its finally blocks, so the
    outputs go to 0 V; a second signal cannot cut that safe stop short (StopSignals)."""
    with StopSignals():
        yield
