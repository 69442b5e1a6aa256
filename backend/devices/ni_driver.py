"""The boundary to the `nidaqmx` package: import, error translation, driver facts.

Every call into nidaqmx runs inside `translated(action)`, so what escapes is a
`SamplelabError` subclass a user can act on (the NI message and code kept),
never a raw nidaqmx exception. Codes come from `nidaqmx.error_codes.DAQmxErrors`
rather than from matching message text, which NI rewords between releases.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from types import ModuleType

from backend.errors import (
    DeviceBusyError,
    DeviceDisconnectedError,
    DeviceError,
    DeviceOverflowError,
    DeviceTimeoutError,
    DriverNotFoundError,
    RoutingError,
    SamplelabError,
    UnknownChannelError,
)

DRIVER_MISSING = "NI-DAQmx driver not found; install it or use the simulated device"
DRIVER_HINT = (
    "Install NI-DAQmx from ni.com (or run `python -m nidaqmx installdriver`), "
    "or sample with --device simulated."
)
#: Seconds added to every batch's own duration before a read or wait gives up.
DEFAULT_TIMEOUT_MARGIN_S = 2.0
#: Fraction of the batch duration added on top, for slow USB/Ethernet chassis.
TIMEOUT_SLACK = 0.1


def nidaqmx_module() -> ModuleType:
    """The imported `nidaqmx` package, or DriverNotFoundError when it is absent."""
    try:
        import nidaqmx  # nidaqmx: may be absent; said as DriverNotFoundError
        import nidaqmx.constants
        import nidaqmx.stream_readers
        import nidaqmx.stream_writers
        import nidaqmx.system
    except ImportError as exc:
        raise DriverNotFoundError(
            f"{DRIVER_MISSING} (the nidaqmx Python package cannot be imported: {exc})",
            "Install samplelab with its dependencies (pip install samplelab) and NI-DAQmx.",
        ) from exc
    return nidaqmx


def batch_timeout_s(
    points: int, rate_hz: float, margin_s: float = DEFAULT_TIMEOUT_MARGIN_S
) -> float:
    """Seconds to wait for `points` samples at `rate_hz`: their duration plus a margin."""
    duration = points / float(rate_hz)
    return duration * (1.0 + TIMEOUT_SLACK) + margin_s


def _code_groups() -> dict[type[DeviceError], frozenset[int]]:
    from nidaqmx.error_codes import DAQmxErrors as E  # nidaqmx: only with NI

    def codes(*names: str) -> frozenset[int]:
        # getattr: a code renamed in a future nidaqmx must not break the import
        return frozenset(int(getattr(E, n)) for n in names if hasattr(E, n))

    return {
        UnknownChannelError: codes(
            "INVALID_DEVICE_ID",
            "INVALID_DEVICE_ID_IN_LIST",
            "DEVICE_ID_NOT_SPECIFIED_IN_LIST",
            "PHYSICAL_CHAN_DOES_NOT_EXIST",
            "INVALID_PHYS_CHAN_NAME",
            "INVALID_PHYS_CHAN_TYPE",
            "TRIG_LINE_NOT_FOUND",
            "DEVICE_NAME_NOT_FOUND_ROUTING",
        ),
        RoutingError: frozenset(routing_messages()),
        DeviceBusyError: codes(
            "PAL_RESOURCE_RESERVED",
            "PAL_RESOURCE_BUSY",
            "RESOURCE_ALREADY_RESERVED",
            "RESOURCE_RESERVED_WITH_CONFLICTING_SETTINGS",
            "NETWORK_DEVICE_RESERVED_BY_ANOTHER_HOST",
            "PHYS_CHAN_RESERVED_FOR_INPUT_WHEN_DESIRED_FOR_OUTPUT",
            "PHYS_CHAN_RESERVED_FOR_OUTPUT_WHEN_DESIRED_FOR_INPUT",
        ),
        DeviceOverflowError: codes(
            "INPUT_FIFO_OVERFLOW",
            "INPUT_FIFO_OVERFLOW_2",
            "INPUT_FIFO_OVERFLOW_3",
            "ADC_OVERRUN",
            "SAMPLES_NO_LONGER_AVAILABLE",
            "ACQ_STOPPED_TO_PREVENT_INTERMEDIATE_BUFFER_OVERFLOW",
            "INPUT_FIFO_UNDERFLOW",
            "OUTPUT_FIFO_UNDERFLOW",
            "OUTPUT_FIFO_UNDERFLOW_2",
            "DAC_UNDERFLOW",
            "GEN_STOPPED_TO_PREVENT_REGEN_OF_OLD_SAMPLES",
            "GEN_STOPPED_TO_PREVENT_INTERMEDIATE_BUFFER_REGEN_OF_OLD_SAMPLES",
        ),
        DeviceTimeoutError: codes(
            "SAMPLES_NOT_YET_AVAILABLE",
            "WAIT_UNTIL_DONE_DOES_NOT_INDICATE_DONE",
            "OPERATION_TIMED_OUT",
            "TIMEOUT_EXCEEDED",
            "PAL_TRANSFER_TIMED_OUT",
        ),
        DeviceDisconnectedError: codes(
            "DEV_ABSENT_OR_UNAVAILABLE",
            "DEV_CANNOT_BE_ACCESSED",
            "DEVICE_REMOVED",
        ),
    }


@functools.cache
def routing_messages() -> dict[int, str]:
    """NI's routing error codes, each with what it means for a samplelab config."""
    from nidaqmx.error_codes import DAQmxErrors as E  # nidaqmx: only with NI

    meaning = {
        "the trigger source terminal does not exist on that device": (
            "INVALID_ROUTING_SOURCE_TERMINAL_NAME",
            "INVALID_ROUTING_SOURCE_TERMINAL_NAME_ROUTING",
            "INVALID_TERM_ROUTING",
        ),
        "the trigger's destination terminal does not exist": (
            "INVALID_ROUTING_DESTINATION_TERMINAL_NAME",
            "INVALID_ROUTING_DESTINATION_TERMINAL_NAME_ROUTING",
        ),
        "the device named in the trigger route is absent or unavailable": (
            "DEV_ABSENT_OR_UNAVAILABLE_ROUTING",
        ),
        "no trigger line connects the two devices (are both modules in that chassis?)": (
            "TRIG_LINE_NOT_FOUND_ROUTING",
            "TRIG_LINE_NOT_FOUND_SINGLE_DEV_ROUTE",
            "TRIG_LINE_NOT_FOUND_SINGLE_DEV_ROUTE_ROUTING",
            "NO_COMMON_TRIG_LINE_FOR_ROUTE_ROUTING",
            "NO_COMMON_TRIG_LINE_FOR_TASK_ROUTE",
            "NO_COMMON_TRIG_LINE_FOR_IMMED_ROUTE",
            "COULD_NOT_RESERVE_REQUESTED_TRIG_LINE_ROUTING",
        ),
        "there is no routing path between the trigger source and the activation task": (
            "ROUTING_PATH_NOT_AVAILABLE",
            "ROUTING_PATH_NOT_AVAILABLE_ROUTING",
        ),
        "the hardware cannot make this trigger route": (
            "ROUTE_NOT_SUPPORTED_BY_HW",
            "ROUTE_NOT_SUPPORTED_BY_HW_ROUTING",
            "ROUTING_NOT_SUPPORTED_FOR_DEVICE",
        ),
        "the routing hardware is in use by another task or route": (
            "ROUTING_HARDWARE_BUSY",
            "ROUTING_HARDWARE_BUSY_ROUTING",
            "RESOURCES_IN_USE_FOR_ROUTE",
            "RESOURCES_IN_USE_FOR_ROUTE_ROUTING",
            "RESOURCES_IN_USE_FOR_ROUTE_IN_TASK",
            "RESOURCES_IN_USE_FOR_ROUTE_IN_TASK_ROUTING",
        ),
        "the trigger source and destination are the same terminal": (
            "ROUTE_SRC_AND_DEST_SAME",
            "ROUTE_SRC_AND_DEST_SAME_ROUTING",
        ),
    }
    return {
        int(getattr(E, name)): text
        for text, names in meaning.items()
        for name in names
        if hasattr(E, name)
    }


