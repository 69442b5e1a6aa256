"""`samplelab devices`: the NI-DAQmx devices, modules and channels of this PC."""

from __future__ import annotations

import argparse
import json

from app.commands.common import EXIT_FAILED, EXIT_OK, fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list NI-DAQmx devices, channels and voltage ranges")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from backend.devices.discovery import ni_inventory

    inventory = ni_inventory()
    if args.json:
        print(json.dumps(inventory.to_dict(), indent=2))
    if not inventory.driver_available:
        return fail(inventory.message, EXIT_FAILED)
    if not args.json:
        print(format_inventory(inventory))
    return EXIT_OK


def _ranges(ranges) -> str:
    return ", ".join(f"[{lo:g}, {hi:g}]" for lo, hi in ranges) + " V" if ranges else "-"


def format_inventory(inventory) -> str:
    """The inventory as readable text: one block per device, channels compacted."""
    from backend.devices.discovery import compact_channels

    lines = [inventory.message]
    if not inventory.devices:
        return "\n".join(lines)
    width = max(len(d.name) for d in inventory.devices)
    pad = " " * (width + 2)
    for d in inventory.devices:
        where = f"  in {d.chassis} slot {d.slot}" if d.chassis else ""
        simulated = "  (simulated)" if d.simulated else ""
        category = d.category.replace("_", " ").lower()
        lines.append(f"{d.name:<{width}}  {d.product_type}  {category}{where}{simulated}")
        if d.modules:
            lines.append(f"{pad}modules: {', '.join(d.modules)}")
        for kind, channels, ranges in (
            ("AO", d.ao_channels, d.ao_voltage_ranges),
            ("AI", d.ai_channels, d.ai_voltage_ranges),
        ):
            if channels:
                lines.append(
                    f"{pad}{kind} {len(channels):>2}: {compact_channels(channels)}"
                    f"  ranges {_ranges(ranges)}"
                )
    return "\n".join(lines)
