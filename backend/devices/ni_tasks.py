"""NI-DAQmx tasks built from an `NIPlan`: the batch pair, the 0 V write, ramps.

Every write to an AO task goes through `write_checked`, which repeats the safety
check right before the driver call, so no refactor can put an unchecked sample
on a device. Tasks are closed on every way out; closing logs, never masks, the
error already on its way.

Timed AO channels are asked to keep their last value when no generation runs
(`ao_idle_output_behavior`): a finite task then holds its last sample once it
is done, which held levels rely on, and a ramp down after an aborted batch
starts where the outputs really are. Modules without the property hold their
last value anyway.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

import numpy as np

from backend.acquisition.safety import check_batch, check_held, check_levels
from backend.config import GLOBAL_VOLTAGE_LIMIT, SamplingConfig
from backend.devices.ni_driver import (
    batch_timeout_s,
    driver_version,
    nidaqmx_module,
    translated,
)
from backend.devices.ni_plan import (
    ChannelPlan,
    NIPlan,
    ni_plan,
    rate_mismatches,
    start_trigger_terminal,
)
from backend.errors import DeviceError, DriverNotFoundError, SafetyError, SampleClockError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldStart:
    """What a held write continues from: the electrodes' level now (V) and the bound."""

    level: np.ndarray  # (n_electrodes,) the first rows of the AO task
    slew_v_per_s: float
    fs: float


def write_checked(
    writer: Any,
    data: np.ndarray,
    ranges: np.ndarray,
    names: tuple[str, ...],
    timeout: float,
    from_level: bool = False,
    held: HeldStart | None = None,
) -> None:
    """The only path from samples to an AO task: check every sample, then write.

    A batch must start and end at 0 V; a ramp down (`from_level`) must end there;
    a held frame or ramp (`held`) must continue from the electrodes' level within
    the slew bound, and any row after the electrodes (the sync output) must start
    and end at 0 V.
    """
    if held is not None:
        n = len(held.level)
        check_levels(data, ranges, GLOBAL_VOLTAGE_LIMIT, names)
        check_held(
            data[:n], ranges[:n], held.level, held.slew_v_per_s, held.fs,
            GLOBAL_VOLTAGE_LIMIT, names[:n],
        )  # fmt: skip
        if np.any(data[n:, 0] != 0.0) or np.any(data[n:, -1] != 0.0):
            raise SafetyError("refused a held frame whose sync output does not rest at 0 V")
    elif from_level:
        check_levels(data, ranges, GLOBAL_VOLTAGE_LIMIT, names)
        if np.any(data[:, -1] != 0.0):
            raise SafetyError("refused a ramp down that does not end at 0 V")
    else:
        check_batch(data, ranges, GLOBAL_VOLTAGE_LIMIT, names)
    writer.write_many_sample(data, timeout=timeout)


def close_quietly(task: Any) -> None:
    """Clear a task while another error is on its way out; log, do not mask it."""
    try:
        task.close()
    except Exception as exc:
        log.warning("could not clear an NI-DAQmx task: %s", exc)


@dataclass
class BatchTasks:
    """An AO/AI task pair sized for ramped batches of `points` activation points."""

    points: int
    ao: Any
    ai: Any
    writer: Any
    reader: Any
    write_buffer: np.ndarray  # (n_ao, write_points) V, refilled every batch
    read_buffer: np.ndarray  # (n_ai, read_points) V, filled by the reader
    timeout: float  # seconds for one write, read or wait
    rates: tuple[float, float] = (0.0, 0.0)  # sample clocks read back after commit (Hz)

    def stop_failed(
        self, before: np.ndarray | None = None, started: bool = True
    ) -> np.ndarray | None:
        """Stop a run cut short; the AO level it left per channel (V), None if unknown.

        `before` is the level the outputs held before its first sample (0 V for a batch);
        `started` False: the AO task of this run never started, so they are still there.
        """
        for task in (self.ai, self.ao):
            try:
                task.stop()
            except Exception as exc:
                log.warning("could not stop an NI-DAQmx task after a failed batch: %s", exc)
        if not started:
            return np.zeros(len(self.write_buffer)) if before is None else before.copy()
        try:
            generated = int(self.ao.out_stream.total_samp_per_chan_generated)
        except Exception as exc:
            log.warning("cannot tell where the outputs stopped: %s", exc)
            return None
        if generated <= 0:
            return np.zeros(len(self.write_buffer)) if before is None else before.copy()
        return self.write_buffer[:, min(generated, self.write_buffer.shape[1]) - 1].copy()

    def close(self) -> None:
        """Stop and clear both tasks; log (not raise) what fails: we may be unwinding."""
        for task in (self.ao, self.ai):
            for step in (task.stop, task.close):
                try:
                    step()
                except Exception as exc:
                    log.warning("NI-DAQmx task %s failed while closing: %s", step.__name__, exc)


