"""The typed sampling configuration, field for field the bspysmg layout.

Pydantic checks types and simple bounds; `consistency_problems` checks what
depends on several fields (counts per electrode, rates, ranges). Both report
`Problem(path, why)` so a form can show each message next to its field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    field_validator,
    model_validator,
)

from backend.config.limits import (
    MAX_CHANNELS,
    MAX_RATE_HZ,
    MAX_WAVE_VALUE,
    duration_problem,
    finite_problem,
    name_problem,
    size_problems,
)
from backend.config.wiring import sync_channel_problems
from backend.errors import Problem

#: No activation sample may exceed this magnitude (V), whatever the config says.
GLOBAL_VOLTAGE_LIMIT = 1.6
#: The ADC saturates at this input (V); times the amplification it bounds the output (nA).
ADC_LIMIT_V = 4.0

Number = int | float
_RESERVED_SETUP_KEYS = {
    "multiple_devices",
    "average_io_point_difference",
    "activation_sampling_frequency",
    "readout_sampling_frequency",
    "trigger_source",
}
_BLOCK_KEYS = (
    "activation_instrument",
    "activation_channels",
    "activation_voltage_ranges",
    "activation_channel_mask",
    "readout_instrument",
    "readout_channels",
)


def _default_channels() -> list[int]:
    return [6, 0, 7, 5, 2, 4, 3]


def _default_ranges() -> list[tuple[float, float]]:
    """The usual DNPU ranges: five electrodes at [-1.2, 0.6] V, two at [-0.7, 0.3] V."""
    return [(-1.2, 0.6)] * 5 + [(-0.7, 0.3)] * 2


def _as_list(value: Any) -> Any:
    """numpy arrays (as bspysmg stores amplitude/offset) become plain lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _unless(why: str | None, value: Any) -> Any:
    """`value`, or the ValueError pydantic reports for it when `why` says what is wrong."""
    if why:
        raise ValueError(why)
    return value


class DeviceBlock(BaseModel):
    """One DNPU's wiring: which DAQ channels drive and read it, and their ranges."""

    model_config = ConfigDict(extra="allow")

    activation_instrument: str = Field("cDAQ1Mod3", title="Activation module")
    activation_channels: list[NonNegativeInt] = Field(
        default_factory=_default_channels, title="AO channel"
    )
    activation_voltage_ranges: list[tuple[float, float]] = Field(
        default_factory=_default_ranges, title="Voltage range", json_schema_extra={"unit": "V"}
    )
    activation_channel_mask: list[int] | None = Field(None, title="Channel on/off")
    readout_instrument: str = Field("cDAQ1Mod4", title="Readout module")
    readout_channels: list[NonNegativeInt] = Field(
        default_factory=lambda: [0], title="Readout channels"
    )

    def mask(self) -> list[bool]:
        """Which channels are electrodes; brains-py reads masks only with multiple_devices."""
        if self.activation_channel_mask is None:
            return [True] * len(self.activation_channels)
        return [m == 1 for m in self.activation_channel_mask]


