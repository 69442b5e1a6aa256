"""The fake driver's answers about the system and its devices (names, channels, ranges...)."""

from __future__ import annotations

from nidaqmx.error_codes import DAQmxErrors

from fakes.ni_hardware import FakeDevice, daq_error

# DAQmx attribute ids the real nidaqmx code reads (from its generated sources).
SYS_DEVICE_NAMES, SYS_MAJOR, SYS_MINOR, SYS_UPDATE = 0x193B, 0x1272, 0x1923, 0x2F22
DEV_STRING = {
    0x631: "product_type",
    0x29B6: "modules",
    0x29B7: "chassis",
    0x231E: "ai",
    0x231F: "ao",
    0x2A40: "terminals",
}
DEV_UINT32 = {0x632: "serial", 0x29B8: "slot"}
DEV_DOUBLE_ARRAY = {0x2990: "ai_ranges", 0x299B: "ao_ranges"}
DEV_DOUBLE = {0x2997: "ao_max_rate", 0x298D: "ai_max_rate"}
DEV_INT32 = {0x29A9: "category"}
DEV_BOOL = {0x22CA: "simulated"}


class SystemAttributes:
    """Mixed into FakeDAQ: `devices` and `version` are its own."""

    devices: dict[str, FakeDevice]
    version: tuple[int, int, int]

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
        if what == "terminals":
            return ", ".join(d.terminals)
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
