"""How the Recordings view shows a file's channels: plots per unit, colours, curves, readout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.pages.recordings.data import boundary_rows, flagged_points
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


def curves_of(window: Any, info: Any) -> tuple[dict, dict, np.ndarray | None]:
    """What a window of a file draws: each channel's line, its saturated points and the
    batch boundaries, in axis units (seconds when the file has a rate, else samples)."""
    fs = info.fs if info is not None else None

    def x_of(rows: np.ndarray) -> np.ndarray:
        return rows / fs if fs else rows

    env = window.envelope
    lines, flags = {}, {}
    limits = info.limits if info is not None else []
    for channel in range(env.mins.shape[1] if env.mins.ndim == 2 else 0):
        x, y = env.line(channel)
        lines[channel] = (x_of(x), y)
        if channel < len(limits) and limits[channel] is not None:
            fx, fy = flagged_points(env, channel, limits[channel])
            flags[channel] = (x_of(fx), fy)
    marks = None
    if info is not None:
        rows = boundary_rows(window.start, window.stop, info.batch_rows, info.rows)
        marks = x_of(rows.astype(float))
    return lines, flags, marks


class CursorReadout(QLabel):
    """The values under the cursor: where (time or sample, and row), each shown channel's."""

    def __init__(self) -> None:
        super().__init__(" ")
        self.setObjectName("cursor_readout")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWordWrap(True)  # many channels wrap; they never widen the window

    def clear(self) -> None:
        self.setText(" ")
        self.setToolTip("")

    def show_values(self, info: Any, row: int, values: Any, x: float, shown: list[bool]) -> None:
        if values is None:
            self.setText(f"row {row:,}: outside the data")
            return
        where = f"t = {x:.6g} s" if info.fs else f"sample {row:,}"
        parts = [f"{where} (row {row:,})"]
        for i, (name, unit) in enumerate(zip(info.names, info.units)):
            if shown[i]:
                parts.append(f"{name} = {values[i]:.6g} {unit}".rstrip())
        self.setText("   ".join(parts))
        self.setToolTip("\n".join(parts))
