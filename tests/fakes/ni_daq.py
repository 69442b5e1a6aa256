"""A scripted NI-DAQmx driver for running the REAL nidaqmx Task code without hardware.

As nidaqmx-python's own unit tests do, `nidaqmx.utils._select_interpreter` is
patched to return `create_autospec(BaseInterpreter)`: every Task, channel,
timing, trigger, stream reader/writer and System call of the real package runs
and ends in this interpreter, whose signatures are the driver's own. A wrong
call, argument name or array shape therefore fails. Unscripted calls fail too.

Behind the interpreter sits a model of a lab that behaves as hardware does:
the devices of `ni_hardware` (coerced sample clocks, terminals), a DNPU whose
readout is a known linear function of the activation voltages, AO and AI
voltage offsets, clocks off by some ppm and a readout that starts a real-valued
number of activation periods late (`ni_signals`), a junk first sample on
triggered reads, routes resolved at commit/start, channels reserved by committed
and running tasks, outputs that hold the last sample of a finished generation
and stop where an aborted one left them (unless a channel's idle behaviour is
0 V), a scope of every value each output took (`ni_outputs`), and hooks to
inject any DaqError into any call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from unittest import mock

import numpy as np
import pytest
from nidaqmx import utils as ni_utils
from nidaqmx._base_interpreter import BaseInterpreter
from nidaqmx.constants import (
    AcquisitionType,
    Edge,
    FillMode,
    TaskMode,
    TerminalConfiguration,
    VoltageUnits,
)
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqWriteError

from fakes.ni_hardware import FakeDevice, daq_error, lab_devices
from fakes.ni_outputs import OutputScope
from fakes.ni_signals import LabSignals
from fakes.ni_system import SystemAttributes

# DAQmx attribute ids the real nidaqmx code reads (from its generated sources).
TASK_NAME, AI_NUM_CHANS, AO_NUM_CHANS = 0x1276, 0x217B, 0x217E
SAMP_CLK_RATE, TOTAL_SAMP_GENERATED = 0x1344, 0x192B

#: The real selector, kept as the spec for its stand-ins even once a test patched it.
REAL_SELECT_INTERPRETER = ni_utils._select_interpreter


@dataclass
class FakeTask:
    handle: int
    name: str
    ao: list[str] = field(default_factory=list)
    ai: list[str] = field(default_factory=list)
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    rate: float | None = None  # as requested
    actual: float | None = None  # as the device's clock makes it
    samples: int | None = None
    trigger: str | None = None
    frame: np.ndarray | None = None  # AO data written, (channels, samples)
    acquired: np.ndarray | None = None  # AI data produced at start
    verified: bool = False
    committed: bool = False
    started: bool = False
    fired: bool = False
    generated: int | None = None  # AO samples out; None while generating
    closed: bool = False
    idle: dict[str, int] = field(default_factory=dict)  # AO idle output behaviour set


@dataclass
class Write:
    handle: int
    channels: tuple[str, ...]
    data: np.ndarray
    auto_start: bool
    timeout: float


class FakeDAQ(SystemAttributes, LabSignals, OutputScope):
    """The fake driver; `interpreter` is the autospec the real nidaqmx code talks to."""

    def __init__(self, devices: list[FakeDevice] | None = None, version=(24, 5, 0)) -> None:
        self.devices = {d.name: d for d in (lab_devices() if devices is None else devices)}
        self.version = version
        self.tasks: dict[int, FakeTask] = {}
        self.writes: list[Write] = []
        self.read_timeouts: list[float] = []
        self.wait_timeouts: list[float] = []
        self.levels: dict[str, float] = {}  # what each AO channel is told to output now
        self.scope: dict[str, list[np.ndarray]] = {}  # every value each AO channel took
        self.gains: dict[str, dict[str, float]] = {}  # ai <- {ao: V/V}
        self.bias: dict[str, float] = {}
        self.wires: dict[str, str] = {}  # ai <- ao, copied 1:1 (the sync cable)
        self.ao_offsets: dict[str, float] = {}  # V an AO channel puts out beyond its level
        self.ai_offsets: dict[str, float] = {}  # V an AI channel reads beyond its input
        self.clock_ppm: dict[str, float] = {}  # device (or its chassis) -> clock error
        self.ripple = 0.01
        self.noise_v = 0.0
        self.rng = np.random.default_rng(0)
        #: AI channels answering as an NI MAX simulated device does: a full-scale sine
        #: with 3 % full-scale noise, whatever is wired (channel -> samples per cycle).
        self.nimax_sine: dict[str, float] = {}
        self.lags: list[float] = []  # AO periods an untriggered readout starts late
        self.default_lag = 2.0
        self.abort_generated: int | None = None  # AO samples out when a batch is aborted
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
            due = None
            for entry in list(self.failures.get(name, [])):  # every entry counts every call
                entry[0] -= 1
                if entry[0] == 0 and due is None:
                    self.failures[name].remove(entry)
                    due = entry[1]
            if due is not None:
                raise due
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
        assert t.ao or t.ai, "timing before any channel"
        device = self.devices[(t.ao or t.ai)[0].partition("/")[0]]
        t.rate, t.actual, t.samples = float(rate), device.coerced(float(rate)), samps_per_chan
        t.verified = t.committed = False

    def _h_get_timing_attribute_double(self, task, attribute):
        assert attribute == SAMP_CLK_RATE, hex(attribute)
        t = self._task(task)
        assert t.rate is not None, "no sample clock configured"
        # As DAQmx: the coerced rate is known once the task is verified.
        return t.actual if (t.verified or t.committed or t.started) else t.rate

    def _h_cfg_dig_edge_start_trig(self, task, trigger_source, trigger_edge):
        t = self._task(task)
        assert trigger_edge == Edge.RISING.value
        t.trigger = trigger_source  # resolved at commit/start, as DAQmx does
        t.verified = t.committed = False

    def _resolve_route(self, t: FakeTask) -> None:
        """Make the start-trigger route of `t`, or fail as DAQmx does at commit/start."""
        if t.trigger is None:
            return
        device_name = t.trigger.strip("/").split("/")[0]
        device = self.devices.get(device_name)
        if device is None:
            raise daq_error(
                DAQmxErrors.DEV_ABSENT_OR_UNAVAILABLE_ROUTING,
                f"Device not available for routing: {device_name}",
            )
        if t.trigger.lower() not in {term.lower() for term in device.terminals}:
            raise daq_error(
                DAQmxErrors.INVALID_ROUTING_SOURCE_TERMINAL_NAME_ROUTING,
                f"Source terminal to be routed could not be found on the device: {t.trigger}",
            )
        if t.ao and self._clock_of(t.ao[0]) != device_name:
            raise daq_error(
                DAQmxErrors.NO_COMMON_TRIG_LINE_FOR_ROUTE_ROUTING,
                f"No common trigger line between {t.trigger} and {t.ao[0]}",
            )

    def _check_free(self, t: FakeTask) -> None:
        """Channels held by a committed or running task are refused to any other."""
        for other in self.tasks.values():
            holds = other is not t and (other.started or other.committed) and not other.closed
            if holds and set(other.ao + other.ai) & set(t.ao + t.ai):
                raise daq_error(
                    DAQmxErrors.PAL_RESOURCE_RESERVED, "The specified resource is reserved."
                )

    def _h_task_control(self, task, action):
        t = self._task(task)
        if action == TaskMode.TASK_VERIFY.value:
            t.verified = True
        elif action == TaskMode.TASK_COMMIT.value:
            self._resolve_route(t)
            self._check_free(t)
            t.verified = t.committed = True
        else:
            raise AssertionError(f"unexpected task control {action}")

    def _h_get_write_attribute_uint32(self, task, attribute):
        assert attribute == AO_NUM_CHANS, hex(attribute)
        return len(self._task(task).ao)

    def _h_get_write_attribute_uint64(self, task, attribute):
        assert attribute == TOTAL_SAMP_GENERATED, hex(attribute)
        t = self._task(task)
        return int(t.generated or 0)

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
            self._check_free(t)
            t.started = True
        self.writes.append(Write(task, tuple(t.ao), write_array.copy(), auto_start, timeout))
        t.frame = frame.copy()
        if auto_start and t.samples is None:  # on-demand: the outputs change now
            self._drive(t.ao, frame[:, -1:])
        return num_samps_per_chan

    def _h_start_task(self, task):
        t = self._task(task)
        if not t.committed:
            self._resolve_route(t)
        self._check_free(t)
        t.started, t.verified = True, True
        if t.ao:
            assert t.frame is not None, "starting an AO task with nothing written"
            t.generated = None
            t.fired = t.trigger is None
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
        if t.ao and t.frame is not None and t.generated is None:
            t.generated = t.samples
            self._generation_ended(t, t.samples)

    def _h_stop_task(self, task):
        t = self._task(task)
        if t.ao and t.started and t.generated is None and t.frame is not None:
            # Stopped mid-generation: the outputs hold the last sample that went out.
            out = 0 if not t.fired else self.abort_generated
            out = t.frame.shape[1] // 2 if out is None else min(int(out), t.frame.shape[1])
            t.generated = out
            self._generation_ended(t, out)
        t.started = False

    def _h_clear_task(self, task):
        self._task(task).closed = True


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
