"""NI-DAQmx hardware behind the Device protocol, through the official `nidaqmx` API.

One ramped batch = one finite generation on the activation (AO) task and one
finite acquisition on the readout (AI) task; every `readout/activation` readout
points are averaged into one. What is sent is exactly `ni_plan(config)`
(`samplelab devices --plan CONFIG` prints it). Two wirings, as the lab's
configs name them:

- `cdaq_to_cdaq`: AO and AI share a chassis; the AO start is triggered by the
  AI start trigger, so the AI reads io*N + 1 points and drops the first.
- `cdaq_to_nidaq`: no shared trigger. An extra sync output (ao7 of the first
  activation instrument, +-5 V) carries one 1 V spike after int(fs*0.04) zero
  points into ai7 of the first readout instrument; the readout is cut at the
  spike's rising edge in the raw samples, then averaged (`ni_sync`), retrying
  the batch when no clean spike is seen.

Opening commits both tasks (routes resolved, channels reserved) and refuses
sample clocks the hardware coerced away from the config. A batch cut short is
ramped down from where its outputs stopped; every configured AO channel,
masked ones included, goes to 0 V on pause, stop, error and exit.

Held frames (`backend.devices.held`) run on the same task pair: the AO task
starts at the level the outputs hold (the lead-in of `cdaq_to_nidaq` too) and
its channels keep the frame's last sample once it is done. Ramps between held
levels run on a fresh AO task, nothing read. A held frame whose sync spike is
missed is ramped back to where it started before it runs again.
"""

from __future__ import annotations

import logging

import numpy as np

from backend.acquisition.safety import MAX_SLEW_V_PER_S
from backend.acquisition.waves import RampedBatch
from backend.config import SamplingConfig
from backend.devices.base import Device
from backend.devices.held import HeldFrame, slewed_ramp
from backend.devices.ni_driver import (
    DEFAULT_TIMEOUT_MARGIN_S,
    driver_version,
    nidaqmx_module,
    translated,
)
from backend.devices.ni_plan import (
    DEFAULT_SYNC_ATTEMPTS,
    HARD_RANGE_LIMIT_V,
    SYNC_SPIKE_V,
    ni_plan,
)
from backend.devices.ni_sync import SyncStats, averaged, cut_and_average, find_sync_edge
from backend.devices.ni_tasks import (
    BatchTasks,
    HeldStart,
    create_batch_tasks,
    generate_checked,
    ramp_outputs_down,
    write_checked,
    zero_outputs,
)
from backend.errors import DeviceError, SafetyError

log = logging.getLogger(__name__)