def _add_ao(task: Any, channels: tuple[ChannelPlan, ...], ni: ModuleType | None = None) -> None:
    """The AO channels; with `ni` (a timed task) each keeps its last value when idle."""
    for c in channels:
        channel = task.ao_channels.add_ao_voltage_chan(c.name, min_val=c.min_v, max_val=c.max_v)
        if ni is not None:
            _keep_last_value(ni, channel)


#: What DAQmx answers when a module has no idle-output-behaviour setting.
_NOT_SETTABLE = ("ATTRIBUTE_NOT_SUPPORTED_IN_TASK_CONTEXT", "ATTRIBUTE_NOT_SUPPORTED_UNLESS_HWTSP")


def _keep_last_value(ni: ModuleType, channel: Any) -> None:
    """Ask an AO channel to hold its last sample while no generation runs (not 0 V)."""
    try:
        channel.ao_idle_output_behavior = ni.constants.AOIdleOutputBehavior.MAINTAIN_EXISTING_VALUE
    except ni.errors.DaqError as exc:
        codes = {getattr(ni.error_codes.DAQmxErrors, n).value for n in _NOT_SETTABLE}
        if exc.error_code not in codes:
            raise
        log.debug("%s has no idle output setting; it holds its last value", channel.name)


def _add_ai(task: Any, channels: tuple[ChannelPlan, ...]) -> None:
    for c in channels:
        task.ai_channels.add_ai_voltage_chan(c.name, min_val=c.min_v, max_val=c.max_v)


def create_batch_tasks(ni: ModuleType, plan: NIPlan, points: int, margin_s: float) -> BatchTasks:
    """Both tasks for ramped batches of `points`, configured and committed, rates checked.

    Committing resolves the start-trigger route and reserves the channels now, so
    a wrong `trigger_source` or a busy module fails before any recording exists.
    """
    finite = ni.constants.AcquisitionType.FINITE
    commit = ni.constants.TaskMode.TASK_COMMIT
    write_points, read_points = plan.write_points(points), plan.read_points(points)
    created: list[Any] = []
    try:
        with translated("setting up the NI-DAQmx tasks"):
            ao = ni.Task()
            created.append(ao)
            _add_ao(ao, plan.activation.channels, ni)
            ao.timing.cfg_samp_clk_timing(
                plan.activation.rate_hz, sample_mode=finite, samps_per_chan=write_points
            )
            ai = ni.Task()
            created.append(ai)
            _add_ai(ai, plan.readout.channels)
            ai.timing.cfg_samp_clk_timing(
                plan.readout.rate_hz, sample_mode=finite, samps_per_chan=read_points
            )
            if plan.activation.trigger:
                ao.triggers.start_trigger.cfg_dig_edge_start_trig(plan.activation.trigger)
        route = f" (start trigger {plan.activation.trigger})" if plan.activation.trigger else ""
        with translated(f"committing the NI-DAQmx tasks{route}"):
            ai.control(commit)
            ao.control(commit)
        with translated("reading back the sample clock rates"):
            rates = (float(ao.timing.samp_clk_rate), float(ai.timing.samp_clk_rate))
        wrong = rate_mismatches(plan, *rates)
        if wrong:
            raise SampleClockError(
                "the hardware would not sample at the configured rates: " + "; ".join(wrong),
                "Choose rates the modules make exactly (see `samplelab devices --plan "
                "CONFIG`), keeping readout an integer multiple of activation; nothing was "
                "sampled.",
            )
    except BaseException:
        for task in created:
            close_quietly(task)
        raise
    return BatchTasks(
        points=points,
        ao=ao,
        ai=ai,
        writer=ni.stream_writers.AnalogMultiChannelWriter(ao.out_stream),
        reader=ni.stream_readers.AnalogMultiChannelReader(ai.in_stream),
        write_buffer=np.zeros((len(plan.activation.channels), write_points)),
        read_buffer=np.zeros((len(plan.readout.channels), read_points)),
        timeout=plan.timeout_for(points, margin_s),
        rates=rates,
    )


def zero_outputs(ni: ModuleType, channels: tuple[ChannelPlan, ...], timeout: float) -> None:
    """0 V on `channels` now, by an on-demand write through a fresh task."""
    with translated("driving the outputs to 0 V"):
        task = ni.Task()
        try:
            _add_ao(task, channels)
            writer = ni.stream_writers.AnalogMultiChannelWriter(task.out_stream, auto_start=True)
            writer.write_one_sample(np.zeros(len(channels)), timeout=timeout)
        except BaseException:
            close_quietly(task)
            raise
        task.close()


