"""How the Recordings view lays out a file's channels: plots per unit, colours, readout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from widgets.channelplot import PlotGroup

MAX_GROUPS = 4
_Y_LABELS = {"V": "Voltage", "mV": "Voltage", "nA": "Current", "uA": "Current", "A": "Current"}


def unit_groups(names: list[str], units: list[str]) -> list[PlotGroup]:
    """One plot per unit (first seen first); beyond MAX_GROUPS units, one 'Other' plot."""
    order: list[str] = []
    for unit in units:
        if unit not in order:
            order.append(unit)
    keep, rest = order[: MAX_GROUPS - 1], order[MAX_GROUPS - 1 :]
    if len(rest) == 1:
        keep, rest = order, []
    groups = []
    for unit in keep:
        members = tuple(i for i, u in enumerate(units) if u == unit)
        label = _Y_LABELS.get(unit, "Value")
        groups.append(PlotGroup(_title(names, members), label, unit, members))
    if rest:
        members = tuple(i for i, u in enumerate(units) if u in rest)
        groups.append(PlotGroup("Other channels", "Value", "", members))
    return groups


def _title(names: list[str], members: tuple[int, ...]) -> str:
    picked = [names[i] for i in members]
    for word, title in (("Input", "Inputs"), ("Output", "Outputs")):
        if all(n.startswith(word) for n in picked):
            return title
    return f"{len(picked)} channel{'s' * (len(picked) != 1)}"


def lane_colours(units: Sequence[str], curves: Sequence[str], outputs: Sequence[str]) -> list[str]:
    """Inputs in the curve colours, outputs (nA) in the output colours."""
    out, k_in, k_out = [], 0, 0
    for unit in units:
        if unit == "nA":
            out.append(outputs[k_out % len(outputs)])
            k_out += 1
        else:
            out.append(curves[k_in % len(curves)])
            k_in += 1
    return out


def readout_parts(info: Any, row: int, values: Any, x: float, shown: list[bool]) -> list[str]:
    """The cursor readout: where (time or sample, and row), then each shown channel's value."""
    where = f"t = {x:.6g} s" if info.fs else f"sample {row:,}"
    parts = [f"{where} (row {row:,})"]
    for i, (name, unit) in enumerate(zip(info.names, info.units)):
        if shown[i]:
            parts.append(f"{name} = {values[i]:.6g} {unit}".rstrip())
    return parts
