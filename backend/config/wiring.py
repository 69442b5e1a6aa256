"""What the wiring means: the electrodes after masks, and the sync spike's channels.

`ElectrodeLayout` turns the device blocks into DAQ channel names and voltage
ranges in wiring order (what the devices drive and read).

brains-py wires the sync spike from ao7 of the (first) activation instrument to
ai7 of the (first) readout instrument. Those two channels carry a 1 V pulse on
every batch, so no electrode may be wired to them, masked or not: a mask can be
flipped later, and a masked channel is still a configured output that the
device drives to 0 V. The check runs at config validation, so the form and
`samplelab sample` refuse such a config without a driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from backend.errors import Problem

if TYPE_CHECKING:
    from backend.config.schema import InstrumentsSetup

#: The sync spike's output and input channel numbers (cdaq_to_nidaq), as brains-py.
SYNC_AO_CHANNEL, SYNC_AI_CHANNEL = 7, 7


@dataclass(frozen=True)
class ElectrodeLayout:
    """Electrodes after masks: DAQ channel names and voltage ranges, in wiring order.

    `configured_channels`/`configured_ranges` are every AO channel the config names,
    masked or not: all of them go to 0 V when a session stops.
    """

    activation_channels: tuple[str, ...]
    readout_channels: tuple[str, ...]
    ranges: np.ndarray
    instruments: tuple[str, ...]
    configured_channels: tuple[str, ...] = ()
    configured_ranges: np.ndarray | None = None

    @classmethod
    def from_setup(cls, setup: InstrumentsSetup) -> ElectrodeLayout:
        act: list[str] = []
        read: list[str] = []
        ranges: list[tuple[float, float]] = []
        instruments: list[str] = []
        every: dict[str, tuple[float, float]] = {}
        for block in setup.blocks().values():
            for ch, rng, keep in zip(
                block.activation_channels, block.activation_voltage_ranges, block.mask()
            ):
                name = f"{block.activation_instrument}/ao{ch}"
                every.setdefault(name, tuple(rng))
                if keep:
                    act.append(name)
                    ranges.append(tuple(rng))
            read += [f"{block.readout_instrument}/ai{ch}" for ch in block.readout_channels]
            for name in (block.activation_instrument, block.readout_instrument):
                if name not in instruments:
                    instruments.append(name)
        return cls(
            tuple(act),
            tuple(read),
            np.asarray(ranges, dtype=float).reshape(-1, 2),
            tuple(instruments),
            tuple(every),
            np.asarray(list(every.values()), dtype=float).reshape(-1, 2),
        )


def sync_channels(setup: InstrumentsSetup) -> tuple[str, str]:
    """(ao7 of the first activation instrument, ai7 of the first readout instrument)."""
    block = next(iter(setup.blocks().values()))
    return (
        f"{block.activation_instrument}/ao{SYNC_AO_CHANNEL}",
        f"{block.readout_instrument}/ai{SYNC_AI_CHANNEL}",
    )


def sync_channel_problems(setup: InstrumentsSetup, instrument_type: str) -> list[Problem]:
    """A problem for every configured channel (before masks) that is a sync channel."""
    if instrument_type != "cdaq_to_nidaq" or not setup.blocks():
        return []
    out, into = sync_channels(setup)
    base = "driver.instruments_setup"
    problems: list[Problem] = []
    for name, block in setup.blocks().items():
        where = f"{base}.{name}" if setup.multiple_devices else base
        for key, instrument, prefix, sync in (
            ("activation_channels", block.activation_instrument, "ao", out),
            ("readout_channels", block.readout_instrument, "ai", into),
        ):
            for i, channel in enumerate(getattr(block, key)):
                if f"{instrument}/{prefix}{channel}" == sync:
                    mask = block.mask()
                    masked = key == "activation_channels" and i < len(mask) and not mask[i]
                    problems.append(
                        Problem(
                            f"{where}.{key}[{i}]",
                            f"{sync} carries the 1 V cdaq_to_nidaq sync spike"
                            f"{' (masked off, but still configured)' if masked else ''}; "
                            "wire this electrode to another channel and update the config",
                        )
                    )
    return problems