def ramp_outputs_down(
    ni: ModuleType,
    channels: tuple[ChannelPlan, ...],
    level: np.ndarray,
    ranges: np.ndarray,
    ramp_points: int,
    rate_hz: float,
    margin_s: float,
) -> None:
    """A finite generation from `level` (V per channel) straight down to 0 V.

    Used after a batch was cut short, so the outputs never step to 0 V from where
    the waves left them; same rate and duration as the config's ramps.
    """
    points = max(2, int(ramp_points))
    data = np.ascontiguousarray(np.asarray(level, dtype=float)[:, None] * np.linspace(1, 0, points))
    generate_checked(ni, channels, data, ranges, rate_hz, margin_s, from_level=True)


def generate_checked(
    ni: ModuleType,
    channels: tuple[ChannelPlan, ...],
    data: np.ndarray,
    ranges: np.ndarray,
    rate_hz: float,
    margin_s: float,
    from_level: bool = False,
    held: HeldStart | None = None,
) -> None:
    """One finite generation of `data` (channels, points) on a fresh task, nothing read.

    A ramp: down after a cut-short batch (`from_level`) or between held levels
    (`held`); written through `write_checked` with that rule. The channels keep
    the last sample afterwards.
    """
    points = data.shape[1]
    names = tuple(c.name for c in channels)
    timeout = batch_timeout_s(points, rate_hz, margin_s)
    finite = ni.constants.AcquisitionType.FINITE
    what = "ramping the outputs down to 0 V" if from_level else "ramping the held outputs"
    with translated(what):
        task = ni.Task()
        try:
            _add_ao(task, channels, ni)
            task.timing.cfg_samp_clk_timing(rate_hz, sample_mode=finite, samps_per_chan=points)
            writer = ni.stream_writers.AnalogMultiChannelWriter(task.out_stream)
            write_checked(writer, data, ranges, names, timeout, from_level, held)
            task.start()
            task.wait_until_done(timeout=timeout)
            task.stop()
        except BaseException:
            close_quietly(task)
            raise
        task.close()


@dataclass(frozen=True)
class PlanProbe:
    """What an installed driver makes of a plan, found without reserving anything."""

    driver_version: str | None  # None: no driver here, so nothing was checked
    ao_rate_hz: float | None = None  # the sample clocks NI-DAQmx would run
    ai_rate_hz: float | None = None
    trigger_known: bool | None = None  # the terminal is among its device's terminals
    problems: tuple[str, ...] = ()
    message: str = ""  # why nothing was checked

    def to_dict(self) -> dict:
        return asdict(self)


def probe_plan(ni: ModuleType, plan: NIPlan, version: str) -> PlanProbe:
    """Configure the plan's tasks, verify them (no reservation, no output), read rates, clear."""
    problems: list[str] = []
    rates: list[float | None] = [None, None]
    finite = ni.constants.AcquisitionType.FINITE
    verify = ni.constants.TaskMode.TASK_VERIFY
    for i, task_plan in enumerate((plan.activation, plan.readout)):
        try:
            with translated(f"checking the {task_plan.kind} task"):
                task = ni.Task()
                try:
                    (_add_ao if task_plan.kind == "AO" else _add_ai)(task, task_plan.channels)
                    task.timing.cfg_samp_clk_timing(
                        task_plan.rate_hz,
                        sample_mode=finite,
                        samps_per_chan=task_plan.samples_per_channel,
                    )
                    task.control(verify)
                    rates[i] = float(task.timing.samp_clk_rate)
                finally:
                    close_quietly(task)
        except DeviceError as exc:
            problems.append(exc.message)
    known = None
    if plan.activation.trigger:
        device = plan.activation.trigger.strip("/").split("/")[0]
        try:
            with translated(f"listing the terminals of {device}"):
                terminals = {t.lower() for t in ni.system.Device(device).terminals}
            known = start_trigger_terminal(plan.activation.trigger).lower() in terminals
        except DeviceError as exc:
            problems.append(exc.message)
    if None not in rates:
        problems += rate_mismatches(plan, rates[0], rates[1])
    if known is False:
        problems.append(
            f"{plan.activation.trigger} is not among the terminals NI-DAQmx lists for its "
            "device; check trigger_source"
        )
    return PlanProbe(version, rates[0], rates[1], known, tuple(problems))


def checked_plan(config: SamplingConfig) -> tuple[NIPlan, PlanProbe]:
    """`config`'s plan, and what this PC's NI-DAQmx makes of it (if it has one)."""
    plan = ni_plan(config)
    try:
        ni = nidaqmx_module()
        version = driver_version()
    except DriverNotFoundError as exc:
        return plan, PlanProbe(None, problems=(), message=exc.message)
    return plan, probe_plan(ni, plan, version)
