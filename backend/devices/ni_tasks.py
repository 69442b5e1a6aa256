"""NI-DAQmx tasks built from an `NIPlan`: the batch pair, the 0 V write, the ramp down.

Every write to an AO task goes through `write_checked`, which repeats the safety
check right before the driver call, so no refactor can put an unchecked sample
on a device. Tasks are closed on every way out; closing logs, never masks, the
error already on its way.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

import numpy as np

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
from backend.safety import check_batch, check_levels

log = logging.getLogger(__name__)


def write_checked(
    writer: Any,
    data: np.ndarray,
    ranges: np.ndarray,
    names: tuple[str, ...],
    timeout: float,
    from_level: bool = False,
) -> None:
    """The only path from samples to an AO task: check every sample, then write.

    A batch must start and end at 0 V; a ramp down (`from_level`) must end there.
    """
    if from_level:
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

    def stop_failed(self) -> np.ndarray | None:
        """Stop a batch cut short; the AO level it left per channel (V), None if unknown."""
        for task in (self.ai, self.ao):
            try:
                task.stop()
            except Exception as exc:
                log.warning("could not stop an NI-DAQmx task after a failed batch: %s", exc)
        try:
            generated = int(self.ao.out_stream.total_samp_per_chan_generated)
        except Exception as exc:
            log.warning("cannot tell where the outputs stopped: %s", exc)
            return None
        if generated <= 0 or generated >= self.write_buffer.shape[1]:
            return np.zeros(self.write_buffer.shape[0])  # before the first, or after the last 0 V
        return self.write_buffer[:, generated - 1].copy()

    def close(self) -> None:
        """Stop and clear both tasks; log (not raise) what fails: we may be unwinding."""
        for task in (self.ao, self.ai):
            for step in (task.stop, task.close):
                try:
                    step()
                except Exception as exc:
                    log.warning("NI-DAQmx task %s failed while closing: %s", step.__name__, exc)


def _add_ao(task: Any, channels: tuple[ChannelPlan, ...]) -> None:
    for c in channels:
        task.ao_channels.add_ao_voltage_chan(c.name, min_val=c.min_v, max_val=c.max_v)


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
            _add_ao(ao, plan.activation.channels)
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
    names = tuple(c.name for c in channels)
    timeout = batch_timeout_s(points, rate_hz, margin_s)
    finite = ni.constants.AcquisitionType.FINITE
    with translated("ramping the outputs down to 0 V"):
        task = ni.Task()
        try:
            _add_ao(task, channels)
            task.timing.cfg_samp_clk_timing(rate_hz, sample_mode=finite, samps_per_chan=points)
            writer = ni.stream_writers.AnalogMultiChannelWriter(task.out_stream)
            write_checked(writer, data, ranges, names, timeout, from_level=True)
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
