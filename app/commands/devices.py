"""`samplelab devices`: the NI-DAQmx devices of this PC, or the exact plan for a config."""

from __future__ import annotations

import argparse
import json

from app.commands.common import EXIT_FAILED, EXIT_OK, fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "devices",
        help="list NI-DAQmx devices, channels and voltage ranges, or --plan a config",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--plan",
        metavar="CONFIG",
        help="print the exact NI-DAQmx plan for CONFIG (tasks, channels, ranges, rates, "
        "counts, trigger routes, sync, timeouts); drives nothing",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.plan:
        return run_plan(args)
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


def run_plan(args: argparse.Namespace) -> int:
    """Print what a session of CONFIG would send; exit 1 if the driver finds a problem."""
    from backend.config import load_config
    from backend.devices.ni_tasks import checked_plan

    plan, probe = checked_plan(load_config(args.plan))
    if args.json:
        print(json.dumps({"plan": plan.to_dict(), "driver": probe.to_dict()}, indent=2))
    else:
        print(format_plan(args.plan, plan, probe))
    return EXIT_FAILED if probe.problems else EXIT_OK


def _rate(requested: int, actual: float | None) -> str:
    if actual is None:
        return f"{requested} Hz requested (not checked: no driver)"
    same = "as configured" if abs(actual - requested) <= 1e-9 * requested else "DIFFERS"
    return f"{requested} Hz requested, {actual:.9g} Hz from NI-DAQmx ({same})"


def format_plan(source: str, plan, probe) -> str:
    """The plan as a lab engineer reads it, channel by channel."""
    lines = [f"NI-DAQmx plan for {source} ({plan.instrument_type}); nothing is driven"]
    if probe.driver_version:
        lines.append(f"driver: NI-DAQmx {probe.driver_version}")
    else:
        lines.append(f"driver: {probe.message}; rates and routes are not checked")
    for title, task, actual in (
        ("activation", plan.activation, probe.ao_rate_hz),
        ("readout", plan.readout, probe.ai_rate_hz),
    ):
        terminal = f", terminal config {task.terminal_config}" if task.terminal_config else ""
        lines.append(
            f"{title} task ({task.kind}, finite): {len(task.channels)} channels{terminal}, "
            f"{_rate(task.rate_hz, actual)}, {task.samples_per_channel} samples per channel, "
            f"{task.start}"
        )
        width = max(len(c.name) for c in task.channels)
        for c in task.channels:
            lines.append(f"  {c.name:<{width}}  {c.role:<9}  [{c.min_v:g}, {c.max_v:g}] V")
    ramped = plan.batch_points + 2 * plan.ramp_points
    lines.append(
        f"batch: {plan.ramp_points} ramp + {plan.batch_points} + {plan.ramp_points} ramp = "
        f"{ramped} activation points"
        + (f", after {plan.lead_points} lead-in zeros" if plan.lead_points else "")
        + f"; {plan.io_points} readout points averaged per activation point"
        + (f", the first {plan.dropped_first} dropped" if plan.dropped_first else "")
    )
    if plan.sync_channels:
        out, into = plan.sync_channels
        lines.append(
            f"sync: {out} -> {into}, one 1 V spike at activation point {plan.lead_points}; "
            f"the readout is cut at its rising edge in the raw samples; up to "
            f"{plan.sync_attempts} attempts per batch"
        )
    if plan.activation.trigger:
        known = {True: "listed by NI-DAQmx", False: "NOT listed by NI-DAQmx", None: "unchecked"}
        lines.append(
            f"trigger: the AO task starts on {plan.activation.trigger} "
            f"({known[probe.trigger_known]}); the route is made when the tasks are committed"
        )
    lines.append(f"timeout: {plan.timeout_s:.3g} s for each write, read and wait")
    masked = [c.name for c in plan.zero_channels if c.role == "masked"]
    lines.append(
        f"0 V on pause, stop, error and exit: {len(plan.zero_channels)} AO channels"
        + (f" (masked, never sampled: {', '.join(masked)})" if masked else "")
    )
    lines += [f"note: {n}" for n in plan.notes]
    lines += [f"problem: {p}" for p in probe.problems]
    return "\n".join(lines)
