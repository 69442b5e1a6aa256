"""`samplelab train`: train a surrogate model of the device on sampled data."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from app.commands.common import EXIT_INTERRUPTED, EXIT_OK, fail, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a surrogate model (training_data.pt) on sampled data",
        description="Train brainspy-smg's surrogate network on a postprocessed npz (ours or "
        "the peer's; one is split, two or three are train/validation/test), a recording, a "
        "sampling folder or a dataset export folder. Writes training_data.pt (loadable with "
        "torch.load(weights_only=True) and by brains-py), the peer's figures and "
        "training_summary.json into --out. Ctrl+C stops and keeps the best checkpoint.",
    )
    p.add_argument("datasets", nargs="*", metavar="DATASET", help="data to train on")
    p.add_argument("--config", help="brainspy-smg training config (smg_configs_template.yaml)")
    p.add_argument("--out", required=True, help="folder for the results")
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--lr", type=float, help="learning rate (default 1e-3)")
    p.add_argument("--hidden", help="hidden layer sizes, e.g. 90,90,90,90,90 or 90x5")
    p.add_argument("--activation", choices=["relu", "elu", "tanh", "hard-tanh", "sigmoid"])
    p.add_argument("--batch-norm", action="store_true", default=None, help="batch norm layers")
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--split", help="train,validation,test fractions (default 0.8,0.1,0.1)")
    p.add_argument("--steps", type=positive_int, help="keep every N-th row (the peer's steps)")
    p.add_argument("--seed", type=int, help="seed (default: the config's, else a fresh one)")
    p.add_argument("--patience", type=positive_int, help="stop after N epochs without progress")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=positive_int, help="CPU threads for torch (default 1)")
    p.add_argument("--overwrite", action="store_true", help="replace results already in --out")
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="read pickled configs of bspysmg npz files (only for files you trust)",
    )
    p.add_argument(
        "--sweep",
        metavar="SWEEP.yaml",
        help="train one run per combination (grid) or draw (random) of the values in this "
        "file; runs go to OUT/runs/, the best one's files to OUT/ (docs/distributed.md)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the sweep's runs on this Dask scheduler"
    )
    where.add_argument(
        "--workers", type=positive_int, metavar="N", help="run the sweep on N local processes"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> tuple[Any, list[str]]:
    """The run's settings: the config file's (if any), then each option given on top."""
    from backend.errors import SamplelabError
    from backend.models.settings import (
        TrainingSettings,
        parse_hidden,
        parse_split,
        read_peer_config,
    )

    settings, paths = TrainingSettings(), []
    if args.config:
        settings, config_paths = read_peer_config(args.config)
        paths = [str(p) for p in config_paths]
    settings = settings.replace(
        epochs=args.epochs,
        learning_rate=args.lr,
        hidden=parse_hidden(args.hidden) if args.hidden else None,
        activation=args.activation,
        batch_norm=args.batch_norm,
        batch_size=args.batch_size,
        split=parse_split(args.split) if args.split else None,
        steps=args.steps,
        seed=args.seed,
        patience=args.patience,
        device=args.device,
        threads=args.threads,
    )
    datasets = list(args.datasets) or paths
    if not datasets:
        raise SamplelabError(
            "no dataset to train on", "Name one (or train, validation, test), or use --config."
        )
    return settings.check(), datasets


class EpochBar:
    """A tqdm bar on stderr: rows while reading, then epochs with losses and ETA."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.stage = ""

    def update(self, p: Any) -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        if p.stage != self.stage:
            self.close()
            self.stage = p.stage
            training = p.stage == "training"
            self.bar = tqdm(
                total=p.epochs if training else p.total,
                desc="epochs" if training else p.stage,
                unit="epoch" if training else (p.unit or "row"),
                unit_scale=not training,
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format=(
                    "{desc} {n:.1f}/{total} |{bar}| [{elapsed}<{remaining}]{postfix}"
                    if training
                    else None
                ),
            )
        if p.stage == "training":
            self.bar.n = p.done / max(1, p.total) * p.epochs
            post = {}
            if p.train_nA:
                post["train"] = f"{p.train_nA[-1]:.4g} nA"
            if p.val_nA:
                post["val"] = f"{p.val_nA[-1]:.4g} nA"
            if p.best_epoch is not None:
                post["best"] = p.best_epoch
            self.bar.set_postfix(post, refresh=False)
        else:
            self.bar.n = p.done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args: argparse.Namespace) -> int:
    from backend.errors import Cancelled, SamplelabError
    from backend.jobs import CancelToken
    from backend.models.training import TrainingCancelled, train_surrogate

    settings, datasets = settings_from_args(args)
    if args.sweep is not None:
        return run_sweep(args, settings, datasets)
    if args.scheduler is not None or args.workers is not None:
        raise SamplelabError(
            "--scheduler/--workers spread the runs of a sweep",
            "Add --sweep SWEEP.yaml, or drop them to train one model here.",
        )
    token = CancelToken()
    bar = EpochBar(args.quiet)

    def stop(signum: int, frame: Any) -> None:
        if token.cancelled:  # a second Ctrl+C: stop at once
            raise KeyboardInterrupt
        token.cancel()
        print("\nstopping after this step; the best checkpoint is kept…", file=sys.stderr)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = train_surrogate(
            datasets,
            args.out,
            settings,
            trust_pickle=args.trust_pickle,
            overwrite=args.overwrite,
            progress=bar.update,
            cancel=token,
        )
        code = EXIT_OK
    except TrainingCancelled as stopped:
        result, code = stopped.result, EXIT_INTERRUPTED
    except Cancelled:
        bar.close()
        return fail("stopped before the first epoch ended; nothing was written", EXIT_INTERRUPTED)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        bar.close()
    print(report(result), file=sys.stderr)
    print(result.checkpoint)
    return code


