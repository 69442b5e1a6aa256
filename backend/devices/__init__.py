"""Measurement devices behind one protocol: simulated, or NI-DAQmx hardware."""

from __future__ import annotations

from typing import Any

from backend.config import SamplingConfig
from backend.devices.base import Device
from backend.devices.simulated import FaultPlan, SimulatedDevice

DEVICE_KINDS = ("simulated", "nidaq")


def make_device(kind: str, config: SamplingConfig, **options: Any) -> Device:
    """A closed device of `kind` for `config`; options go to its constructor."""
    if kind == "simulated":
        return SimulatedDevice(config, **options)
    if kind == "nidaq":
        from backend.devices.nidaq import NIDevice  # nidaqmx: only for NI hardware

        return NIDevice(config, **options)
    raise ValueError(f"unknown device {kind!r}; choose one of {', '.join(DEVICE_KINDS)}")


__all__ = ["DEVICE_KINDS", "Device", "FaultPlan", "SimulatedDevice", "make_device"]
