"""Cross-field checks of a sampling configuration: what depends on several fields.

Pydantic (`backend.config.schema`) checks each value alone; these checks compare
them: one wave value per electrode, whole numbers of points per batch and ramp,
the wiring against the electrode counts, each electrode's range against the
global limit and against its wave. Each problem names the field that must
change and why, so the form can show it there.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from backend.config.limits import GLOBAL_VOLTAGE_LIMIT, size_problems
from backend.config.wiring import sync_channel_problems
from backend.errors import Problem

if TYPE_CHECKING:
    from backend.config.schema import InstrumentsSetup, SamplingConfig


def _is_whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-6


def consistency_problems(cfg: SamplingConfig) -> list[Problem]:
    """Cross-field checks, each naming the field that must change and why."""
    out: list[Problem] = []
    ind, drv = cfg.input_data, cfg.driver
    setup = drv.instruments_setup
    n_in, n_out = ind.activation_electrode_no, ind.readout_electrode_no
    fs = setup.activation_sampling_frequency

    for key in ("input_frequency", "phase", "amplitude", "offset"):
        values = getattr(ind, key)
        if values is not None and len(values) != n_in:
            out.append(
                Problem(
                    f"input_data.{key}",
                    f"has {len(values)} values but activation_electrode_no is {n_in}; "
                    "give one per activation electrode",
                )
            )
    if any(f <= 0 for f in ind.input_frequency):
        out.append(Problem("input_data.input_frequency", "every frequency must be > 0"))
    if (ind.amplitude is None) != (ind.offset is None):
        missing = "offset" if ind.offset is None else "amplitude"
        out.append(Problem(f"input_data.{missing}", "give both amplitude and offset, or neither"))
    if setup.readout_sampling_frequency % fs:
        out.append(
            Problem(
                "driver.instruments_setup.readout_sampling_frequency",
                f"{setup.readout_sampling_frequency} Hz is not an integer multiple of "
                f"activation_sampling_frequency ({fs} Hz)",
            )
        )
    if not setup.average_io_point_difference:
        out.append(
            Problem(
                "driver.instruments_setup.average_io_point_difference",
                "must be true: readout points are averaged per activation point",
            )
        )
    for key, minimum in (("batch_time", 1), ("ramp_time", 2)):
        points = getattr(ind, key) * fs
        if not _is_whole(points):
            out.append(
                Problem(
                    f"input_data.{key}",
                    f"{getattr(ind, key)} s x {fs} Hz = {points:g} points, not an integer; "
                    f"choose a multiple of {1 / fs:g} s",
                )
            )
        elif round(points) < minimum:
            out.append(
                Problem(f"input_data.{key}", f"must span at least {minimum} points at {fs} Hz")
            )

    wiring = _wiring_problems(setup, n_in, n_out)
    out += wiring + sync_channel_problems(setup, drv.instrument_type)
    if len(drv.amplification) != n_out:
        out.append(
            Problem(
                "driver.amplification",
                f"has {len(drv.amplification)} values but readout_electrode_no is {n_out}",
            )
        )
    if any(a == 0 or not math.isfinite(a) for a in drv.amplification):
        out.append(Problem("driver.amplification", "every amplification must be finite and != 0"))
    if not wiring:  # each electrode's range is known: check the waves against it
        out += _wave_range_problems(cfg)
    if not any(p.path in ("input_data.batch_time", "input_data.ramp_time") for p in out):
        points = (cfg.batch_points, cfg.ramp_points)
        out += size_problems(points, n_in, n_out, cfg.io_point_difference, ind.number_batches)
    return out


def _wiring_problems(setup: InstrumentsSetup, n_in: int, n_out: int) -> list[Problem]:
    out: list[Problem] = []
    base = "driver.instruments_setup"
    if setup.multiple_devices and not setup.devices:
        return [Problem(base, "multiple_devices is true but no device block is given")]
    missing = setup.missing_wiring()
    if missing:
        return [Problem(f"{base}.{k}", "is required") for k in missing]
    active = readouts = 0
    for name, block in setup.blocks().items():
        where = base if not setup.multiple_devices else f"{base}.{name}"
        n_ch = len(block.activation_channels)
        if len(block.activation_voltage_ranges) != n_ch:
            out.append(
                Problem(
                    f"{where}.activation_voltage_ranges",
                    f"has {len(block.activation_voltage_ranges)} ranges for {n_ch} channels",
                )
            )
        mask = block.activation_channel_mask
        if mask is not None and len(mask) != n_ch:
            out.append(
                Problem(
                    f"{where}.activation_channel_mask",
                    f"has {len(mask)} entries for {n_ch} channels",
                )
            )
        if mask is not None and any(m not in (0, 1) for m in mask):
            out.append(Problem(f"{where}.activation_channel_mask", "entries must be 0 or 1"))
        for i, (lo, hi) in enumerate(block.activation_voltage_ranges):
            field = f"{where}.activation_voltage_ranges[{i}]"
            if not lo < hi:
                out.append(Problem(field, f"[{lo}, {hi}]: the minimum must be below the maximum"))
            elif not lo <= 0.0 <= hi:
                out.append(
                    Problem(
                        field,
                        f"[{lo}, {hi}] V does not contain 0 V; every batch ramps from and to "
                        "0 V, so the range must include it",
                    )
                )
            elif lo < -GLOBAL_VOLTAGE_LIMIT or hi > GLOBAL_VOLTAGE_LIMIT:
                out.append(
                    Problem(
                        field,
                        f"[{lo}, {hi}] V exceeds the global activation limit of "
                        f"+-{GLOBAL_VOLTAGE_LIMIT} V",
                    )
                )
        if len(set(block.activation_channels)) != n_ch:
            out.append(Problem(f"{where}.activation_channels", "lists a channel twice"))
        active += sum(block.mask()[:n_ch])
        readouts += len(block.readout_channels)
    if not out and active != n_in:
        out.append(
            Problem(
                "input_data.activation_electrode_no",
                f"is {n_in} but the wiring has {active} active activation channels",
            )
        )
    if readouts != n_out:
        out.append(
            Problem(
                "input_data.readout_electrode_no",
                f"is {n_out} but the wiring has {readouts} readout channels",
            )
        )
    return out


def _wave_range_problems(cfg: SamplingConfig) -> list[Problem]:
    """Explicit amplitude/offset must keep every wave inside its electrode range."""
    if cfg.input_data.amplitude is None:
        return []
    out: list[Problem] = []
    amp, off, ranges = cfg.amplitude(), cfg.offset(), cfg.voltage_ranges()
    for i, (a, o, (lo, hi)) in enumerate(zip(amp, off, ranges)):
        if a < 0:
            out.append(Problem(f"input_data.amplitude[{i}]", "must be >= 0"))
        elif o - a < lo - 1e-9 or o + a > hi + 1e-9:
            out.append(
                Problem(
                    f"input_data.amplitude[{i}]",
                    f"offset {o:g} +- amplitude {a:g} V leaves the electrode range "
                    f"[{lo:g}, {hi:g}] V",
                )
            )
    return out
