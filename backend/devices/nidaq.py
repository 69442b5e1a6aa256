"""NI-DAQmx hardware behind the Device protocol, through the official `nidaqmx` API.

One ramped batch = one finite generation on the activation (AO) task and one
finite acquisition on the readout (AI) task; every `readout/activation` readout
points are averaged into one. Two wirings, as the lab's configs name them:

- `cdaq_to_cdaq`: AO and AI share a chassis; the AO start is triggered by the
  AI start trigger, so the AI reads io*N + 1 points and drops the first.
- `cdaq_to_nidaq`: no shared trigger. An extra sync output (ao7 of the first
  activation instrument, +-5 V) carries one 1 V spike after int(fs*0.04) zero
  points into ai7 of the first readout instrument; the readout is aligned on
  the spike, retrying the batch when the spike is missing.

Tasks are reused while batches keep their length and closed on every way out.
Every write goes through `_write_checked`, which repeats the safety check right
before the driver call, so no refactor can put an unchecked sample on a device.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.config import ADC_LIMIT_V, GLOBAL_VOLTAGE_LIMIT, SamplingConfig
from backend.devices.base import Device
from backend.devices.ni_driver import (
    DEFAULT_TIMEOUT_MARGIN_S,
    batch_timeout_s,
    driver_version,
    nidaqmx_module,
    translated,
)
from backend.errors import DeviceError, SafetyError
from backend.safety import check_batch
from backend.waves import RampedBatch

log = logging.getLogger(__name__)

#: Every configured activation range must lie strictly inside this (V).
HARD_RANGE_LIMIT_V = 2.0
#: Margin around each activation range given to the driver as min_val/max_val (V).
AO_RANGE_MARGIN_V = 0.01
#: The sync spike (cdaq_to_nidaq): its height, its channels' range, the lead-in.
SYNC_SPIKE_V = 1.0
SYNC_RANGE_V = 5.0
SYNC_LEAD_S = 0.04
SYNC_AO_CHANNEL, SYNC_AI_CHANNEL = 7, 7
#: An averaged sync reading below this is "no spike" (half the spike's height).
SYNC_THRESHOLD_V = 0.5
#: Attempts per batch before a missing sync spike becomes an error (as the peer).
DEFAULT_SYNC_ATTEMPTS = 4


def sync_lead_points(fs: int) -> int:
    """Zero points sent before the sync spike, giving the readout time to start."""
    return int(fs * SYNC_LEAD_S)


def spike_position(sync: np.ndarray, points: int) -> int | None:
    """Index of the sync spike in an averaged sync reading, or None when unusable.

    Unusable: too low to be the spike, at index 0 (the readout may have started
    after it), or so late that fewer than `points` readings follow it.
    """
    at = int(np.argmax(sync))
    if sync[at] < SYNC_THRESHOLD_V or at == 0 or at + points > len(sync):
        return None
    return at


def averaged(readings: np.ndarray, io_points: int) -> np.ndarray:
    """(channels, k*io) readout samples -> (channels, k): each io group's mean."""
    channels, total = readings.shape
    return readings.reshape(channels, total // io_points, io_points).mean(axis=2)


def _write_checked(
    writer: Any,
    data: np.ndarray,
    ranges: np.ndarray,
    names: tuple[str, ...],
    timeout: float,
) -> None:
    """The only path from a batch to the driver: check every sample, then write."""
    check_batch(data, ranges, GLOBAL_VOLTAGE_LIMIT, names)
    writer.write_many_sample(data, timeout=timeout)


def _close_quietly(task: Any) -> None:
    """Clear a task while another error is on its way out; log, do not mask it."""
    try:
        task.close()
    except Exception as exc:
        log.warning("could not clear an NI-DAQmx task: %s", exc)


@dataclass
class _BatchTasks:
    """An AO/AI task pair sized for ramped batches of `points` activation points."""

    points: int
    ao: Any
    ai: Any
    writer: Any
    reader: Any
    write_buffer: np.ndarray  # (n_ao, write_points) V, refilled every batch
    read_buffer: np.ndarray  # (n_ai, read_points) V, filled by the reader
    timeout: float  # seconds for one write, read or wait

    def close(self) -> None:
        """Stop and clear both tasks; log (not raise) what fails: we may be unwinding."""
        for task in (self.ao, self.ai):
            for step in (task.stop, task.close):
                try:
                    step()
                except Exception as exc:
                    log.warning("NI-DAQmx task %s failed while closing: %s", step.__name__, exc)


class NIDevice(Device):
    """A DNPU wired to NI-DAQmx hardware as a bspysmg config describes it."""

    kind = "nidaq"

    def __init__(
        self,
        config: SamplingConfig,
        timeout_margin_s: float = DEFAULT_TIMEOUT_MARGIN_S,
        sync_attempts: int = DEFAULT_SYNC_ATTEMPTS,
    ) -> None:
        super().__init__(config)
        self._ni = nidaqmx_module()
        setup = config.driver.instruments_setup
        self.instrument_type = config.driver.instrument_type
        self.fs = setup.activation_sampling_frequency
        self.readout_fs = setup.readout_sampling_frequency
        self.io_points = config.io_point_difference
        self.trigger_source = setup.trigger_source
        self.timeout_margin_s = float(timeout_margin_s)
        self.sync_attempts = int(sync_attempts)
        if self.readout_fs % self.fs or self.io_points < 1:
            raise DeviceError(
                f"readout_sampling_frequency {self.readout_fs} Hz is not a multiple of "
                f"activation_sampling_frequency {self.fs} Hz",
                "Fix driver.instruments_setup in the config.",
            )
        self._check_ranges()
        sign = -1.0 if config.driver.inverted_output else 1.0
        self.gain = config.amplification * sign  # nA per V read, per readout
        self.sync = self.instrument_type == "cdaq_to_nidaq"
        self.lead_points = sync_lead_points(self.fs) if self.sync else 0
        self.sync_channels = self._sync_channels() if self.sync else None
        self._plan_channels()
        self.driver_version = driver_version()
        self._tasks: _BatchTasks | None = None

    def _sync_channels(self) -> tuple[str, str]:
        """(ao7 of the first activation instrument, ai7 of the first readout instrument)."""
        block = next(iter(self.config.driver.instruments_setup.blocks().values()))
        out = f"{block.activation_instrument}/ao{SYNC_AO_CHANNEL}"
        into = f"{block.readout_instrument}/ai{SYNC_AI_CHANNEL}"
        for name, used in ((out, self.activation_channels), (into, self.readout_channels)):
            if name in used:
                raise DeviceError(
                    f"cdaq_to_nidaq needs {name} for the sync spike, but the config "
                    "also uses it as an electrode",
                    "Wire that electrode to another channel and update the config.",
                )
        return out, into

    def _plan_channels(self) -> None:
        """Task channels in order, their driver limits, and the ranges the writer enforces."""
        margin = AO_RANGE_MARGIN_V
        ao, ai = list(self.activation_channels), list(self.readout_channels)
        self.ao_limits = [(lo - margin, hi + margin) for lo, hi in self.ranges]
        self.ai_limits = [(-ADC_LIMIT_V, ADC_LIMIT_V)] * len(ai)
        write_ranges = [tuple(r) for r in self.ranges]
        if self.sync_channels:
            ao.append(self.sync_channels[0])
            ai.append(self.sync_channels[1])
            self.ao_limits.append((-SYNC_RANGE_V, SYNC_RANGE_V))
            self.ai_limits.append((-SYNC_RANGE_V, SYNC_RANGE_V))
            write_ranges.append((0.0, SYNC_SPIKE_V))
        self.ao_names, self.ai_names = tuple(ao), tuple(ai)
        self.write_ranges = np.asarray(write_ranges, dtype=float).reshape(-1, 2)

    def _check_ranges(self) -> None:
        bad = np.flatnonzero(
            (self.ranges[:, 0] <= -HARD_RANGE_LIMIT_V) | (self.ranges[:, 1] >= HARD_RANGE_LIMIT_V)
        )
        if bad.size:
            i = int(bad[0])
            lo, hi = self.ranges[i]
            raise SafetyError(
                f"{self.activation_channels[i]}: range [{lo:g}, {hi:g}] V is not inside "
                f"(-{HARD_RANGE_LIMIT_V:g}, {HARD_RANGE_LIMIT_V:g}) V",
                "Narrow activation_voltage_ranges in the config; nothing was written.",
            )

    # --- Device protocol ----------------------------------------------------------
    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "name": f"NI-DAQmx ({self.instrument_type})",
            "instrument_type": self.instrument_type,
            "driver_version": self.driver_version,
            "activation_channels": list(self.activation_channels),
            "readout_channels": list(self.readout_channels),
            "voltage_ranges": self.ranges.tolist(),
            "activation_sampling_frequency": int(self.fs),
            "readout_sampling_frequency": int(self.readout_fs),
            "trigger_source": self.trigger_source if not self.sync else None,
            "sync_channels": list(self.sync_channels) if self.sync_channels else None,
            "amplification": self.config.amplification.tolist(),
            "inverted_output": bool(self.config.driver.inverted_output),
            "timeout_margin_s": self.timeout_margin_s,
        }

    def _open(self) -> None:
        """Create the tasks for the configured batch length now, so wiring errors show early."""
        self._tasks_for(self.config.batch_points + 2 * self.config.ramp_points)

    def _close(self) -> None:
        self._release_tasks()

    def set_zero(self) -> None:
        """0 V on every AO channel by an on-demand write; works after a failed batch."""
        self._release_tasks()  # a batch task may hold the AO channels
        ni = self._ni
        with translated("driving the outputs to 0 V"):
            task = ni.Task()
            try:
                for name, (lo, hi) in zip(self.ao_names, self.ao_limits):
                    task.ao_channels.add_ao_voltage_chan(name, min_val=lo, max_val=hi)
                writer = ni.stream_writers.AnalogMultiChannelWriter(
                    task.out_stream, auto_start=True
                )
                writer.write_one_sample(np.zeros(len(self.ao_names)), timeout=self.timeout_margin_s)
            except BaseException:
                _close_quietly(task)
                raise
            task.close()

    def _sample(self, batch: RampedBatch) -> np.ndarray:
        data = np.asarray(batch.data, dtype=np.float64)
        tasks = self._tasks_for(data.shape[1])
        try:
            with translated(f"sampling batch {batch.index}"):
                if self.sync:
                    volts = self._synchronised_readout(tasks, data, batch.index)
                else:
                    volts = self._triggered_readout(tasks, data)
        except BaseException:
            self._release_tasks()  # a failed task is not reused; set_zero needs the channels
            raise
        return volts[:, batch.batch_slice].T * self.gain

    # --- one batch -------------------------------------------------------------------
    def _triggered_readout(self, tasks: _BatchTasks, data: np.ndarray) -> np.ndarray:
        """cdaq_to_cdaq: (n_readouts, points) averaged volts, first AI point dropped."""
        tasks.write_buffer[...] = data
        raw = self._run(tasks)
        return averaged(raw[:, 1:], self.io_points)

    def _synchronised_readout(self, tasks: _BatchTasks, data: np.ndarray, index: int) -> np.ndarray:
        """cdaq_to_nidaq: zeros, spike, batch; the readout cut where the spike arrived."""
        n, points, lead = data.shape[0], data.shape[1], self.lead_points
        frame = tasks.write_buffer
        frame[...] = 0.0
        frame[:n, lead:] = data
        frame[n, lead] = SYNC_SPIKE_V
        for attempt in range(1, self.sync_attempts + 1):
            volts = averaged(self._run(tasks), self.io_points)
            at = spike_position(volts[-1], points)
            if at is not None:
                return volts[:-1, at : at + points]
            log.warning(
                "batch %d: no sync spike on %s (attempt %d of %d)",
                index,
                self.sync_channels[1],
                attempt,
                self.sync_attempts,
            )
        out, into = self.sync_channels
        raise DeviceError(
            f"batch {index}: the sync spike from {out} never arrived on {into} "
            f"in {self.sync_attempts} attempts, so the readout cannot be aligned",
            f"Check the sync cable from {out} to {into} and that nothing else uses them, "
            "then resume the recording.",
        )

    def _run(self, tasks: _BatchTasks) -> np.ndarray:
        """Write the prepared frame, run both finite tasks once, return the raw readings."""
        _write_checked(
            tasks.writer, tasks.write_buffer, self.write_ranges, self.ao_names, tasks.timeout
        )
        tasks.ao.start()  # armed: it waits for the AI start trigger (cdaq) or runs (nidaq)
        tasks.ai.start()
        samples = tasks.read_buffer.shape[1]
        tasks.reader.read_many_sample(
            tasks.read_buffer, number_of_samples_per_channel=samples, timeout=tasks.timeout
        )
        tasks.ao.wait_until_done(timeout=tasks.timeout)
        tasks.ai.stop()
        tasks.ao.stop()
        return tasks.read_buffer

    # --- tasks -----------------------------------------------------------------------
    def _tasks_for(self, points: int) -> _BatchTasks:
        """The task pair for ramped batches of `points`, re-created only when it changes."""
        if self._tasks is not None and self._tasks.points == points:
            return self._tasks
        self._release_tasks()
        with translated("setting up the NI-DAQmx tasks"):
            self._tasks = self._created_tasks(points)
        return self._tasks

    def _created_tasks(self, points: int) -> _BatchTasks:
        ni = self._ni
        finite = ni.constants.AcquisitionType.FINITE
        write_points = points + self.lead_points
        read_points = write_points * self.io_points + (0 if self.sync else 1)
        created: list[Any] = []
        try:
            ao = ni.Task()
            created.append(ao)
            for name, (lo, hi) in zip(self.ao_names, self.ao_limits):
                ao.ao_channels.add_ao_voltage_chan(name, min_val=lo, max_val=hi)
            ao.timing.cfg_samp_clk_timing(self.fs, sample_mode=finite, samps_per_chan=write_points)
            ai = ni.Task()
            created.append(ai)
            for name, (lo, hi) in zip(self.ai_names, self.ai_limits):
                ai.ai_channels.add_ai_voltage_chan(name, min_val=lo, max_val=hi)
            ai.timing.cfg_samp_clk_timing(
                self.readout_fs, sample_mode=finite, samps_per_chan=read_points
            )
            if not self.sync:
                ao.triggers.start_trigger.cfg_dig_edge_start_trig(
                    f"/{self.trigger_source}/ai/StartTrigger"
                )
        except BaseException:
            for task in created:
                _close_quietly(task)
            raise
        return _BatchTasks(
            points=points,
            ao=ao,
            ai=ai,
            writer=ni.stream_writers.AnalogMultiChannelWriter(ao.out_stream),
            reader=ni.stream_readers.AnalogMultiChannelReader(ai.in_stream),
            write_buffer=np.zeros((len(self.ao_names), write_points)),
            read_buffer=np.zeros((len(self.ai_names), read_points)),
            timeout=batch_timeout_s(write_points, self.fs, self.timeout_margin_s),
        )

    def _release_tasks(self) -> None:
        tasks, self._tasks = self._tasks, None
        if tasks is not None:
            tasks.close()
