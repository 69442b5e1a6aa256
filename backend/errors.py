"""Errors a user can act on.

Every error raised for bad input (a config, a file, a device fault) is a
`SamplelabError`: its message names the problem and its hint says what to do.
Front ends print these without a traceback; anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


class SamplelabError(Exception):
    """Base class of user-facing errors: `message` plus an optional `hint`."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


def from_os_error(exc: OSError) -> SamplelabError:
    """A disk full, a permission or a vanished drive, said as a user error (not our bug)."""
    where = f"{exc.filename}: " if exc.filename else ""
    error = SamplelabError(
        f"{where}{exc.strerror or exc}",
        "Check the path, its permissions and the free disk space, then try again.",
    )
    error.__cause__ = exc
    return error


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: where (a dotted path) and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(SamplelabError):
    """A sampling configuration that cannot be used; `problems` lists each field."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"invalid sampling config{where} ({count} {noun}):\n{lines}",
            "Fix the fields named above and try again.",
        )


class ConfigFileError(ConfigError):
    """A config file that is missing or unreadable: there are no fields to fix."""

    def __init__(self, message: str, source: str = "", hint: str = "") -> None:
        self.problems = [Problem("", message)]
        self.source = source
        SamplelabError.__init__(self, message, hint or "Check the path and try again.")


class FileFormatError(SamplelabError):
    """A file that is missing, unreadable, or not of the expected kind."""


class FileInUseError(SamplelabError):
    """A file that cannot be replaced: open in another program (Windows) or write-protected."""


class RecordingError(SamplelabError):
    """A recording that cannot be created, appended to, or read."""


class DiskFullError(RecordingError):
    """The recording's disk has no room for the next batch; what was written is kept."""


class SafetyError(SamplelabError):
    """A batch that would put the device at risk; it never reaches the driver."""


class DeviceError(SamplelabError):
    """A fault reported by (or about) the measurement device."""


class DriverNotFoundError(DeviceError):
    """The hardware driver is not installed on this machine."""


class DeviceTimeoutError(DeviceError):
    """The device did not deliver the batch in time."""


class DeviceOverflowError(DeviceError):
    """The device's buffer over- or underflowed: samples were lost."""


class DeviceDisconnectedError(DeviceError):
    """The device went away in the middle of a session."""


class DeviceBusyError(DeviceError):
    """The device, or one of its channels, is reserved by another program."""


class UnknownChannelError(DeviceError):
    """A device or channel named in the config does not exist."""


class SampleClockError(DeviceError):
    """The hardware would run a sample clock at another rate than the config asks for."""


class RoutingError(DeviceError):
    """NI-DAQmx cannot route a trigger between the configured devices (trigger_source)."""


class Cancelled(Exception):
    """Raised inside a job when the user cancelled it; not an error."""
