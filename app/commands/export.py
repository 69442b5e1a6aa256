"""`samplelab export`: write a recording (or folder, or npz dataset) for other tools."""

from __future__ import annotations

import argparse

from app.commands.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, StageBar, fail

FORMATS = ("iodat", "npz", "csv", "hdf5", "histograms-png", "waveform-png")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a recording for other tools",
        description="iodat: a bspysmg sampling folder (IO.dat + sampler_configs.json); "
        "npz: all rows with bspysmg's keys; csv: a table with names and units; "
        "hdf5: plain HDF5 (inputs, outputs, config JSON); histograms-png / waveform-png: "
        "figures for reports.",
    )
    p.add_argument("recording", help="a recording (.h5), a bspysmg folder or an .npz dataset")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--out", required=True, help="output file (a folder for iodat)")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow reading the pickled config of a bspysmg .npz (only for files you trust: "
        "a pickle can run code)",
    )
    p.add_argument("--batch", type=int, help="waveform-png: which batch to draw (default 0)")
    p.add_argument("--rows", help="waveform-png: a row range START:STOP instead of a batch")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _row_range(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    start, _, stop = text.partition(":")
    return int(start or 0), int(stop)


def run(args: argparse.Namespace) -> int:
    from backend.errors import Cancelled
    from backend.export.exporters import export

    try:
        rows = _row_range(args.rows)
    except ValueError:
        return fail(f"--rows {args.rows!r} is not START:STOP", EXIT_USAGE)
    try:
        with StageBar(args.quiet) as bar:
            out = export(
                args.recording,
                args.format,
                args.out,
                overwrite=args.overwrite,
                trust_pickle=args.trust_pickle,
                batch=args.batch,
                rows=rows,
                progress=bar.update,
            )
    except Cancelled:
        return fail("cancelled; nothing was written", EXIT_INTERRUPTED)
    print(out)
    return EXIT_OK
