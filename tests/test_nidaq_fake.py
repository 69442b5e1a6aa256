"""A scripted NI-DAQmx driver for running the REAL nidaqmx Task code without hardware.

As nidaqmx-python's own unit tests do, `nidaqmx.utils._select_interpreter` is
patched to return `create_autospec(BaseInterpreter)`: every Task, channel,
timing, trigger, stream reader/writer and System call of the real package runs
and ends in this interpreter, whose signatures are the driver's own. A wrong
call, argument name or array shape therefore fails. Unscripted calls fail too.

Behind the interpreter sits a small model of a lab: NI devices (a cDAQ chassis
with AO/AI modules, a PCIe card), a DNPU whose readout is a known linear
function of the activation voltages, per-sample ripple that only averaging
removes, a junk first sample on triggered reads, a readout start lag for
untriggered setups, and hooks to inject any DaqError into any call.

The tests at the bottom hold the fake to the driver's contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from unittest import mock

import numpy as np
import pytest
from conftest import small_config
from nidaqmx import utils as ni_utils
from nidaqmx._base_interpreter import BaseInterpreter
from nidaqmx.constants import (
    AcquisitionType,
    Edge,
    FillMode,
    ProductCategory,
    TerminalConfiguration,
    VoltageUnits,
)
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqError, DaqReadError, DaqWriteError

from backend.config import SamplingConfig

# DAQmx attribute ids the real nidaqmx code reads (from its generated sources).
TASK_NAME, AI_NUM_CHANS, AO_NUM_CHANS = 0x1276, 0x217B, 0x217E
SYS_DEVICE_NAMES, SYS_MAJOR, SYS_MINOR, SYS_UPDATE = 0x193B, 0x1272, 0x1923, 0x2F22
DEV_STRING = {
    0x631: "product_type",
    0x29B6: "modules",
    0x29B7: "chassis",
    0x231E: "ai",
    0x231F: "ao",
}
DEV_UINT32 = {0x632: "serial", 0x29B8: "slot"}
DEV_DOUBLE_ARRAY = {0x2990: "ai_ranges", 0x299B: "ao_ranges"}
DEV_DOUBLE = {0x2997: "ao_max_rate", 0x298D: "ai_max_rate"}
DEV_INT32 = {0x29A9: "category"}
DEV_BOOL = {0x22CA: "simulated"}

JUNK_FIRST_SAMPLE_V = 0.37
#: The real selector, kept as the spec for its stand-ins even once a test patched it.
REAL_SELECT_INTERPRETER = ni_utils._select_interpreter


@dataclass
class FakeDevice:
    name: str
    product_type: str
    category: ProductCategory
    ao: int = 0
    ai: int = 0
    ao_ranges: tuple[float, ...] = ()
    ai_ranges: tuple[float, ...] = ()
    chassis: str = ""
    slot: int = 0
    modules: tuple[str, ...] = ()
    serial: int = 0x1A2B3C
    simulated: bool = True
    ao_max_rate: float = 0.0
    ai_max_rate: float = 0.0

    def channels(self, kind: str) -> list[str]:
        return [f"{self.name}/{kind}{i}" for i in range(getattr(self, kind))]


def lab_devices() -> list[FakeDevice]:
    """A cDAQ-9178 with two NI 9264 AO and two NI 9205 AI modules, and a PCIe-6363."""
    ao = {"ao": 16, "ao_ranges": (-10.0, 10.0), "ao_max_rate": 25000.0}
    ai = {"ai": 32, "ai_ranges": (-10.0, 10.0, -5.0, 5.0, -1.0, 1.0, -0.2, 0.2)}
    module = ProductCategory.C_SERIES_MODULE
    return [
        FakeDevice(
            "cDAQ1",
            "cDAQ-9178",
            ProductCategory.COMPACT_DAQ_CHASSIS,
            modules=("cDAQ1Mod1", "cDAQ1Mod2", "cDAQ1Mod3", "cDAQ1Mod4"),
        ),
        FakeDevice("cDAQ1Mod1", "NI 9264", module, chassis="cDAQ1", slot=1, **ao),
        FakeDevice("cDAQ1Mod2", "NI 9205", module, chassis="cDAQ1", slot=2, **ai),
        FakeDevice("cDAQ1Mod3", "NI 9264", module, chassis="cDAQ1", slot=3, **ao),
        FakeDevice("cDAQ1Mod4", "NI 9205", module, chassis="cDAQ1", slot=4, **ai),
        FakeDevice(
            "Dev1",
            "PCIe-6363",
            ProductCategory.X_SERIES_DAQ,
            ao=4,
            ai=32,
            ao_ranges=(-10.0, 10.0, -5.0, 5.0),
            ai_ranges=(-10.0, 10.0, -5.0, 5.0, -2.0, 2.0, -1.0, 1.0),
            ai_max_rate=2e6,
            simulated=False,
        ),
    ]


def daq_error(code: DAQmxErrors, message: str = "", cls: type[DaqError] = DaqError) -> DaqError:
    text = message or code.name.replace("_", " ").capitalize() + "."
    if cls is DaqReadError:
        return DaqReadError(text, code, 0)
    if cls is DaqWriteError:
        return DaqWriteError(text, code, 0)
    return DaqError(text, code)


@dataclass
class FakeTask:
    handle: int
    name: str
    ao: list[str] = field(default_factory=list)
    ai: list[str] = field(default_factory=list)
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    rate: float | None = None
    samples: int | None = None
    trigger: str | None = None
    frame: np.ndarray | None = None  # AO data written, (channels, samples)
    acquired: np.ndarray | None = None  # AI data produced at start
    started: bool = False
    fired: bool = False
    closed: bool = False


@dataclass
class Write:
    handle: int
    channels: tuple[str, ...]
    data: np.ndarray
    auto_start: bool
    timeout: float


class FakeDAQ:
    """The fake driver; `interpreter` is the autospec the real nidaqmx code talks to."""

    def __init__(self, devices: list[FakeDevice] | None = None, version=(24, 5, 0)) -> None:
        self.devices = {d.name: d for d in (lab_devices() if devices is None else devices)}
        self.version = version
        self.tasks: dict[int, FakeTask] = {}
        self.writes: list[Write] = []
        self.read_timeouts: list[float] = []
        self.wait_timeouts: list[float] = []
        self.levels: dict[str, float] = {}  # what each AO channel outputs now
        self.gains: dict[str, dict[str, float]] = {}  # ai <- {ao: V/V}
        self.bias: dict[str, float] = {}
        self.wires: dict[str, str] = {}  # ai <- ao, copied 1:1 (the sync cable)
        self.ripple = 0.01
        self.lags: list[int] = []  # activation points an untriggered readout starts late
        self.default_lag = 2
        self.failures: dict[str, list[list]] = {}
        self._last_chan = ""
        self.interpreter = mock.create_autospec(BaseInterpreter, instance=True)
        self._script()

    # --- wiring of the simulated lab ------------------------------------------------
    def connect(self, ai: str, gains: dict[str, float], bias: float = 0.0) -> None:
        self.gains[ai] = dict(gains)
        self.bias[ai] = bias

    def wire(self, ao: str, ai: str) -> None:
        self.wires[ai] = ao

    def fail(self, method: str, error: BaseException, call: int = 1) -> None:
        """Raise `error` on the `call`-th next call of interpreter method `method`."""
        self.failures.setdefault(method, []).append([call, error])

    # --- queries for tests ------------------------------------------------------------
    def open_tasks(self) -> list[FakeTask]:
        return [t for t in self.tasks.values() if not t.closed]

    def batch_writes(self) -> list[Write]:
        return [w for w in self.writes if w.data.ndim == 2]

    def zero_writes(self) -> list[Write]:
        return [w for w in self.writes if w.data.ndim == 1 and not np.any(w.data)]

    def calls(self, method: str) -> list:
        return getattr(self.interpreter, method).call_args_list

    # --- the scripted interpreter ---------------------------------------------------------
    def _script(self) -> None:
        handlers = {
            name[3:]: getattr(self, name)
            for name in dir(type(self))
            if name.startswith("_h_") and callable(getattr(self, name))
        }
        for name in dir(BaseInterpreter):
            if name.startswith("_") or name == "driver_version":
                continue
            attr = getattr(self.interpreter, name)
            if name in handlers:
                attr.side_effect = self._guarded(name, handlers[name])
            else:
                attr.side_effect = AssertionError(f"unexpected NI-DAQmx call: {name}")

    def _guarded(self, name: str, handler):
        def call(*args, **kwargs):
            for entry in self.failures.get(name, []):
                entry[0] -= 1
                if entry[0] == 0:
                    self.failures[name].remove(entry)
                    raise entry[1]
            return handler(*args, **kwargs)

        return call

    def _task(self, handle: int) -> FakeTask:
        task = self.tasks.get(handle)
        if task is None or task.closed:
            raise daq_error(DAQmxErrors.INVALID_TASK)
        return task

    def _device_of(self, channel: str, kind: str) -> FakeDevice:
        device_name = channel.partition("/")[0]
        device = self.devices.get(device_name)
        if device is None:
            raise daq_error(
                DAQmxErrors.INVALID_DEVICE_ID, f"Device identifier is invalid: {device_name}"
            )
        if channel not in device.channels(kind):
            raise daq_error(
                DAQmxErrors.PHYSICAL_CHAN_DOES_NOT_EXIST,
                f"Physical channel specified does not exist on this device: {channel}",
            )
        return device

    def _h_create_task(self, session_name):
        handle = len(self.tasks) + 1
        self.tasks[handle] = FakeTask(handle, session_name or f"_unnamedTask<{handle}>")
        return handle, True

    def _h_hash_task_handle(self, task_handle):
        return hash(task_handle)

    def _h_get_task_attribute_string(self, task, attribute):
        assert attribute == TASK_NAME, hex(attribute)
        return self._task(task).name

    def _h_internal_get_last_created_chan(self):
        return self._last_chan

    def _h_create_ao_voltage_chan(
        self, task, physical_channel, name_to_assign_to_channel, min_val, max_val, units,
        custom_scale_name,
    ):  # fmt: skip
        t = self._task(task)
        device = self._device_of(physical_channel, "ao")
        assert units == VoltageUnits.VOLTS.value and custom_scale_name == ""
        lo, hi = device.ao_ranges[0], device.ao_ranges[1]
        if not (lo <= min_val < max_val <= hi):
            raise daq_error(DAQmxErrors.INVALID_ATTRIBUTE_VALUE, f"min/max {min_val}/{max_val}")
        t.ao.append(physical_channel)
        t.limits[physical_channel] = (min_val, max_val)
        self._last_chan = physical_channel

    def _h_create_ai_voltage_chan(
        self, task, physical_channel, name_to_assign_to_channel, terminal_config, min_val,
        max_val, units, custom_scale_name,
    ):  # fmt: skip
        t = self._task(task)
        self._device_of(physical_channel, "ai")
        assert terminal_config == TerminalConfiguration.DEFAULT.value
        assert units == VoltageUnits.VOLTS.value and min_val < max_val
        t.ai.append(physical_channel)
        t.limits[physical_channel] = (min_val, max_val)
        self._last_chan = physical_channel

    def _h_cfg_samp_clk_timing(self, task, rate, source, active_edge, sample_mode, samps_per_chan):
        t = self._task(task)
        assert sample_mode == AcquisitionType.FINITE.value, "only finite tasks here"
        assert active_edge == Edge.RISING.value and source == ""
        assert isinstance(samps_per_chan, int) and samps_per_chan > 0
        t.rate, t.samples = float(rate), samps_per_chan

    def _h_cfg_dig_edge_start_trig(self, task, trigger_source, trigger_edge):
        t = self._task(task)
        assert trigger_edge == Edge.RISING.value
        parts = trigger_source.split("/")
        if len(parts) != 4 or parts[0] != "" or parts[1] not in self.devices:
            raise daq_error(DAQmxErrors.INVALID_DEVICE_ID, f"bad terminal {trigger_source}")
        t.trigger = trigger_source

    def _h_get_write_attribute_uint32(self, task, attribute):
        assert attribute == AO_NUM_CHANS, hex(attribute)
        return len(self._task(task).ao)

    def _h_get_read_attribute_uint32(self, task, attribute):
        assert attribute == AI_NUM_CHANS, hex(attribute)
        return len(self._task(task).ai)

    def _h_write_analog_f64(
        self, task, num_samps_per_chan, auto_start, timeout, data_layout, write_array
    ):
        t = self._task(task)
        assert data_layout == FillMode.GROUP_BY_CHANNEL.value
        assert write_array.dtype == np.float64 and write_array.flags["C_CONTIGUOUS"]
        assert isinstance(timeout, (int, float)) and 0 < timeout < 1e4
        shape = (len(t.ao), num_samps_per_chan) if write_array.ndim == 2 else (len(t.ao),)
        assert write_array.shape == shape, (write_array.shape, shape)
        if t.samples is not None:
            assert num_samps_per_chan == t.samples, "a finite task takes one full buffer"
        frame = write_array.reshape(len(t.ao), -1)
        for name, row in zip(t.ao, frame):
            lo, hi = t.limits[name]
            if row.min() < lo or row.max() > hi:
                raise daq_error(DAQmxErrors.INVALID_AO_DATA_WRITE, cls=DaqWriteError)
        if auto_start and t.samples is None:
            self._reserve(t)
        self.writes.append(Write(task, tuple(t.ao), write_array.copy(), auto_start, timeout))
        t.frame = frame.copy()
        if auto_start and t.samples is None:  # on-demand: the outputs change now
            self.levels.update({name: float(v) for name, v in zip(t.ao, frame[:, -1])})
        return num_samps_per_chan

    def _reserve(self, t: FakeTask) -> None:
        """A running task holds its channels, as DAQmx does: a second task is refused."""
        for other in self.tasks.values():
            running = other is not t and other.started and not other.closed
            if running and set(other.ao + other.ai) & set(t.ao + t.ai):
                raise daq_error(
                    DAQmxErrors.PAL_RESOURCE_RESERVED, "The specified resource is reserved."
                )
        t.started = True

    def _h_start_task(self, task):
        t = self._task(task)
        self._reserve(t)
        if t.ao:
            assert t.frame is not None, "starting an AO task with nothing written"
            if t.trigger is None:
                t.fired = True
        if t.ai:
            t.acquired = self._acquisition(t)

    def _h_read_analog_f64(self, task, num_samps_per_chan, timeout, fill_mode, read_array):
        t = self._task(task)
        assert t.started and t.acquired is not None, "read before start"
        assert fill_mode == FillMode.GROUP_BY_CHANNEL.value
        assert read_array.dtype == np.float64 and read_array.flags["C_CONTIGUOUS"]
        assert read_array.flags["WRITEABLE"] and isinstance(timeout, float)
        assert (
            read_array.shape == (len(t.ai), num_samps_per_chan) and num_samps_per_chan == t.samples
        )
        self.read_timeouts.append(timeout)
        read_array[...] = t.acquired
        return read_array, num_samps_per_chan

    def _h_wait_until_task_done(self, task, time_to_wait):
        t = self._task(task)
        self.wait_timeouts.append(time_to_wait)
        if not (t.started and (t.fired or not t.ao)):
            raise daq_error(DAQmxErrors.WAIT_UNTIL_DONE_DOES_NOT_INDICATE_DONE)
        if t.ao and t.frame is not None:
            self.levels.update({name: float(v) for name, v in zip(t.ao, t.frame[:, -1])})

    def _h_stop_task(self, task):
        self._task(task).started = False

    def _h_clear_task(self, task):
        self._task(task).closed = True

    # --- the lab behind the channels ------------------------------------------------------
    def _acquisition(self, ai_task: FakeTask) -> np.ndarray:
        """What the AI channels see, given the AO tasks that are armed or running now."""
        chassis = self.devices[ai_task.ai[0].split("/")[0]].chassis
        start_trigger = f"/{chassis}/ai/StartTrigger"
        triggered, running = [], []
        for t in self.tasks.values():
            if t.ao and t.started and not t.closed and t.samples is not None:
                if t.trigger is None:
                    running.append(t)
                elif t.trigger == start_trigger:
                    t.fired = True
                    triggered.append(t)
        n = ai_task.samples
        k = np.arange(n)
        ao_rate = (triggered or running or [None])[0]
        io = 1 if ao_rate is None else ai_task.rate / ao_rate.rate
        assert io == int(io), "readout rate must be a multiple of the activation rate"
        io = int(io)
        if triggered:
            index, phase = np.maximum(k - 1, 0) // io, np.maximum(k - 1, 0) % io
        else:
            lag = self.lags.pop(0) if self.lags else self.default_lag
            index, phase = lag + k // io, k % io
        voltages: dict[str, np.ndarray] = {c: np.full(n, v) for c, v in self.levels.items()}
        for t in triggered + running:
            clipped = np.minimum(index, t.frame.shape[1] - 1)
            for name, row in zip(t.ao, t.frame):
                voltages[name] = row[clipped]
        zero = np.zeros(n)
        out = np.empty((len(ai_task.ai), n))
        for r, ai in enumerate(ai_task.ai):
            if ai in self.wires:
                out[r] = voltages.get(self.wires[ai], zero)
                continue
            signal = self.bias.get(ai, 0.0) + sum(
                w * voltages.get(ao, zero) for ao, w in self.gains.get(ai, {}).items()
            )
            if io > 1:
                signal = signal + self.ripple * np.cos(2 * math.pi * phase / io)
            out[r] = signal
        if triggered:
            out[:, 0] += JUNK_FIRST_SAMPLE_V
        return out

    # --- System / Device attributes -------------------------------------------------------
    def _dev(self, device_name: str) -> FakeDevice:
        if device_name not in self.devices:
            raise daq_error(DAQmxErrors.INVALID_DEVICE_ID)
        return self.devices[device_name]

    def _h_get_system_info_attribute_string(self, attribute):
        assert attribute == SYS_DEVICE_NAMES, hex(attribute)
        return ", ".join(self.devices)

    def _h_get_system_info_attribute_uint32(self, attribute):
        return {
            SYS_MAJOR: self.version[0],
            SYS_MINOR: self.version[1],
            SYS_UPDATE: self.version[2],
        }[attribute]

    def _h_get_device_attribute_string(self, device_name, attribute):
        d, what = self._dev(device_name), DEV_STRING[attribute]
        if what in ("ao", "ai"):
            return ", ".join(d.channels(what))
        if what == "modules":
            if not d.modules:
                raise daq_error(DAQmxErrors.ATTR_NOT_SUPPORTED)
            return ", ".join(d.modules)
        if what == "chassis" and not d.chassis:
            raise daq_error(DAQmxErrors.ATTR_NOT_SUPPORTED)
        return getattr(d, what)

    def _h_get_device_attribute_uint32(self, device_name, attribute):
        d, what = self._dev(device_name), DEV_UINT32[attribute]
        if what == "slot" and not d.chassis:
            raise daq_error(DAQmxErrors.ATTR_NOT_SUPPORTED)
        return getattr(d, what)

    def _h_get_device_attribute_int32(self, device_name, attribute):
        return getattr(self._dev(device_name), DEV_INT32[attribute]).value

    def _h_get_device_attribute_bool(self, device_name, attribute):
        return getattr(self._dev(device_name), DEV_BOOL[attribute])

    def _h_get_device_attribute_double(self, device_name, attribute):
        value = getattr(self._dev(device_name), DEV_DOUBLE[attribute])
        if not value:
            raise daq_error(DAQmxErrors.ATTR_NOT_SUPPORTED)
        return value

    def _h_get_device_attribute_double_array(self, device_name, attribute):
        value = getattr(self._dev(device_name), DEV_DOUBLE_ARRAY[attribute])
        if not value:
            raise daq_error(DAQmxErrors.ATTR_NOT_SUPPORTED)
        return list(value)


def install_fake(monkeypatch: pytest.MonkeyPatch, daq: FakeDAQ | None = None) -> FakeDAQ:
    """Route every nidaqmx interpreter selection to a FakeDAQ's autospec interpreter."""
    daq = daq or FakeDAQ()
    select = mock.create_autospec(REAL_SELECT_INTERPRETER, return_value=daq.interpreter)
    monkeypatch.setattr(ni_utils, "_select_interpreter", select)
    return daq


