"""`samplelab presets`: the configs shipped with samplelab, usable by name as `sample PRESET`."""

from __future__ import annotations

import argparse
import difflib
import json
from pathlib import Path

from app.commands.common import EXIT_OK
from backend.errors import SamplelabError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "presets",
        help="list the shipped config presets (usable by name: sample PRESET)",
        description="List the config presets shipped with samplelab. `samplelab sample NAME` "
        "and `samplelab gui NAME` accept a preset's name in place of a config file.",
    )
    p.add_argument("--json", action="store_true", help="print JSON (name, path, summary)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import resources

    presets = [
        {"name": name, "path": str(path), "summary": resources.preset_summary(path)}
        for name, path in resources.preset_paths().items()
    ]
    if args.json:
        print(json.dumps(presets, indent=2))
        return EXIT_OK
    width = max((len(p["name"]) for p in presets), default=0)
    for p in presets:
        print(f"{p['name']:<{width}}  {p['summary']}")
    return EXIT_OK


def config_argument(text: str) -> Path:
    """A CONFIG argument as a path: the file or folder given, else the preset of that name."""
    import resources

    path = Path(text)
    if path.exists():
        return path
    presets = resources.preset_paths()
    if text in presets:
        return presets[text]
    close = difflib.get_close_matches(text, list(presets), n=1)
    guess = f"Did you mean the preset {close[0]}? " if close else ""
    raise SamplelabError(
        f"file not found: {text}",
        f"{guess}Give a config file (our YAML, or a brainspy-smg sampler_configs.json or its "
        f"folder) or a preset name ({', '.join(presets)}; `samplelab presets` describes them).",
    )