class InstrumentsSetup(BaseModel):
    """DAQ timing plus one device block (single) or several named ones (multiple)."""

    model_config = ConfigDict(extra="allow")

    multiple_devices: bool = Field(False, title="Multiple devices")
    average_io_point_difference: bool = Field(True, title="Average readout points")
    activation_sampling_frequency: PositiveInt = Field(
        5000, le=MAX_RATE_HZ, title="Activation rate", json_schema_extra={"unit": "Hz"}
    )
    readout_sampling_frequency: PositiveInt = Field(
        10000, le=MAX_RATE_HZ, title="Readout rate", json_schema_extra={"unit": "Hz"}
    )
    trigger_source: str = Field("cDAQ1", title="Trigger source")
    # Single-device wiring lives at this level in bspysmg files.
    activation_instrument: str | None = Field("cDAQ1Mod3", title="Activation module")
    activation_channels: list[NonNegativeInt] | None = Field(
        default_factory=_default_channels, title="AO channel"
    )
    activation_voltage_ranges: list[tuple[float, float]] | None = Field(
        default_factory=_default_ranges, title="Voltage range", json_schema_extra={"unit": "V"}
    )
    activation_channel_mask: list[int] | None = Field(None, title="Channel on/off")
    readout_instrument: str | None = Field("cDAQ1Mod4", title="Readout module")
    readout_channels: list[NonNegativeInt] | None = Field(
        default_factory=lambda: [0], title="Readout channels"
    )
    # Multiple devices: every non-reserved mapping key of the bspysmg block.
    devices: dict[str, DeviceBlock] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_device_blocks(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("multiple_devices"):
            data = dict(data)
            devices = dict(data.get("devices") or {})
            for key in list(data):
                if key not in _RESERVED_SETUP_KEYS and isinstance(data[key], dict):
                    devices[key] = data.pop(key)
            data["devices"] = devices
        return data

    def blocks(self) -> dict[str, DeviceBlock]:
        """Device blocks in wiring order; a single device is named after its instrument."""
        if self.multiple_devices:
            return dict(self.devices)
        # One device: every listed channel is an electrode, its mask unused (as brains-py).
        given = {k: getattr(self, k) for k in _BLOCK_KEYS[:3] + _BLOCK_KEYS[4:]}
        return {"device": DeviceBlock(**{k: v for k, v in given.items() if v is not None})}

    def to_bspysmg(self) -> dict:
        out = self.model_dump(exclude={"devices"}, exclude_none=True)
        if self.multiple_devices:
            for key in _BLOCK_KEYS:
                out.pop(key, None)
            for name, block in self.devices.items():
                out[name] = _plain(block.model_dump(exclude_none=True))
        return _plain(out)


class Driver(BaseModel):
    model_config = ConfigDict(extra="allow")

    instrument_type: Literal["cdaq_to_cdaq", "cdaq_to_nidaq"] = Field(
        "cdaq_to_cdaq", title="Wiring"
    )
    inverted_output: bool = Field(True, title="Inverted output")
    amplification: list[float] = Field(
        default_factory=lambda: [39.17], title="Amplification", json_schema_extra={"unit": "nA/V"}
    )
    instruments_setup: InstrumentsSetup = Field(default_factory=InstrumentsSetup)

    @field_validator("amplification", mode="before")
    @classmethod
    def _scalar_amplification(cls, value: Any) -> Any:
        value = _as_list(value)
        return [value] if isinstance(value, (int, float)) else value


class InputData(BaseModel):
    model_config = ConfigDict(extra="allow")

    input_distribution: Literal["sine", "sawtooth"] = Field("sawtooth", title="Wave shape")
    activation_electrode_no: PositiveInt = Field(
        7, le=MAX_CHANNELS, title="Number of active electrodes"
    )
    readout_electrode_no: PositiveInt = Field(1, le=MAX_CHANNELS, title="Number of readouts")
    input_frequency: list[Number] = Field(
        default_factory=lambda: [2, 3, 5, 7, 13, 17, 19], title="Frequency"
    )
    random_phase_shift_each: NonNegativeInt = Field(0, title="New phases every")
    phase: list[float] = Field(
        default_factory=lambda: [-0.57, 0.25, 0.83, 1.02, -2.31, 0.42, 1.57], title="Phase"
    )
    ramp_time: float = Field(
        0.5, gt=0, allow_inf_nan=False, title="Ramp time", json_schema_extra={"unit": "s"}
    )
    batch_time: float = Field(
        0.5, gt=0, allow_inf_nan=False, title="Batch time", json_schema_extra={"unit": "s"}
    )
    number_batches: PositiveInt = Field(3880, title="Batches")
    amplitude: list[float] | None = Field(None, title="Amplitude", json_schema_extra={"unit": "V"})
    offset: list[float] | None = Field(None, title="Offset", json_schema_extra={"unit": "V"})
    factor: float | None = Field(
        None, gt=0, le=MAX_WAVE_VALUE, allow_inf_nan=False, title="Frequency factor"
    )

    @field_validator("input_frequency", "phase", "amplitude", "offset", mode="before")
    @classmethod
    def _arrays_to_lists(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("ramp_time", "batch_time")
    @classmethod
    def _bounded_duration(cls, value: float) -> float:
        return _unless(duration_problem(value), value)

    @field_validator("input_frequency", "phase", "amplitude", "offset")
    @classmethod
    def _finite_waves(cls, value: list | None) -> list | None:
        return _unless(None if value is None else finite_problem(value), value)


class SamplingConfig(BaseModel):
    """A whole sampling configuration; `problems()` lists what makes it unusable."""

    model_config = ConfigDict(extra="allow")

    save_directory: str = Field("recordings", title="Output folder")
    data_name: str = Field("sampling", title="Name")
    driver: Driver = Field(default_factory=Driver)
    input_data: InputData = Field(default_factory=InputData)

    @field_validator("data_name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return _unless(name_problem(value), value)

    # --- derived quantities -------------------------------------------------
    @property
    def fs(self) -> int:
        """Activation (DAC) sampling rate in Hz: one input row per 1/fs."""
        return self.driver.instruments_setup.activation_sampling_frequency

    @property
    def batch_points(self) -> int:
        return round(self.input_data.batch_time * self.fs)

    @property
    def ramp_points(self) -> int:
        return round(self.input_data.ramp_time * self.fs)

    @property
    def number_batches(self) -> int:
        return self.input_data.number_batches

    @property
    def total_rows(self) -> int:
        return self.number_batches * self.batch_points

    @property
    def io_point_difference(self) -> int:
        """Readout points averaged into one activation point."""
        setup = self.driver.instruments_setup
        return setup.readout_sampling_frequency // setup.activation_sampling_frequency

    @property
    def n_inputs(self) -> int:
        return self.input_data.activation_electrode_no

    @property
    def n_outputs(self) -> int:
        return self.input_data.readout_electrode_no

    @property
    def amplification(self) -> np.ndarray:
        return np.asarray(self.driver.amplification, dtype=float)

    def layout(self) -> ElectrodeLayout:
        return ElectrodeLayout.from_setup(self.driver.instruments_setup)

    def voltage_ranges(self) -> np.ndarray:
        """(n_inputs, 2) [min, max] per activation electrode, after channel masks."""
        return self.layout().ranges

    def amplitude(self) -> np.ndarray:
        if self.input_data.amplitude is not None:
            return np.asarray(self.input_data.amplitude, dtype=float)
        ranges = self.voltage_ranges()
        return (ranges[:, 1] - ranges[:, 0]) / 2

    def offset(self) -> np.ndarray:
        if self.input_data.offset is not None:
            return np.asarray(self.input_data.offset, dtype=float)
        ranges = self.voltage_ranges()
        return (ranges[:, 0] + ranges[:, 1]) / 2

    def frequencies(self) -> np.ndarray:
        """Wave frequencies in Hz: sqrt(input_frequency) * factor, as bspysmg does."""
        factor = self.input_data.factor if self.input_data.factor is not None else 0.001 * self.fs
        return np.sqrt(np.asarray(self.input_data.input_frequency, dtype=float)) * factor

    def input_names(self) -> list[str]:
        return [f"Input {i}" for i in range(self.n_inputs)]

    def output_names(self) -> list[str]:
        return [f"Output {i}" for i in range(self.n_outputs)]

    def problems(self) -> list[Problem]:
        return consistency_problems(self)

    def to_bspysmg(self) -> dict:
        """The config as bspysmg's dict layout with plain Python values."""
        out = self.model_dump(exclude={"driver", "input_data"})
        out["driver"] = _plain(self.driver.model_dump(exclude={"instruments_setup"}))
        out["driver"]["instruments_setup"] = self.driver.instruments_setup.to_bspysmg()
        out["input_data"] = _plain(self.input_data.model_dump(exclude_none=True))
        return _plain(out)


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


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, so YAML output has no python tags."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


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
    if not setup.multiple_devices:
        missing = [k for k in _BLOCK_KEYS[:3] + _BLOCK_KEYS[4:] if getattr(setup, k) is None]
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