def install_missing_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as a PC without NI-DAQmx, even on one that has it."""
    from nidaqmx.errors import DaqNotFoundError

    select = mock.create_autospec(
        REAL_SELECT_INTERPRETER,
        side_effect=DaqNotFoundError("Could not find an installation of NI-DAQmx."),
    )
    monkeypatch.setattr(ni_utils, "_select_interpreter", select)


# --- configs and a wired lab for the device tests ---------------------------------------------
def cdaq_config(**driver) -> SamplingConfig:
    """The 7x1 small config (fs 1000 Hz, readout 2000 Hz, 50+2x10 points) on cdaq_to_cdaq."""
    data = small_config().to_bspysmg()
    data["driver"].update(driver)
    return SamplingConfig.model_validate(data)


def nidaq_config(**setup) -> SamplingConfig:
    """cdaq_to_nidaq: AO on cDAQ1Mod3 (ao7 left for the sync spike), readout on Dev1/ai0."""
    data = small_config().to_bspysmg()
    data["driver"]["instrument_type"] = "cdaq_to_nidaq"
    data["driver"]["instruments_setup"].update(
        {"activation_channels": [6, 0, 1, 5, 2, 4, 3], "readout_instrument": "Dev1", **setup}
    )
    return SamplingConfig.model_validate(data)


def multi_config() -> SamplingConfig:
    """Two DNPUs with masks: 3 of 4 channels on cDAQ1Mod3, 4 of 5 on cDAQ1Mod1; 2 readouts."""
    data = small_config().to_bspysmg()
    setup = data["driver"]["instruments_setup"]
    for key in ("activation_instrument", "activation_channels", "activation_voltage_ranges",
                "activation_channel_mask", "readout_instrument", "readout_channels"):  # fmt: skip
        setup.pop(key, None)
    setup["multiple_devices"] = True
    setup["dnpu_a"] = {
        "activation_instrument": "cDAQ1Mod3",
        "activation_channels": [0, 1, 2, 3],
        "activation_voltage_ranges": [[-1.2, 0.6], [-1.0, 1.0], [-0.7, 0.3], [-0.5, 0.5]],
        "activation_channel_mask": [1, 0, 1, 1],
        "readout_instrument": "cDAQ1Mod4",
        "readout_channels": [0],
    }
    setup["dnpu_b"] = {
        "activation_instrument": "cDAQ1Mod1",
        "activation_channels": [5, 6, 7, 8, 9],
        "activation_voltage_ranges": [[-1.2, 0.6]] * 3 + [[-0.7, 0.3]] * 2,
        "activation_channel_mask": [1, 1, 0, 1, 1],
        "readout_instrument": "cDAQ1Mod2",
        "readout_channels": [1],
    }
    data["driver"]["amplification"] = [39.17, 10.0]
    data["driver"]["inverted_output"] = False
    data["input_data"]["readout_electrode_no"] = 2
    cfg = SamplingConfig.model_validate(data)
    assert cfg.problems() == [], cfg.problems()
    return cfg


def wired_lab(config: SamplingConfig, daq: FakeDAQ | None = None) -> FakeDAQ:
    """Readout r reads bias_r + sum_j 0.1 (j+1)(r+1)/n x electrode j; the sync cable if any."""
    daq = daq or FakeDAQ()
    layout = config.layout()
    n = len(layout.activation_channels)
    for r, ai in enumerate(layout.readout_channels):
        gains = {ao: 0.1 * (j + 1) * (r + 1) / n for j, ao in enumerate(layout.activation_channels)}
        daq.connect(ai, gains, bias=0.05 * (r + 1))
    if config.driver.instrument_type == "cdaq_to_nidaq":
        blocks = list(config.driver.instruments_setup.blocks().values())
        daq.wire(f"{blocks[0].activation_instrument}/ao7", f"{blocks[0].readout_instrument}/ai7")
    return daq


def expected_nA(config: SamplingConfig, daq: FakeDAQ, inputs: np.ndarray) -> np.ndarray:
    """(rows, n_outputs) nA the wired lab must give for (rows, n_inputs) activation volts."""
    layout = config.layout()
    sign = -1.0 if config.driver.inverted_output else 1.0
    out = np.empty((len(inputs), len(layout.readout_channels)))
    for r, ai in enumerate(layout.readout_channels):
        weights = np.array([daq.gains[ai][ao] for ao in layout.activation_channels])
        out[:, r] = (daq.bias[ai] + inputs @ weights) * config.amplification[r] * sign
    return out


# --- the fake held to the driver's contract ---------------------------------------------------
@pytest.fixture
def daq(monkeypatch) -> FakeDAQ:
    return install_fake(monkeypatch)


def test_real_task_code_reaches_the_fake_and_wrong_calls_fail(daq):
    import nidaqmx

    with nidaqmx.Task() as task:
        task.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        assert task.name == "_unnamedTask<1>"
        with pytest.raises(AssertionError, match="unexpected NI-DAQmx call"):
            task.ao_channels.add_ao_current_chan("cDAQ1Mod3/ao1")
        with pytest.raises(TypeError):  # the autospec enforces the driver's signatures
            daq.interpreter.start_task(task=1, bogus=2)
    assert daq.open_tasks() == []


def test_fake_rejects_a_wrongly_shaped_write_through_the_real_writer(daq):
    import nidaqmx
    from nidaqmx.stream_writers import AnalogMultiChannelWriter

    with nidaqmx.Task() as task:
        for ch in ("cDAQ1Mod3/ao0", "cDAQ1Mod3/ao1"):
            task.ao_channels.add_ao_voltage_chan(ch, min_val=-1.0, max_val=1.0)
        task.timing.cfg_samp_clk_timing(1000, sample_mode=AcquisitionType.FINITE, samps_per_chan=5)
        writer = AnalogMultiChannelWriter(task.out_stream)
        with pytest.raises(DaqError):  # nidaqmx's own shape check: 3 rows for 2 channels
            writer.write_many_sample(np.zeros((3, 5)))
        with pytest.raises(AssertionError, match="full buffer"):
            writer.write_many_sample(np.zeros((2, 4)))
        assert writer.write_many_sample(np.zeros((2, 5))) == 5
    assert len(daq.writes) == 1


def test_fake_unknown_channel_and_injected_failures(daq):
    import nidaqmx

    with nidaqmx.Task() as task:
        with pytest.raises(DaqError) as info:
            task.ai_channels.add_ai_voltage_chan("cDAQ9Mod1/ai0")
        assert info.value.error_type == DAQmxErrors.INVALID_DEVICE_ID
        daq.fail("start_task", daq_error(DAQmxErrors.PAL_RESOURCE_RESERVED), call=2)
        task.ai_channels.add_ai_voltage_chan("cDAQ1Mod4/ai0")
        task.timing.cfg_samp_clk_timing(2000, sample_mode=AcquisitionType.FINITE, samps_per_chan=3)
        task.start()
        task.stop()
        with pytest.raises(DaqError) as info:
            task.start()
        assert info.value.error_code == -50103


def test_fake_reserves_the_channels_of_a_running_task(daq):
    import nidaqmx
    from nidaqmx.stream_writers import AnalogMultiChannelWriter

    with nidaqmx.Task() as running, nidaqmx.Task() as other:
        running.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        running.timing.cfg_samp_clk_timing(
            1000, sample_mode=AcquisitionType.FINITE, samps_per_chan=2
        )
        AnalogMultiChannelWriter(running.out_stream).write_many_sample(np.zeros((1, 2)))
        running.start()
        other.ao_channels.add_ao_voltage_chan("cDAQ1Mod3/ao0", min_val=-1.0, max_val=1.0)
        writer = AnalogMultiChannelWriter(other.out_stream, auto_start=True)
        with pytest.raises(DaqError) as info:
            writer.write_one_sample(np.zeros(1))
        assert info.value.error_type == DAQmxErrors.PAL_RESOURCE_RESERVED
        running.stop()
        writer.write_one_sample(np.zeros(1))
    assert daq.levels == {"cDAQ1Mod3/ao0": 0.0}
