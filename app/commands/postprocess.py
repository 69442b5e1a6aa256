"""`samplelab postprocess`: a recording or bspysmg folder -> the peer's dataset files."""

from __future__ import annotations

import argparse

from app.commands.common import EXIT_INTERRUPTED, EXIT_OK, StageBar, fail, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "postprocess",
        help="clip a recording and write postprocessed_data.npz and friends",
        description="Write postprocessed_data.npz, charging_signal.npz, reference_batch.npz, "
        "output_distribution.png (as brainspy-smg's post_process) and postprocessed_data.h5.",
    )
    p.add_argument("source", help="a recording (.h5) or a bspysmg folder (IO.dat + config)")
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
        nargs="+",
        default=[],
        metavar="SOURCE",
        help="more recordings of the same setup to combine with SOURCE (rows appended in order)",
    )
    p.add_argument(
        "--out",
        help="output folder (default: a sampling folder itself; <stem>_postprocessed beside "
        "a recording)",
    )
    p.add_argument("--no-figure", action="store_true", help="skip output_distribution.png")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.electrodes import parse_clip
    from backend.errors import Cancelled
    from backend.postprocess import postprocess

    clip = parse_clip(args.clip)
    try:
        with StageBar(args.quiet) as bar:
            result = postprocess(
                [args.source, *args.merge],
                args.out,
                clip=clip,
                charging_batches=args.charging_batches,
                reference_batches=args.reference_batches,
                figure=not args.no_figure,
                on_progress=bar.update,
            )
    except Cancelled:
        return fail("cancelled; nothing was written", EXIT_INTERRUPTED)
    print(format_summary(result.summary, sorted(p.name for p in result.files.values())))
    print(result.out_dir)
    return EXIT_OK


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def format_summary(s: dict, files: list[str]) -> str:
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
