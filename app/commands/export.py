"""`samplelab export`: write a recording in formats other tools read."""

from __future__ import annotations

import argparse

from app.commands.common import EXIT_OK, EXIT_USAGE, fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a recording for other tools")
    p.add_argument("recording")
    p.add_argument("--format", choices=["iodat"], required=True)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.formats.bspysmg import export_bspysmg_folder

    if args.format == "iodat":
        out = export_bspysmg_folder(args.recording, args.out, overwrite=args.overwrite)
        print(out)
        return EXIT_OK
    return fail(f"unknown export format {args.format!r}", EXIT_USAGE)
