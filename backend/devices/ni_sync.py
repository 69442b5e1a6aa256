"""Finding the cdaq_to_nidaq sync spike in the raw readout, and cutting the batch there.

The activation (cDAQ) and readout (NI-DAQ) clocks are not phase-locked: the
readout starts a fraction of an activation point off the AO grid, and the two
clocks drift by some ppm. Averaging first and then looking for the spike splits
the one-point spike across two readout groups about half of the time (each
then ~0.5 V: a threshold at 0.5 V rejects them), and aligns the batch to +-1
point. So the spike's rising edge is found on the raw, unaveraged samples;
the io readout samples from the edge on belong to the spike's activation
point, and the batch is cut there before it is averaged.

The spike must also look like the spike: a quiet line (the lead-in zeros and
the zeros after it) with exactly one pulse of about io samples and about 1 V.
Anything else (a loose cable, a full-scale sine from an NI MAX simulated
card, a readout that started after the spike) is not taken for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backend.devices.ni_plan import SYNC_SPIKE_V

#: Raw sync samples at or above this are "high" (half the spike's height).
SYNC_THRESHOLD_V = 0.5 * SYNC_SPIKE_V
#: The spike's top must stay below this (V): above it, it is not our spike.
SYNC_MAX_V = 1.5 * SYNC_SPIKE_V
#: Outside the pulse the sync line must stay within +-this (V).
SYNC_QUIET_V = 0.25 * SYNC_SPIKE_V


@dataclass(frozen=True)
class SyncFound:
    """Where the spike's rising edge is in the raw readout, or why it is not usable."""

    edge: int | None  # raw sample index of the first high sample
    reason: str = ""  # why not, for the log and the error message
    width: int = 0  # raw samples at or above the threshold
    peak_v: float = 0.0


def find_sync_edge(sync: np.ndarray, io_points: int, needed: int) -> SyncFound:
    """The rising edge of the one sync spike in raw samples `sync`.

    `needed` raw samples must follow the edge (the batch). The pulse must be
    io_points +- 1 samples wide, between the threshold and SYNC_MAX_V high, and
    the rest of the line quiet; the first sample must be low (else the readout
    may have started after the edge).
    """
    sync = np.asarray(sync, dtype=float)
    if not np.isfinite(sync).all():
        return SyncFound(None, "the sync input read NaN")
    high = sync >= SYNC_THRESHOLD_V
    rising = np.flatnonzero(high[1:] & ~high[:-1]) + 1
    peak = float(sync.max()) if sync.size else 0.0
    if high.size and high[0]:
        return SyncFound(None, "the readout started while the spike was high (too late)", 0, peak)
    if rising.size == 0:
        return SyncFound(
            None,
            f"no spike (the sync input peaked at {peak:.3g} V): the readout started after "
            "it, or the sync cable is loose",
            0,
            peak,
        )
    if rising.size > 1:
        return SyncFound(
            None,
            f"{rising.size} pulses on the sync input, expected one: is something else "
            "connected to it?",
            0,
            peak,
        )
    edge = int(rising[0])
    falls = np.flatnonzero(~high[edge:])
    width = int(falls[0]) if falls.size else int(high.size - edge)
    top = float(sync[edge : edge + width].max())
    if not (max(1, io_points - 1) <= width <= io_points + 1):
        return SyncFound(
            None, f"a pulse {width} samples wide, expected {io_points}: not the spike", width, top
        )
    if top > SYNC_MAX_V:
        return SyncFound(
            None, f"a pulse of {top:.3g} V, expected {SYNC_SPIKE_V:g} V: not the spike", width, top
        )
    if edge > 1 and sync[edge - 1] > SYNC_QUIET_V:
        edge -= 1  # caught while the output settled: the update was before this sample
        width += 1
    # The samples next to the pulse may be caught mid-transition; the rest must be quiet.
    rest = np.concatenate([sync[: max(0, edge - 1)], sync[edge + width + 1 :]])
    if rest.size and float(np.abs(rest).max()) > SYNC_QUIET_V:
        return SyncFound(
            None,
            f"the sync input is not quiet around the spike (it reaches "
            f"{float(np.abs(rest).max()):.3g} V): is something else connected to it?",
            width,
            top,
        )
    if edge + needed > sync.size:
        return SyncFound(None, "the spike came too late to read the whole batch", width, top)
    return SyncFound(edge, "", width, top)


def averaged(readings: np.ndarray, io_points: int) -> np.ndarray:
    """(channels, k*io) readout samples -> (channels, k): each io group's mean."""
    channels, total = readings.shape
    return readings.reshape(channels, total // io_points, io_points).mean(axis=2)


def cut_and_average(raw: np.ndarray, edge: int, points: int, io_points: int) -> np.ndarray:
    """(channels, points) volts: `points` io-groups from raw sample `edge` on, averaged."""
    return averaged(raw[:, edge : edge + points * io_points], io_points)


@dataclass
class SyncStats:
    """What the sync detection did in a session: for the self-test and the log."""

    batches: int = 0
    rejected: int = 0  # attempts whose readout showed no usable spike
    edges: list[int] = field(default_factory=list)  # raw edge index per batch
    reasons: list[str] = field(default_factory=list)  # why each rejected attempt was

    def to_dict(self) -> dict:
        edges = np.asarray(self.edges, dtype=float)
        return {
            "batches": self.batches,
            "rejected": self.rejected,
            "edge_min": int(edges.min()) if edges.size else None,
            "edge_max": int(edges.max()) if edges.size else None,
            "reasons": sorted(set(self.reasons)),
        }
