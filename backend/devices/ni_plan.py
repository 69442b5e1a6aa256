"""The exact NI-DAQmx plan of a config: tasks, channels, limits, rates, counts, routes.

`ni_plan(config)` is a pure function of the config (no driver needed). The NI
device builds its tasks from it and nothing else, so what `samplelab devices
--plan` prints is what a session sends. `probe_plan` asks an installed driver
what it would make of the plan (coerced rates, known terminals) without
reserving or driving anything.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from backend.config import ADC_LIMIT_V, SamplingConfig
from backend.config.wiring import sync_channels
from backend.devices.ni_driver import DEFAULT_TIMEOUT_MARGIN_S, batch_timeout_s

#: Every configured activation range must lie strictly inside this (V).
HARD_RANGE_LIMIT_V = 2.0
#: Margin around each activation range given to the driver as min_val/max_val (V).
AO_RANGE_MARGIN_V = 0.01
#: The sync spike (cdaq_to_nidaq): its height, its channels' range, the lead-in.
SYNC_SPIKE_V = 1.0
SYNC_RANGE_V = 5.0
SYNC_LEAD_S = 0.04
#: Attempts per batch before a missing sync spike becomes an error (as the peer).
DEFAULT_SYNC_ATTEMPTS = 4
#: How NI-DAQmx is asked to wire the AI channels: its own default per module.
AI_TERMINAL_CONFIG = "DEFAULT"
#: Rates read back from the driver may differ from the config by float rounding only.
RATE_TOLERANCE = 1e-9


def sync_lead_points(fs: int) -> int:
    """Zero points sent before the sync spike, giving the readout time to start."""
    return int(fs * SYNC_LEAD_S)


def start_trigger_terminal(trigger_source: str) -> str:
    """The AI start-trigger terminal of `trigger_source`, as brains-py forms it.

    `cDAQ1` -> `/cDAQ1/ai/StartTrigger`; brains-py's documented `cDAQ1/segment1`
    -> `/cDAQ1/segment1/ai/StartTrigger`; a full terminal is kept as given.
    """
    source = trigger_source.strip().strip("/")
    if source.lower().endswith("/ai/starttrigger"):
        return f"/{source}"
    return f"/{source}/ai/StartTrigger"


@dataclass(frozen=True)
class ChannelPlan:
    """One physical channel: what it is for and the limits the driver is given (V)."""

    name: str
    role: str  # electrode | sync | readout | masked (configured, not sampled: zeroed only)
    min_v: float
    max_v: float


@dataclass(frozen=True)
class TaskPlan:
    """One finite NI-DAQmx task of a batch."""

    kind: str  # "AO" | "AI"
    channels: tuple[ChannelPlan, ...]
    rate_hz: int
    samples_per_channel: int
    start: str  # how the task starts, in words
    trigger: str | None = None  # the digital start-trigger terminal, if any
    terminal_config: str | None = None  # AI only

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.channels)

    @property
    def limits(self) -> list[tuple[float, float]]:
        return [(c.min_v, c.max_v) for c in self.channels]


@dataclass(frozen=True)
class NIPlan:
    """Everything a session sends to NI-DAQmx for the configured batch length."""

    instrument_type: str
    activation: TaskPlan
    readout: TaskPlan
    zero_channels: tuple[ChannelPlan, ...]  # every configured AO channel (+ sync): 0 V on stop
    write_ranges: tuple[tuple[float, float], ...]  # what the writer allows per AO row (V)
    io_points: int  # readout points per activation point
    batch_points: int
    ramp_points: int
    lead_points: int  # zeros before the batch (cdaq_to_nidaq)
    dropped_first: int  # readout points dropped at the start (cdaq_to_cdaq)
    timeout_s: float
    sync_channels: tuple[str, str] | None
    sync_attempts: int
    notes: tuple[str, ...] = field(default=())

    @property
    def sync(self) -> bool:
        return self.sync_channels is not None

    def write_points(self, points: int) -> int:
        """AO samples per channel for a ramped batch of `points` activation points."""
        return points + self.lead_points

    def read_points(self, points: int) -> int:
        """AI samples per channel for a ramped batch of `points` activation points."""
        return self.write_points(points) * self.io_points + self.dropped_first

    def timeout_for(self, points: int, margin_s: float) -> float:
        return batch_timeout_s(self.write_points(points), self.activation.rate_hz, margin_s)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["write_ranges"] = [list(r) for r in self.write_ranges]
        return out


def ni_plan(
    config: SamplingConfig,
    timeout_margin_s: float = DEFAULT_TIMEOUT_MARGIN_S,
    sync_attempts: int = DEFAULT_SYNC_ATTEMPTS,
) -> NIPlan:
    """The plan for `config`'s batches; pure, so it runs without NI-DAQmx."""
    setup = config.driver.instruments_setup
    layout = config.layout()
    fs, readout_fs = int(setup.activation_sampling_frequency), int(setup.readout_sampling_frequency)
    io = max(1, readout_fs // fs)
    sync = config.driver.instrument_type == "cdaq_to_nidaq"
    lead = sync_lead_points(fs) if sync else 0
    m = AO_RANGE_MARGIN_V

    ao = [ChannelPlan(n, "electrode", lo - m, hi + m) for n, (lo, hi) in zip(
        layout.activation_channels, layout.ranges.tolist()
    )]  # fmt: skip
    ai = [ChannelPlan(n, "readout", -ADC_LIMIT_V, ADC_LIMIT_V) for n in layout.readout_channels]
    write_ranges = [tuple(r) for r in layout.ranges.tolist()]
    configured = layout.configured_ranges if layout.configured_ranges is not None else []
    zero = [
        ChannelPlan(n, "electrode" if n in layout.activation_channels else "masked", lo - m, hi + m)
        for n, (lo, hi) in zip(layout.configured_channels, np.asarray(configured).tolist())
    ]
    pair = sync_channels(setup) if sync else None
    if pair is not None:
        ao.append(ChannelPlan(pair[0], "sync", -SYNC_RANGE_V, SYNC_RANGE_V))
        ai.append(ChannelPlan(pair[1], "sync", -SYNC_RANGE_V, SYNC_RANGE_V))
        zero.append(ao[-1])
        write_ranges.append((0.0, SYNC_SPIKE_V))

    notes = []
    mask = setup.activation_channel_mask
    if not setup.multiple_devices and mask is not None and any(v != 1 for v in mask):
        notes.append(
            "activation_channel_mask is ignored: as in brains-py, masks apply only "
            "with multiple_devices, so every listed channel is an electrode"
        )
    points = config.batch_points + 2 * config.ramp_points
    dropped = 0 if sync else 1
    trigger = None if sync else start_trigger_terminal(setup.trigger_source)
    write_points = points + lead
    read_points = write_points * io + dropped
    activation = TaskPlan(
        "AO",
        tuple(ao),
        fs,
        write_points,
        "software start, right before the readout" if sync else f"on {trigger}",
        trigger,
    )
    readout = TaskPlan(
        "AI",
        tuple(ai),
        readout_fs,
        read_points,
        "software start, after the activation task" if sync else "software start",
        None,
        AI_TERMINAL_CONFIG,
    )
    return NIPlan(
        instrument_type=config.driver.instrument_type,
        activation=activation,
        readout=readout,
        zero_channels=tuple(zero),
        write_ranges=tuple(write_ranges),
        io_points=io,
        batch_points=config.batch_points,
        ramp_points=config.ramp_points,
        lead_points=lead,
        dropped_first=dropped,
        timeout_s=batch_timeout_s(write_points, fs, timeout_margin_s),
        sync_channels=pair,
        sync_attempts=int(sync_attempts),
        notes=tuple(notes),
    )


def rate_mismatches(plan: NIPlan, ao_rate: float, ai_rate: float) -> list[str]:
    """Sentences naming each task whose actual sample clock differs from the config."""
    out = []
    for task, actual, key in (
        (plan.activation, ao_rate, "activation_sampling_frequency"),
        (plan.readout, ai_rate, "readout_sampling_frequency"),
    ):
        if not math.isclose(actual, task.rate_hz, rel_tol=RATE_TOLERANCE):
            instrument = task.channels[0].name.partition("/")[0]
            out.append(
                f"{key} is {task.rate_hz} Hz but {instrument} runs its sample clock at "
                f"{actual:.9g} Hz"
            )
    return out
