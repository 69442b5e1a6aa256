"""`samplelab info`: summarise a recording."""

from __future__ import annotations

import argparse
import json

from app.commands.common import EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="summarise a recording")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.recording import Recording

    with Recording(args.file) as rec:
        summary = rec.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return EXIT_OK
    print(format_summary(summary))
    return EXIT_OK


def format_summary(s: dict) -> str:
    """A recording summary as readable text."""
    cfg = s["config"]["input_data"]
    lines = [
        f"recording   {s['path']}",
        f"format      {s['format']}",
        f"status      {s['status']}" + (f" ({s['message']})" if s.get("message") else ""),
        f"device      {s['device'].get('name', s['device'].get('kind', '?'))}",
        f"seed        {s['seed']}",
        f"batches     {s['batches_done']} of {s['batches_planned']} "
        f"({s['batch_points']} rows each)",
        f"rows        {s['rows']}  ({s['duration_s']:.2f} s at {s['sampling_frequency_hz']:g} Hz)",
        f"waves       {cfg['input_distribution']}, frequencies {cfg['input_frequency']}",
        "channels",
    ]
    width = max(len(c["name"]) for c in s["channels"])
    for c in s["channels"]:
        lo = "-" if c["min"] is None else f"{c['min']:.6g}"
        hi = "-" if c["max"] is None else f"{c['max']:.6g}"
        lines.append(f"  {c['name']:<{width}}  [{c['units']:>2}]  min {lo:>12}  max {hi:>12}")
    return "\n".join(lines)
