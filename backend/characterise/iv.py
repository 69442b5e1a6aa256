"""I-V curves: each activation electrode swept in turn, all others held at 0 V.

One sweep is one batch on the device (it starts and ends at 0 V, so it needs
no ramps), checked by the sampling safety check like every batch. With
several DNPUs wired (multi-device configs) each sweep drives one electrode of
one device; every other channel, of that device and of the others, stays at
0 V. (The peer drives the k-th electrode of every device at once.)

Results are in config order: `voltages` (n_electrodes, points) and `currents`
(n_electrodes, points, n_outputs) in nA, every output read during each sweep.
Sweeps of slightly different lengths (the sawtooth's rounding) are cut to the
shortest, as the peer's files are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backend.acquisition.safety import check_batch
from backend.characterise.device import driven, plain_batch
from backend.characterise.ivconfig import DeviceGroup, SweepSettings, device_groups
from backend.characterise.sweeps import sweep
from backend.devices import Device
from backend.jobs import CancelToken, JobControl, JobProgress, ProgressFn

STAGE = "I-V sweeps"


@dataclass(frozen=True)
class Curve:
    """One electrode's sweep as measured: volts (points,) and currents (points, n_outputs)."""

    electrode: int
    voltages: np.ndarray
    currents: np.ndarray


@dataclass(frozen=True)
class IVProgress(JobProgress):
    """Progress that carries every curve measured so far (a coalesced report loses none)."""

    curves: tuple[Curve, ...] = ()


@dataclass
class IVCurves:
    """A finished I-V measurement."""

    voltages: np.ndarray  # (n_electrodes, points) V
    currents: np.ndarray  # (n_electrodes, points, n_outputs) nA
    voltage_ranges: np.ndarray  # (n_electrodes, 2) V
    settings: SweepSettings
    activation_channels: tuple[str, ...]
    readout_channels: tuple[str, ...]
    groups: tuple[DeviceGroup, ...]
    device: dict = field(default_factory=dict)

    @property
    def points(self) -> int:
        return int(self.voltages.shape[1])


def sweeps_for(ranges: np.ndarray, settings: SweepSettings) -> list[np.ndarray]:
    """The sweep of every electrode over its own range."""
    return [sweep(settings.shape, lo, hi, settings.points, settings.up) for lo, hi in ranges]


def sweep_batches(device: Device, settings: SweepSettings) -> list[np.ndarray]:
    """(n, len) volts per electrode: its sweep on its own row, zeros elsewhere; all checked.

    Every batch passes the safety check here, before the device is even opened,
    so a bad request fails without touching the hardware.
    """
    batches = []
    for k, wave in enumerate(sweeps_for(device.ranges, settings)):
        data = np.zeros((device.n_inputs, len(wave)))
        data[k] = wave
        check_batch(data, device.ranges, channel_names=device.activation_channels)
        batches.append(data)
    return batches


def measure_iv(
    device: Device,
    settings: SweepSettings | None = None,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> IVCurves:
    """Sweep every electrode of `device` (closed or open); it ends at 0 V and closed.

    Reports `IVProgress` after each electrode; a cancel stops before the next
    sweep (a sweep in flight ends at 0 V by construction) and raises Cancelled.
    """
    control = JobControl(progress, cancel)
    settings = (settings or SweepSettings()).checked()
    batches = sweep_batches(device, settings)
    n = len(batches)
    curves: list[Curve] = []
    first_row = 0
    control.report(STAGE, 0, n)
    with driven(device):
        for k, data in enumerate(batches):
            control.check()
            currents = device.sample(plain_batch(data, k, device.config.fs, first_row))
            first_row += data.shape[1]
            curves.append(Curve(k, data[k].copy(), currents))
            if progress is not None:
                control.check()
                progress(IVProgress(STAGE, k + 1, n, tuple(curves)))
    length = min(len(c.voltages) for c in curves)
    return IVCurves(
        voltages=np.stack([c.voltages[:length] for c in curves]),
        currents=np.stack([c.currents[:length] for c in curves]),
        voltage_ranges=np.asarray(device.ranges, dtype=float).copy(),
        settings=settings,
        activation_channels=tuple(device.activation_channels),
        readout_channels=tuple(device.readout_channels),
        groups=device_groups(device.config),
        device=device.describe(),
    )
