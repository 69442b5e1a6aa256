"""`samplelab info`: summarise any data file the data layer can open."""

from __future__ import annotations

import argparse
import json

from app.commands.common import EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="summarise a recording or any data file",
        description="Summarise a samplelab recording, or any file the data layer opens "
        "(HDF5, .mat, .npy/.npz, bspysmg folders, raw + sidecar, csv, .pt, pickle/joblib): "
        "kind, shape, dtype, channels, rate, per-channel min/max (read in chunks).",
    )
    p.add_argument("file", help="file or bspysmg sampling folder")
    p.add_argument("--key", help="dataset/variable/member to describe in a multi-array file")
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow unpickling (pickle/joblib files, bspysmg npz configs); only for "
        "files you trust",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.data.kinds import describe_file

    key = getattr(args, "key", None)
    if key is None:  # a trained surrogate (training_data.pt) has its own summary
        from app.commands.evaluate import model_text

        text = model_text(args.file, getattr(args, "trust_pickle", False), args.json)
        if text is not None:
            print(text)
            return EXIT_OK
    facts = describe_file(args.file, key=key, trust_pickle=getattr(args, "trust_pickle", False))
    if args.json:
        print(json.dumps(facts, indent=2))
        return EXIT_OK
    if facts.get("kind") == "recording":
        print(format_recording(facts))
    else:
        print(format_facts(facts))
    return EXIT_OK


def _channel_lines(channels: list[dict]) -> list[str]:
    if not channels:
        return ["  (none)"]
    width = max(len(c["name"]) for c in channels)
    unit_width = max(2, *(len(c.get("units") or "") for c in channels))
    lines = []
    for c in channels:
        lo = "-" if c.get("min") is None else f"{c['min']:.6g}"
        hi = "-" if c.get("max") is None else f"{c['max']:.6g}"
        unit = c.get("units") or ""
        lines.append(f"  {c['name']:<{width}}  [{unit:>{unit_width}}]  min {lo:>12}  max {hi:>12}")
    return lines


def format_recording(s: dict) -> str:
    """A recording summary as readable text."""
    cfg = s["config"]["input_data"]
    model = s["device"].get("model") or {}  # a digital twin: the trained file it ran
    lines = [
        f"recording   {s['path']}",
        f"format      {s['format']}",
        f"status      {s['status']}" + (f" ({s['message']})" if s.get("message") else ""),
        f"device      {s['device'].get('name', s['device'].get('kind', '?'))}",
        *(
            [f"model       {model['source']} (sha256 {str(model.get('sha256'))[:16]}...)"]
            if model.get("source")
            else []
        ),
        f"seed        {s['seed']}",
        f"batches     {s['batches_done']} of {s['batches_planned']} "
        f"({s['batch_points']} rows each)",
        f"rows        {s['rows']}  ({s['duration_s']:.2f} s at {s['sampling_frequency_hz']:g} Hz)",
        f"waves       {cfg['input_distribution']}, frequencies {cfg['input_frequency']}",
    ]
    from backend.recording.runnotes import NOTE_LABELS

    notes = s.get("notes") or {}
    for key in [*NOTE_LABELS, *(k for k in notes if k not in NOTE_LABELS)]:
        first, *more = str(notes.get(key) or "").splitlines() or [""]
        if first or more:
            lines.append(f"{'sample' if key == 'sample_id' else key:<11} {first}")
            lines += [f"{'':<11} {line}" for line in more]
    lines.append("channels")
    return "\n".join(lines + _channel_lines(s["channels"]))


def format_facts(s: dict) -> str:
    """Facts about any other data file as readable text."""
    fs = s.get("sampling_frequency_hz")
    rate = f"{fs:g} Hz ({s['duration_s']:.6g} s)" if fs else "unknown"
    lines = [
        f"file        {s['path']}",
        f"kind        {s['kind']}" + (f" (key {s['key']})" if s.get("key") is not None else ""),
        f"shape       {s['shape'][0]} rows x {s['shape'][1]} channels",
        f"dtype       {s['dtype']}",
        f"rate        {rate}",
    ]
    lines += [f"note        {n}" for n in s.get("notes", [])]
    lines.append("channels")
    return "\n".join(lines + _channel_lines(s["channels"]))
