"""What NI-DAQmx hardware this PC has: devices, modules, channels, voltage ranges.

`ni_inventory()` never raises for a missing driver or an odd device: it returns
plain dataclasses with `driver_available` and a `message` a front end can show
as is, so the GUI can fill its drop-downs (or explain why they are empty) and
`samplelab devices` can print them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from backend.devices.ni_driver import DRIVER_HINT, nidaqmx_module, translated
from backend.errors import DeviceError, DriverNotFoundError

T = TypeVar("T")
Range = tuple[float, float]


@dataclass(frozen=True)
class NIDeviceInfo:
    """One NI device (a chassis, a C Series module, a PCIe/USB card) as the driver sees it."""

    name: str
    product_type: str
    category: str  # nidaqmx ProductCategory name, e.g. 'C_SERIES_MODULE'
    serial_number: int | None = None
    simulated: bool | None = None
    chassis: str | None = None  # the cDAQ chassis a module sits in
    slot: int | None = None
    modules: tuple[str, ...] = ()  # the modules of a chassis
    ao_channels: tuple[str, ...] = ()
    ai_channels: tuple[str, ...] = ()
    ao_voltage_ranges: tuple[Range, ...] = ()  # every AO channel of the device offers these
    ai_voltage_ranges: tuple[Range, ...] = ()
    ao_max_rate: float | None = None  # Hz
    ai_max_rate: float | None = None  # Hz, all channels together

    def ranges_of(self, channel: str) -> tuple[Range, ...]:
        """Voltage ranges the driver offers on one of this device's physical channels."""
        if channel in self.ao_channels:
            return self.ao_voltage_ranges
        if channel in self.ai_channels:
            return self.ai_voltage_ranges
        return ()


@dataclass(frozen=True)
class NIInventory:
    """The local NI-DAQmx system: is the driver there, and which devices it reports."""

    driver_available: bool
    message: str
    driver_version: str | None = None
    devices: tuple[NIDeviceInfo, ...] = ()

    def device(self, name: str) -> NIDeviceInfo | None:
        return next((d for d in self.devices if d.name == name), None)

    def ao_channels(self) -> list[str]:
        """Every AO physical channel, for an activation-channel drop-down."""
        return [c for d in self.devices for c in d.ao_channels]

    def ai_channels(self) -> list[str]:
        """Every AI physical channel, for a readout-channel drop-down."""
        return [c for d in self.devices for c in d.ai_channels]

    def chassis(self) -> list[str]:
        """Devices that hold modules: candidates for `trigger_source`."""
        return [d.name for d in self.devices if d.modules]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _optional(read: Callable[[], T], default: T, daq_error: type[BaseException]) -> T:
    """An attribute the device may not support (a chassis has no AI ranges): default then."""
    try:
        return read()
    except (daq_error, ValueError):  # ValueError: an enum value this nidaqmx does not know
        return default


def _pairs(flat: Any) -> tuple[Range, ...]:
    """The driver's flat [lo0, hi0, lo1, hi1, ...] as ((lo0, hi0), ...)."""
    values = [float(v) for v in flat]
    return tuple(zip(values[0::2], values[1::2]))


def _device_info(device: Any, daq_error: type[BaseException]) -> NIDeviceInfo:
    def opt(read: Callable[[], T], default: T) -> T:
        return _optional(read, default, daq_error)

    chassis = opt(lambda: device.compact_daq_chassis_device.name, None)
    max_ai = opt(lambda: device.ai_max_multi_chan_rate, None)
    max_ao = opt(lambda: device.ao_max_rate, None)
    return NIDeviceInfo(
        name=device.name,
        product_type=opt(lambda: device.product_type, "unknown"),
        category=opt(lambda: device.product_category.name, "UNKNOWN"),
        serial_number=opt(lambda: int(device.serial_num), None),
        simulated=opt(lambda: bool(device.is_simulated), None),
        chassis=chassis or None,
        slot=opt(lambda: int(device.compact_daq_slot_num), None) if chassis else None,
        modules=opt(lambda: tuple(m.name for m in device.chassis_module_devices), ()),
        ao_channels=opt(lambda: tuple(device.ao_physical_chans.channel_names), ()),
        ai_channels=opt(lambda: tuple(device.ai_physical_chans.channel_names), ()),
        ao_voltage_ranges=opt(lambda: _pairs(device.ao_voltage_rngs), ()),
        ai_voltage_ranges=opt(lambda: _pairs(device.ai_voltage_rngs), ()),
        ao_max_rate=None if max_ao is None else float(max_ao),
        ai_max_rate=None if max_ai is None else float(max_ai),
    )


def ni_inventory() -> NIInventory:
    """The NI devices of this PC; a result saying so when the driver is missing."""
    try:
        nidaqmx = nidaqmx_module()
        with translated("listing NI-DAQmx devices"):
            system = nidaqmx.system.System.local()
            v = system.driver_version
            version = f"{v.major_version}.{v.minor_version}.{v.update_version}"
            names = list(system.devices.device_names)
            devices = tuple(
                _device_info(system.devices[name], nidaqmx.errors.DaqError) for name in names
            )
    except DriverNotFoundError as exc:
        return NIInventory(False, f"{exc.message}. {DRIVER_HINT}")
    except DeviceError as exc:
        return NIInventory(True, f"NI-DAQmx could not list its devices: {exc.message}")
    if not devices:
        message = (
            f"NI-DAQmx {version} found no devices; connect one, or create a simulated "
            "device in NI MAX"
        )
    else:
        noun = "device" if len(devices) == 1 else "devices"
        message = f"NI-DAQmx {version}: {len(devices)} {noun}"
    return NIInventory(True, message, version, devices)


def compact_channels(names: list[str] | tuple[str, ...]) -> str:
    """'cDAQ1Mod3/ao0:15' for sixteen channels, as NI MAX writes channel lists."""
    if not names:
        return ""
    from nidaqmx.utils import flatten_channel_string  # nidaqmx: only with NI

    return flatten_channel_string(list(names))
