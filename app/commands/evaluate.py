"""`samplelab evaluate`: score a trained surrogate on any dataset or recording."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.commands.common import EXIT_OK, StageBar


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="RMSE (nA) of a trained model on a dataset or recording, with a plot",
        description="Predict every row of DATASET with MODEL (a training_data.pt, ours or "
        "brainspy-smg's) and print the RMSE in nA per output; writes evaluate_<name>.png "
        "(predicted vs measured, error histogram) and evaluate_<name>.json into --out.",
    )
    p.add_argument("model", help="training_data.pt")
    p.add_argument("datasets", nargs="+", metavar="DATASET", help="data to score it on")
    p.add_argument("--out", default=".", help="folder for the plot and JSON (default: here)")
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="read pickled content (bspysmg npz configs, model files with Python objects); "
        "only for files you trust",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.models.evaluate import evaluate_model

    with StageBar(args.quiet or args.json) as bar:
        result = evaluate_model(
            args.model, args.datasets, args.out, trust_pickle=args.trust_pickle, progress=bar.update
        )
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return EXIT_OK
    for j, value in enumerate(result.rmse_nA):
        name = f"output {j}" if len(result.rmse_nA) > 1 else "RMSE"
        print(f"{name}: {value:.6g} nA over {result.rows:,} rows")
    if result.outside_ranges:
        print(
            f"note: {100 * result.outside_ranges:.1f} % of the rows have an input outside the "
            "voltage ranges the model was trained on",
            file=sys.stderr,
        )
    print(result.files["figure"])
    return EXIT_OK


def model_text(path: str, trust_pickle: bool = False, as_json: bool = False) -> str | None:
    """`samplelab info` for a trained surrogate; None when `path` is not one."""
    from backend.models.checkfile import is_checkpoint_file

    if not is_checkpoint_file(path):
        return None
    from backend.models.checkpoint import describe_checkpoint  # torch: only for a model

    facts = describe_checkpoint(path, trust_pickle)
    if as_json:
        return json.dumps(facts, indent=2)
    return format_model(facts)


def format_model(f: dict[str, Any]) -> str:
    s = f["structure"]
    hidden = ", ".join(str(h) for h in s["hidden_sizes"])
    rmse = f["test_rmse_nA"]
    lines = [
        f"model       {f['path']}",
        f"kind        surrogate model (training_data.pt, written by {f['written_by']})",
        f"sha256      {f['sha256']}",
        f"network     {s['D_in']} -> [{hidden}] -> {s['D_out']}, {s['activation']}"
        + (", batch norm" if s["batch_norm"] else "")
        + f" ({f['parameters']:,} parameters)",
        f"best epoch  {f['best_epoch']} ({f['epochs_recorded']} epochs recorded)",
        "test RMSE   " + (", ".join(f"{v:.6g}" for v in rmse) + " nA" if rmse else "not stored"),
        f"amplif.     {f['amplification']}",
        f"seed        {f['seed']}",
        f"data        {f['data_name'] or '?'}: {', '.join(f['datasets'] or []) or '?'}",
    ]
    if f["voltage_ranges"]:
        ranges = ", ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in f["voltage_ranges"])
        lines.append(f"ranges (V)  {ranges}")
    return "\n".join(lines)