_HINTS: dict[type[DeviceError], str] = {
    RoutingError: "Check driver.instruments_setup.trigger_source: it must name the cDAQ "
    "chassis that holds the activation and readout modules, as `samplelab devices` lists "
    "it (e.g. cDAQ1, or brains-py's cDAQ1/segment1 form). `samplelab devices --plan CONFIG` "
    "shows the route; nothing was sampled.",
    UnknownChannelError: "Check the instrument and channel names in the config against "
    "`samplelab devices` (or NI MAX).",
    DeviceBusyError: "Another program or task holds this device: close NI MAX test panels, "
    "LabVIEW or other samplelab sessions, then try again.",
    DeviceOverflowError: "Samples were lost: the computer could not keep up. Close other "
    "programs, or lower the sampling frequencies, and resume the recording.",
    DeviceTimeoutError: "The device did not deliver the batch in time: check cables, the "
    "trigger source and that the chassis is powered, then resume the recording.",
    DeviceDisconnectedError: "The device went away: check its power and cable, then resume "
    "the recording.",
    DeviceError: "See the NI-DAQmx message above; after fixing it, resume the recording.",
}


def ni_message(exc: BaseException) -> str:
    """NI's description on one line, without the 'Status Code' line we report ourselves."""
    lines = [line.strip() for line in str(exc).splitlines()]
    kept = [line for line in lines if line and not line.startswith("Status Code:")]
    return "; ".join(kept) or type(exc).__name__


