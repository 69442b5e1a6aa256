"""`samplelab dataset`: train/validation/test npz files for surrogate training."""

from __future__ import annotations

import argparse

from app.commands.common import EXIT_OK, EXIT_USAGE, StageBar, fail, positive_int


def _split(text: str) -> list[float]:
    try:
        return [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dataset",
        help="export recordings as train/validation/test npz files",
        description="Split recordings (samplelab .h5, bspysmg folders or postprocessed npz) "
        "into train/validation/test npz files with keys inputs/outputs/sampling_configs, "
        "as bspysmg's training code loads them. Rows are streamed: memory stays bounded.",
    )
    p.add_argument("sources", nargs="+", help="recordings, bspysmg folders or npz files")
    p.add_argument(
        "--split",
        type=_split,
        default=[0.8, 0.1, 0.1],
        help="fractions for train[,validation[,test]] adding up to 1 (default 0.8,0.1,0.1)",
    )
    p.add_argument(
        "--blocks",
        action="store_true",
        help="split in time blocks instead of at random, so neighbouring samples are not "
        "on both sides (contiguous pieces unless --block-rows is given)",
    )
    p.add_argument(
        "--block-rows",
        type=positive_int,
        help="with --blocks: blocks of this many rows dealt out at random",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random split (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="read the pickled config of bspysmg npz sources (only for files you trust)",
    )
    p.add_argument(
        "--mix-clipping",
        action="store_true",
        help="allow sources that went through different clipping (e.g. a clipped npz and a "
        "raw recording) in one dataset",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.datasets.export import export_dataset

    if args.block_rows and not args.blocks:
        return fail("--block-rows needs --blocks", EXIT_USAGE)
    with StageBar(args.quiet) as bar:
        written = export_dataset(
            args.sources,
            args.out,
            args.split,
            blocks=args.blocks,
            block_rows=args.block_rows,
            seed=args.seed,
            trust_pickle=args.trust_pickle,
            overwrite=args.overwrite,
            mix_clipping=args.mix_clipping,
            progress=bar.update,
        )
    for name, path in written.items():
        print(f"{name:<10}  {path}")
    print(args.out)
    return EXIT_OK
