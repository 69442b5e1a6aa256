"""The typed sampling configuration, field for field the bspysmg layout.

Pydantic checks types and simple bounds here; `backend.config.consistency`
checks what depends on several fields (counts per electrode, rates, ranges),
and `backend.config.wiring` says what the wiring means (electrodes after
masks, sync channels). All report `Problem(path, why)` so a form can show each
message next to its field.
"""

from __future__ import annotations

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

from backend.config.consistency import consistency_problems
from backend.config.limits import (
    MAX_CHANNELS,
    MAX_RATE_HZ,
    MAX_WAVE_VALUE,
    duration_problem,
    finite_problem,
    name_problem,
)
from backend.config.wiring import ElectrodeLayout
from backend.errors import Problem

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
#: The keys a single device's wiring needs (its channel mask is unused, as in brains-py).
_SINGLE_DEVICE_KEYS = _BLOCK_KEYS[:3] + _BLOCK_KEYS[4:]


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
        default_factory=lambda: [0], title="Readout channels", description="aiN"
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
        default_factory=lambda: [0], title="Readout channels", description="aiN"
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
        given = {k: getattr(self, k) for k in _SINGLE_DEVICE_KEYS}
        return {"device": DeviceBlock(**{k: v for k, v in given.items() if v is not None})}

    def missing_wiring(self) -> list[str]:
        """The single-device wiring keys left empty (none when multiple_devices)."""
        if self.multiple_devices:
            return []
        return [k for k in _SINGLE_DEVICE_KEYS if getattr(self, k) is None]

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
    inverted_output: bool = Field(True, title="Inverted output", description="amplifier inverts")
    amplification: list[float] = Field(
        default_factory=lambda: [39.17],
        title="Amplification",
        description="one per readout",
        json_schema_extra={"unit": "nA/V"},
    )
    instruments_setup: InstrumentsSetup = Field(default_factory=InstrumentsSetup)

    @field_validator("amplification", mode="before")
    @classmethod
    def _scalar_amplification(cls, value: Any) -> Any:
        value = _as_list(value)
        return [value] if isinstance(value, (int, float)) else value


class InputData(BaseModel):
    model_config = ConfigDict(extra="allow")

    input_distribution: Literal["sawtooth", "sine"] = Field("sawtooth", title="Wave shape")
    activation_electrode_no: PositiveInt = Field(
        7, le=MAX_CHANNELS, title="Number of active electrodes"
    )
    readout_electrode_no: PositiveInt = Field(1, le=MAX_CHANNELS, title="Number of readouts")
    input_frequency: list[Number] = Field(
        default_factory=lambda: [2, 3, 5, 7, 13, 17, 19], title="Frequency"
    )
    random_phase_shift_each: NonNegativeInt = Field(
        0,
        title="New phases every",
        description="draw random phases every N batches (0: keep the configured phases)",
    )
    phase: list[float] = Field(
        default_factory=lambda: [-0.57, 0.25, 0.83, 1.02, -2.31, 0.42, 1.57], title="Phase"
    )
    ramp_time: float = Field(
        0.5,
        gt=0,
        allow_inf_nan=False,
        title="Ramp time",
        description="ramp from/to 0 V",
        json_schema_extra={"unit": "s"},
    )
    batch_time: float = Field(
        0.5,
        gt=0,
        allow_inf_nan=False,
        title="Batch time",
        description="sampled part of a batch",
        json_schema_extra={"unit": "s"},
    )
    number_batches: PositiveInt = Field(
        3880, title="Batches", description="how many batches to sample"
    )
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

    save_directory: str = Field(
        "recordings", title="Output folder", description="where recordings are written"
    )
    data_name: str = Field(
        "sampling", title="Name", description="start of the recording's file name"
    )
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


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, so YAML output has no python tags."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
