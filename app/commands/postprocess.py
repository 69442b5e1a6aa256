"""`samplelab postprocess`: a recording or bspysmg folder -> the peer's dataset files."""

from __future__ import annotations

import argparse
from typing import Any

from app.commands.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    JobBar,
    StageBar,
    fail,
    positive_int,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "postprocess",
        help="clip a recording and write postprocessed_data.npz and friends",
        description="Write postprocessed_data.npz, charging_signal.npz, reference_batch.npz, "
        "output_distribution.png (as brainspy-smg's post_process) and postprocessed_data.h5.",
    )
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="recordings (.h5) or bspysmg folders (IO.dat + config); several are processed "
        "each on its own, into its own output folder",
    )
    p.add_argument(
        "--clip",
        default="default",
        metavar="default|none|LO,HI",
        help="drop rows whose mean output is not inside (LO, HI) nA; default: "
        "+-4 V x amplification; none: keep every row",
    )
    p.add_argument("--charging-batches", type=positive_int, default=40, metavar="N")
    p.add_argument("--reference-batches", type=positive_int, default=15, metavar="N")
    p.add_argument(
        "--merge",
        nargs="*",
        default=None,
        metavar="SOURCE",
        help="merge the SOURCEs (and any given here) into one dataset, rows appended in "
        "order; the sources must share their setup",
    )
    p.add_argument(
        "--out",
        help="output folder (default: a sampling folder itself; <stem>_postprocessed beside "
        "a recording); with several sources, the folder that receives one folder per source",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the jobs on this Dask distributed scheduler (tcp://HOST:8786); every "
        "worker must see the sources and --out under the same paths",
    )
    where.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="run the jobs on a local Dask cluster of N worker processes",
    )
    p.add_argument("--no-figure", action="store_true", help="skip output_distribution.png")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.postprocess.electrodes import parse_clip

    clip = parse_clip(args.clip)
    fan_out = args.scheduler is not None or args.workers is not None
    if args.merge is None and (len(args.sources) > 1 or fan_out):
        return _run_each(args, clip)
    return _run_merged([*args.sources, *(args.merge or [])], args, clip)


def _run_merged(sources: list[str], args: argparse.Namespace, clip: Any) -> int:
    """One dataset from one source, or from several merged: here, with a progress bar."""
    from backend.errors import Cancelled, SamplelabError
    from backend.postprocess.job import postprocess

    if args.scheduler is not None or args.workers is not None:
        raise SamplelabError(
            "--merge makes one job; --scheduler/--workers spread several",
            "Drop --scheduler/--workers, or drop --merge to process each source on its own.",
        )
    try:
        with StageBar(args.quiet) as bar:
            result = postprocess(
                sources,
                args.out,
                clip=clip,
                charging_batches=args.charging_batches,
                reference_batches=args.reference_batches,
                figure=not args.no_figure,
                progress=bar.update,
            )
    except Cancelled:
        return fail("cancelled; nothing was written", EXIT_INTERRUPTED)
    print(format_postprocess(result.summary, sorted(p.name for p in result.files.values())))
    print(result.out_dir)
    return EXIT_OK


def _run_each(args: argparse.Namespace, clip: Any) -> int:
    """Each source into its own folder, here or on Dask; a table of outcomes at the end."""
    from backend.postprocess.many import PostprocessOptions, output_folders, postprocess_each

    if args.workers is not None or args.scheduler is not None:
        from backend.fanout.cluster import require_distributed

        require_distributed()
    if len(args.sources) == 1 and args.out is not None:
        outs = [args.out]
    else:
        outs = output_folders(args.sources, args.out)
    options = PostprocessOptions(
        clip=clip,
        charging_batches=args.charging_batches,
        reference_batches=args.reference_batches,
        figure=not args.no_figure,
    )
    with JobBar(args.quiet, len(args.sources)) as bar:
        outcomes = postprocess_each(
            args.sources,
            outs,
            options,
            scheduler=args.scheduler,
            workers=args.workers,
            progress=bar.update,
        )
    print(outcome_table(outcomes))
    failed = [o for o in outcomes if not o.ok]
    for o in outcomes:
        if o.ok:
            print(o.result["out_dir"])
    if failed:
        return fail(f"{len(failed)} of {len(outcomes)} sources failed (see the table above)")
    return EXIT_OK


def outcome_table(outcomes: list) -> str:
    """Source, rows, kept, output and status of each job, as an aligned text table."""
    rows = [("source", "rows", "kept", "output", "status")]
    for o in outcomes:
        r = o.result or {}
        rows.append(
            (
                o.label,
                f"{r['rows_in']:,}" if r else "-",
                f"{r['rows_kept']:,}" if r else "-",
                r.get("out_dir", "-"),
                f"ok ({o.seconds:.1f} s)" if o.ok else f"{o.status}: {o.error}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in rows
    )


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def format_postprocess(s: dict, files: list[str]) -> str:
    """The postprocessing summary as readable text."""
    clip = s["clipping_value"]
    info = s["electrode_info"]
    act, out = info["activation_electrodes"], info["output_electrodes"]
    ranges = act["voltage_ranges"]["__ndarray__"]
    lines = [f"source      {src}" for src in s["sources"]]
    if s.get("note"):
        lines.append(f"note        {s['note']}")
    lines += [
        f"rows        {s['rows_in']} in ({s['batches']} batches of {s['batch_points']}), "
        f"{s['rows_kept']} kept, {s['rows_dropped']} dropped "
        f"({s['percent_dropped']:.2f} % clipped)",
        "clipping    "
        + ("none" if clip is None else f"[{_num(clip[0])}, {_num(clip[1])}] nA (row mean)"),
        "outputs     (raw min .. max; kept min .. max)",
    ]
    for o in s["outputs"]:
        lines.append(
            f"  {o['name']:<10} [nA]  {_num(o['min']):>11} .. {_num(o['max']):<11}"
            f"  kept {_num(o['kept_min'])} .. {_num(o['kept_max'])}"
        )
    lines.append("inputs      (raw min .. max; electrode voltage range)")
    for i, (name, rng) in enumerate(zip((c["name"] for c in s["inputs"]), ranges)):
        c = s["inputs"][i]
        lines.append(
            f"  {name:<10} [V]   {_num(c['min']):>11} .. {_num(c['max']):<11}"
            f"  range [{rng[0]:.6g}, {rng[1]:.6g}]"
        )
    lines += [
        f"electrodes  {info['electrode_no']}: {act['electrode_no']} activation, "
        f"{out['electrode_no']} output (amplification {out['amplification']})",
    ]
    for key, label in (("charging_signal", "charging"), ("reference_batch", "reference")):
        t = s[key]
        lines.append(
            f"{label:<11} last {t['batches']} batches, {t['rows']} rows ({t['seconds']:g} s)"
        )
    lines.append(f"wrote       {', '.join(files)}")
    return "\n".join(lines)
