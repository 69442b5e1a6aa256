"""What the fake's AO channels put out over time, and what they do when no task runs.

Real hardware: a finite AO task that is done (or stopped) leaves each channel at
its last generated sample, unless the channel's idle output behaviour says
otherwise (`ao_idle_output_behavior`, 0x2240): ZERO_VOLTS drops it to 0 V as
soon as no generation runs, MAINTAIN_EXISTING_VALUE keeps it. Modules without
the property keep their last value and answer a setting with
ATTRIBUTE_NOT_SUPPORTED_IN_TASK_CONTEXT.

The scope records, per AO channel, every value it was driven to, in order: all
samples of each generation that went out (up to where an abort stopped it), each
on-demand write, and each idle drop to 0 V. Tests read it as an oscilloscope on
the device's electrodes: no step may be larger than the slew bound allows.
"""

from __future__ import annotations

import numpy as np
from nidaqmx.constants import AOIdleOutputBehavior
from nidaqmx.error_codes import DAQmxErrors

from fakes.ni_hardware import FakeDevice, daq_error

AO_IDLE_OUTPUT_BEHAVIOR = 0x2240
ZERO_VOLTS = AOIdleOutputBehavior.ZERO_VOLTS.value


class OutputScope:
    """Mixed into FakeDAQ: `levels`, `devices` and `_task` are its own."""

    devices: dict[str, FakeDevice]
    levels: dict[str, float]
    scope: dict[str, list[np.ndarray]]

    def _h_set_chan_attribute_int32(self, task, channel, attribute, value):
        assert attribute == AO_IDLE_OUTPUT_BEHAVIOR, hex(attribute)
        t = self._task(task)
        assert channel in t.ao, f"{channel} is not an AO channel of the task"
        if self.devices[channel.partition("/")[0]].ao_idle is None:
            raise daq_error(DAQmxErrors.ATTRIBUTE_NOT_SUPPORTED_IN_TASK_CONTEXT)
        t.idle[channel] = AOIdleOutputBehavior(value).value

    def _drive(self, channels, samples: np.ndarray) -> None:
        """Channels go through `samples` (channels, k) and stay at the last one."""
        for name, row in zip(channels, np.atleast_2d(samples)):
            if len(row) == 0:
                continue
            trace = self.scope.setdefault(name, [np.array([self.levels.get(name, 0.0)])])
            trace.append(np.asarray(row, dtype=float).copy())
            self.levels[name] = float(row[-1])

    def _generation_ended(self, t, sent: int) -> None:
        """A finite generation of `t` is over after `sent` samples: out, then idle."""
        self._drive(t.ao, t.frame[:, :sent])
        for name in t.ao:
            default = self.devices[name.partition("/")[0]].ao_idle
            if t.idle.get(name, default) == ZERO_VOLTS:
                self._drive([name], np.zeros((1, 1)))

    def scope_of(self, channel: str) -> np.ndarray:
        """Every value `channel` was driven to, from its level before the first one."""
        trace = self.scope.get(channel)
        return np.concatenate(trace) if trace else np.array([self.levels.get(channel, 0.0)])

    def largest_step(self, channels) -> float:
        """The largest jump between consecutive values on any of `channels` (V)."""
        steps = [np.abs(np.diff(self.scope_of(c))).max(initial=0.0) for c in channels]
        return float(max(steps, default=0.0))