def translated_error(exc: BaseException, action: str) -> SamplelabError:
    """The SamplelabError a user sees for nidaqmx exception `exc` raised while `action`."""
    from nidaqmx import errors  # nidaqmx: only with NI

    if isinstance(exc, errors.DaqNotFoundError):
        return DriverNotFoundError(DRIVER_MISSING, DRIVER_HINT)
    if isinstance(exc, errors.DaqNotSupportedError):
        return DriverNotFoundError(
            f"{DRIVER_MISSING}: NI-DAQmx does not support this operating system",
            "Sample on a Windows or supported Linux lab PC, or use --device simulated.",
        )
    if isinstance(exc, errors.DaqFunctionNotSupportedError):
        return DeviceError(
            f"the installed NI-DAQmx driver is too old for {action}: {ni_message(exc)}",
            "Update NI-DAQmx to a current release.",
        )
    code = getattr(exc, "error_code", None)
    kind: type[DeviceError] = DeviceError
    if code is not None:
        for candidate, group in _code_groups().items():
            if int(code) in group:
                kind = candidate
                break
    where = f"NI-DAQmx error {code}" if code is not None else "NI-DAQmx error"
    meaning = routing_messages().get(int(code), "") if code is not None else ""
    said = f"{meaning} ({ni_message(exc)})" if meaning else ni_message(exc)
    error = kind(f"{where} while {action}: {said}", _HINTS[kind])
    error.ni_error_code = code  # for front ends that want to show or look up the code
    return error


@contextlib.contextmanager
def translated(action: str) -> Iterator[None]:
    """Run a block of nidaqmx calls; NI exceptions leave it as SamplelabErrors."""
    from nidaqmx import errors  # nidaqmx: only with NI

    try:
        yield
    except errors.Error as exc:  # DaqError and DaqNotFoundError (not a DaqError) alike
        raise translated_error(exc, action) from exc


def driver_version() -> str:
    """'major.minor.update' of the installed NI-DAQmx; DriverNotFoundError without it."""
    nidaqmx = nidaqmx_module()
    with translated("reading the NI-DAQmx version"):
        version = nidaqmx.system.System.local().driver_version
    return f"{version.major_version}.{version.minor_version}.{version.update_version}"