class NIDevice(Device):
    """A DNPU wired to NI-DAQmx hardware as a bspysmg config describes it."""

    kind = "nidaq"
    holds_levels = True

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
        if self.readout_fs % self.fs or self.io_points < 1:
            raise DeviceError(
                f"readout_sampling_frequency {self.readout_fs} Hz is not a multiple of "
                f"activation_sampling_frequency {self.fs} Hz",
                "Fix driver.instruments_setup in the config.",
            )
        self.plan = ni_plan(config, self.timeout_margin_s, sync_attempts)
        self._check_ranges()
        self.sync_attempts = self.plan.sync_attempts
        self.sync = self.plan.sync
        self.lead_points = self.plan.lead_points
        self.sync_channels = self.plan.sync_channels
        self._check_sync_channels()
        sign = -1.0 if config.driver.inverted_output else 1.0
        self.gain = config.amplification * sign  # nA per V read, per readout
        self.ao_names, self.ai_names = self.plan.activation.names, self.plan.readout.names
        self.ao_limits = self.plan.activation.limits
        self.ai_limits = self.plan.readout.limits
        self.write_ranges = np.asarray(self.plan.write_ranges, dtype=float).reshape(-1, 2)
        self.zero_names = tuple(c.name for c in self.plan.zero_channels)
        self.driver_version = driver_version()
        self.sync_stats = SyncStats()
        self.rates: tuple[float, float] | None = None  # read back when the tasks commit
        self.ramps_down = 0  # batches cut short and ramped down
        self._tasks: BatchTasks | None = None
        self._stopped: np.ndarray | None = None  # where the last cut-short held run stopped
        self._run_from: np.ndarray | None = None  # AO levels before the held run in flight
        self._ao_started = False  # whether that run's AO task started

    def _check_sync_channels(self) -> None:
        """Config validation refuses this first; a hand-built config still cannot pass."""
        if not self.sync_channels:
            return
        layout = self.config.layout()
        for name, used in (
            (self.sync_channels[0], layout.configured_channels),
            (self.sync_channels[1], layout.readout_channels),
        ):
            if name in used:
                raise DeviceError(
                    f"cdaq_to_nidaq needs {name} for the sync spike, but the config "
                    "also uses it as an electrode",
                    "Wire that electrode to another channel and update the config.",
                )

    def _check_ranges(self) -> None:
        """Every configured range (masked channels too) strictly inside +-2 V, as brains-py."""
        layout = self.config.layout()
        for name, (lo, hi) in zip(layout.configured_channels, layout.configured_ranges.tolist()):
            if lo <= -HARD_RANGE_LIMIT_V or hi >= HARD_RANGE_LIMIT_V:
                raise SafetyError(
                    f"{name}: range [{lo:g}, {hi:g}] V is not inside "
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
            "zeroed_channels": list(self.zero_names),
            "voltage_ranges": self.ranges.tolist(),
            "activation_sampling_frequency": int(self.fs),
            "readout_sampling_frequency": int(self.readout_fs),
            "sample_clock_rates": list(self.rates) if self.rates else None,
            "trigger_source": self.trigger_source if not self.sync else None,
            "start_trigger": self.plan.activation.trigger,
            "sync_channels": list(self.sync_channels) if self.sync_channels else None,
            "amplification": self.config.amplification.tolist(),
            "inverted_output": bool(self.config.driver.inverted_output),
            "timeout_margin_s": self.timeout_margin_s,
        }

    def _open(self) -> None:
        """Create and commit the tasks now, so wiring, route and rate errors show early."""
        self._tasks_for(self.config.batch_points + 2 * self.config.ramp_points)

    def _close(self) -> None:
        self._release_tasks()

    def _set_zero(self) -> None:
        """0 V on every configured AO channel (masked and sync too); works after a failure."""
        self._release_tasks()  # batch tasks hold (reserve) their channels
        self.last_zero = ()
        zero_outputs(self._ni, self.plan.zero_channels, self.timeout_margin_s)
        self.last_zero = self.zero_names

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
            self._abandon(tasks)
            raise
        return volts[:, batch.batch_slice].T * self.gain

    # --- held levels -------------------------------------------------------------------
    def _held_start(self, level: np.ndarray) -> HeldStart:
        return HeldStart(level.copy(), self.held_slew or MAX_SLEW_V_PER_S, float(self.fs))

    def _all_rows(self, electrodes: np.ndarray) -> np.ndarray:
        """Electrode rows (n, ...) plus the sync output's row at 0 V, as the AO task has them."""
        out = np.zeros((len(self.ao_names), *electrodes.shape[1:]))
        out[: len(electrodes)] = electrodes
        return out

    def _sample_held(self, frame: HeldFrame) -> np.ndarray:
        data = np.asarray(frame.data, dtype=np.float64)
        start = self.held.copy()
        tasks = self._tasks_for(data.shape[1])
        self._stopped, self._run_from, self._ao_started = None, self._all_rows(start), False
        try:
            with translated(f"reading held frame {frame.index}"):
                if self.sync:
                    volts = self._synchronised_readout(tasks, data, frame.index, start)
                else:
                    volts = self._triggered_readout(tasks, data, self._held_start(start))
        except BaseException:
            self._stopped = tasks.stop_failed(self._run_from, self._ao_started)
            self._release_tasks()  # a failed task is not reused; the ramp needs its channels
            raise
        return volts.T * self.gain

    def _move(self, data: np.ndarray) -> None:
        """A ramp between held levels on a fresh AO task (the batch tasks reserve the lines)."""
        self._release_tasks()
        self._stopped = None
        generate_checked(
            self._ni,
            self.plan.activation.channels,
            self._all_rows(data),
            self.write_ranges,
            self.fs,
            self.timeout_margin_s,
            held=self._held_start(self.held),
        )

    def _stopped_level(self, data: np.ndarray) -> np.ndarray | None:
        return None if self._stopped is None else self._stopped[: self.n_inputs]

    def _ramp_back(self, tasks: BatchTasks, level: np.ndarray, start: np.ndarray) -> None:
        """AO only, on the frame's own task: from `level` back to `start`, then held there.

        The frame went from `start` to `level` within the slew bound, so the way back
        fits into the task's length at that bound.
        """
        self._run_from, self._ao_started = self._all_rows(level), False  # where they are now
        rule = self._held_start(level)
        ramp = slewed_ramp(level, start, rule.slew_v_per_s, rule.fs)
        buffer = tasks.write_buffer
        buffer[...] = 0.0
        buffer[: len(start)] = start[:, None]
        buffer[: len(start), : ramp.shape[1]] = ramp
        write_checked(tasks.writer, buffer, self.write_ranges, self.ao_names, tasks.timeout,
                      held=rule)  # fmt: skip
        tasks.ao.start()
        self._ao_started = True
        tasks.ao.wait_until_done(timeout=tasks.timeout)
        tasks.ao.stop()
        self._run_from = self._all_rows(start)

    def _abandon(self, tasks: BatchTasks) -> None:
        """A failed batch: stop, note where the outputs stopped, clear, ramp down from there."""
        level = tasks.stop_failed()
        self._release_tasks()  # a failed task is not reused; the ramp needs its channels
        if level is None or not np.any(level):
            return  # unknown (set_zero follows) or already at 0 V
        self.ramps_down += 1
        try:
            ramp_outputs_down(
                self._ni,
                self.plan.activation.channels,
                level,
                self.write_ranges,
                self.config.ramp_points,
                self.fs,
                self.timeout_margin_s,
            )
        except Exception as exc:  # the error in flight matters more; set_zero follows
            log.error("could not ramp the outputs down after a failed batch: %s", exc)

    # --- one batch -------------------------------------------------------------------
    def _triggered_readout(
        self, tasks: BatchTasks, data: np.ndarray, held: HeldStart | None = None
    ) -> np.ndarray:
        """cdaq_to_cdaq: (n_readouts, points) averaged volts, first AI point dropped."""
        tasks.write_buffer[...] = data
        raw = self._run(tasks, held)
        return averaged(raw[:, self.plan.dropped_first :], self.io_points)

    def _synchronised_readout(
        self, tasks: BatchTasks, data: np.ndarray, index: int, start: np.ndarray | None = None
    ) -> np.ndarray:
        """cdaq_to_nidaq: lead-in (0 V, or the held `start`), spike, batch; the raw
        readout cut at the spike's edge."""
        n, points, lead = data.shape[0], data.shape[1], self.lead_points
        frame = tasks.write_buffer
        needed = points * self.io_points
        stats = self.sync_stats
        reason = ""
        for attempt in range(1, self.sync_attempts + 1):
            if attempt > 1 and start is not None:
                self._ramp_back(tasks, data[:, -1], start)  # the last try left it there
            frame[...] = 0.0
            if start is not None:
                frame[:n, :lead] = start[:, None]
            frame[:n, lead:] = data
            frame[n, lead] = SYNC_SPIKE_V
            held = None if start is None else self._held_start(start)
            raw = self._run(tasks, held)
            found = find_sync_edge(raw[-1], self.io_points, needed)
            if found.edge is not None:
                stats.batches += 1
                stats.edges.append(found.edge)
                return cut_and_average(raw[:-1], found.edge, points, self.io_points)
            reason = found.reason
            stats.rejected += 1
            stats.reasons.append(reason)
            log.warning(
                "batch %d: no usable sync spike on %s (attempt %d of %d): %s",
                index,
                self.sync_channels[1],
                attempt,
                self.sync_attempts,
                reason,
            )
        out, into = self.sync_channels
        raise DeviceError(
            f"batch {index}: the sync spike from {out} never arrived on {into} "
            f"in {self.sync_attempts} attempts, so the readout cannot be aligned "
            f"(last attempt: {reason})",
            f"Check the sync cable from {out} to {into} and that nothing else uses them, "
            "then resume the recording.",
        )

    def _run(self, tasks: BatchTasks, held: HeldStart | None = None) -> np.ndarray:
        """Write the prepared frame, run both finite tasks once, return the raw readings."""
        self._ao_started = False
        write_checked(
            tasks.writer, tasks.write_buffer, self.write_ranges, self.ao_names, tasks.timeout,
            held=held,
        )  # fmt: skip
        tasks.ao.start()  # armed: it waits for the AI start trigger (cdaq) or runs (nidaq)
        self._ao_started = True
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
    def _tasks_for(self, points: int) -> BatchTasks:
        """The task pair for ramped batches of `points`, re-created only when it changes."""
        if self._tasks is not None and self._tasks.points == points:
            return self._tasks
        self._release_tasks()
        self._tasks = create_batch_tasks(self._ni, self.plan, points, self.timeout_margin_s)
        self.rates = self._tasks.rates
        return self._tasks

    def _release_tasks(self) -> None:
        tasks, self._tasks = self._tasks, None
        if tasks is not None:
            tasks.close()