def report(result: Any) -> str:
    """What a finished (or stopped) run achieved, in a few lines."""
    epochs = len(result.train_nA)
    how = {
        "complete": "done",
        "early_stopped": "stopped early (no better validation)",
        "cancelled": "stopped",
    }[result.status]
    lines = [f"{how}: {epochs} epochs, best epoch {result.best_epoch}, seed {result.seed}"]
    for name, score in result.scores.items():
        values = ", ".join(f"{v:.6g}" for v in score.rmse_nA)
        lines.append(f"  {name:<10} RMSE {values} nA ({score.rows:,} rows)")
    lines.append(f"results in {result.out_dir}")
    return "\n".join(lines)


def run_sweep(args: argparse.Namespace, settings: Any, datasets: list[str]) -> int:
    """Every run of the sweep (here or on Dask), a table best first, the best run in --out."""
    from app.commands.common import JobBar
    from backend.models.sweep import read_sweep, train_sweep

    sweep = read_sweep(args.sweep)
    if args.scheduler is not None or args.workers is not None:
        from backend.fanout.cluster import require_distributed

        require_distributed()
    with JobBar(args.quiet, len(sweep.runs)) as bar:
        result = train_sweep(
            datasets,
            sweep,
            args.out,
            settings,
            trust_pickle=args.trust_pickle,
            scheduler=args.scheduler,
            workers=args.workers,
            progress=bar.update,
        )
    print(sweep_table(result.rows), file=sys.stderr)
    if result.best is None:
        return fail("no run of the sweep finished (see the table above)")
    print(
        f"best: {result.best['run']} (validation RMSE {result.best['val_rmse_nA']:.6g} nA)",
        file=sys.stderr,
    )
    print(result.files["training_data.pt"])
    failed = result.failed
    if failed:
        return fail(f"{len(failed)} of {len(result.rows)} runs failed (see the table above)")
    return EXIT_OK


def sweep_table(rows: list[dict]) -> str:
    """The runs best first: name, the swept values, validation and test RMSE, status."""
    fixed = {"run", "status", "error", "out_dir", "best_epoch", "epochs_run", "seconds"}
    scores = {"val_rmse_nA", "test_rmse_nA", "train_rmse_nA"}
    varied = [k for k in (rows[0] if rows else {}) if k not in fixed | scores]
    header = ["run", *varied, "val RMSE nA", "test RMSE nA", "status"]
    lines = [header]
    for r in rows:
        status = r["status"] if r["status"] != "failed" else f"failed: {r['error']}"
        lines.append(
            [
                r["run"],
                *(str(r[k]).replace(" ", "") for k in varied),
                _nA(r["val_rmse_nA"]),
                _nA(r["test_rmse_nA"]),
                status,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line[:-1], widths)) + "  " + line[-1] for line in lines
    )


def _nA(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
