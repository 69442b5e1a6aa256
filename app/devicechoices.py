"""The devices a session can drive, as the Sampling page and the Device page offer them.

The list comes from NI discovery (the session service's `inventory`): the
simulated DNPU, a trained surrogate model as the simulated device (the
Sampling page's twin picker chooses its file), and NI-DAQmx hardware when the
driver finds some.
"""

from __future__ import annotations

from typing import Any

from widgets.runoptions import DeviceChoice

SURROGATE_KEY = "surrogate"


def surrogate_choice() -> DeviceChoice:
    return DeviceChoice(
        SURROGATE_KEY,
        "Surrogate model…",
        tip="A trained surrogate model (training_data.pt) as the simulated device",
        kind="simulated",
    )


def device_choices(inventory: Any | None) -> tuple[list[DeviceChoice], str]:
    """Device entries and a note, from an NI inventory (None while discovery runs)."""
    simulated = DeviceChoice(
        "simulated", "Simulated DNPU", tip="A built-in model of a DNPU; no hardware needed"
    )
    if inventory is None:
        looking = DeviceChoice("nidaq", "NI-DAQmx (looking…)", False, kind="nidaq")
        return [simulated, surrogate_choice(), looking], ""
    if not inventory.driver_available:
        label, enabled = "NI-DAQmx (driver not installed)", False
    elif not inventory.devices:
        label, enabled = "NI-DAQmx (no devices found)", False
    else:
        names = ", ".join(d.name for d in inventory.devices if not d.chassis) or "devices"
        label, enabled = f"NI-DAQmx hardware ({names})", True
    ni = DeviceChoice("nidaq", label, enabled, inventory.message, kind="nidaq")
    return [simulated, surrogate_choice(), ni], ("" if enabled else inventory.message)
