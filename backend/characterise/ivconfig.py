"""What an I-V measurement needs from a config file: the wiring, and the sweep settings.

Three kinds of file describe the same wiring:

- our YAML, or a brainspy-smg `sampler_configs.json` (a sampling config);
- the peer's I-V config (`brains_ivcurve_template*.yaml`): `devices`, `shape`
  (points), `input_signal` (`input_signal_type`, `direction`, `time_in_seconds`)
  and a `driver` block; its `instruments_setup` is flat, holds one nested
  block although `multiple_devices` is false, or holds one block per device.

All end as a validated `SamplingConfig` (so the devices, the safety checks and
the 0 V rules are those of sampling) plus the sweep settings the file gives.
The peer's `time_in_seconds` is not used: a sweep runs at the DAC rate of the
config, `points / activation_sampling_frequency` seconds per electrode.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from typing import Any

from backend.characterise.sweeps import SHAPES, check_sweep_request
from backend.config import SamplingConfig, parse_config, read_config_dict
from backend.errors import ConfigError, Problem

DEFAULT_POINTS = 200
#: `instruments_setup` keys that are settings, not device blocks (the schema's own list).
_SETUP_SETTINGS = {
    "multiple_devices",
    "average_io_point_difference",
    "activation_sampling_frequency",
    "readout_sampling_frequency",
    "trigger_source",
    "sampling_frequency",
}
#: Ramps the converted peer config gets (the lab's usual 0.5 s, whole points).
_PEER_RAMP_S = 0.5


@dataclass(frozen=True)
class SweepSettings:
    """How each electrode is swept: points, direction (up: to the top first), shape."""

    points: int = DEFAULT_POINTS
    up: bool = True
    shape: str = "sawtooth"

    def checked(self) -> SweepSettings:
        check_sweep_request(-1.0, 1.0, self.points, self.shape)
        return self

    def with_overrides(
        self, points: int | None = None, direction: str | None = None, shape: str | None = None
    ) -> SweepSettings:
        """These settings with whatever the user gave on the command line or in a form."""
        out = self
        if points is not None:
            out = replace(out, points=int(points))
        if direction is not None:
            out = replace(out, up=parse_direction(direction))
        if shape is not None:
            out = replace(out, shape=shape)
        return out.checked()


@dataclass(frozen=True)
class DeviceGroup:
    """One DNPU of the wiring: its electrodes and readouts (indices in config order)."""

    name: str
    electrodes: tuple[int, ...]
    readouts: tuple[int, ...]


@dataclass(frozen=True)
class IVSetup:
    """A config read for I-V curves: the wiring, the file's sweep settings, where it came from."""

    config: SamplingConfig
    settings: SweepSettings
    source: str  # samplelab | bspysmg-sampling | bspysmg-iv
    path: str = ""

    @property
    def groups(self) -> tuple[DeviceGroup, ...]:
        return device_groups(self.config)


def parse_direction(text: str) -> bool:
    """'up' -> True, 'down' -> False (the peer's `direction`)."""
    value = str(text).strip().lower()
    if value not in ("up", "down"):
        raise ConfigError([Problem("input_signal.direction", f"{text!r}: use 'up' or 'down'")])
    return value == "up"


def device_groups(config: SamplingConfig) -> tuple[DeviceGroup, ...]:
    """The config's devices in wiring order, each with its electrode and readout indices."""
    setup = config.driver.instruments_setup
    groups, first_in, first_out = [], 0, 0
    for name, block in setup.blocks().items():
        n_in = sum(block.mask()[: len(block.activation_channels)])
        n_out = len(block.readout_channels)
        groups.append(
            DeviceGroup(
                name,
                tuple(range(first_in, first_in + n_in)),
                tuple(range(first_out, first_out + n_out)),
            )
        )
        first_in, first_out = first_in + n_in, first_out + n_out
    return tuple(groups)


def load_iv_setup(path: str | os.PathLike) -> IVSetup:
    """Read any of the three config kinds (file or folder); one ConfigError lists the problems."""
    data = read_config_dict(path)
    if "input_data" in data:
        config = parse_config(data, str(path))
        source = "bspysmg-sampling" if str(path).endswith(".json") else "samplelab"
        return IVSetup(config, SweepSettings(), source, str(path))
    if "driver" in data and ({"shape", "input_signal", "devices"} & set(data)):
        config, settings = peer_iv_config(data, str(path))
        return IVSetup(config, settings, "bspysmg-iv", str(path))
    raise ConfigError(
        [
            Problem(
                "",
                "neither a sampling config (no input_data) nor a brainspy-smg I-V config "
                "(no driver with shape / input_signal / devices)",
            )
        ],
        str(path),
    )


def peer_iv_config(data: dict, source: str = "") -> tuple[SamplingConfig, SweepSettings]:
    """The peer's I-V config as our sampling config plus its sweep settings."""
    problems: list[Problem] = []
    settings = _peer_settings(data, problems)
    driver = copy.deepcopy(data.get("driver"))
    if not isinstance(driver, dict):
        raise ConfigError([Problem("driver", "must be a mapping")], source)
    setup = driver.get("instruments_setup")
    if not isinstance(setup, dict):
        raise ConfigError([Problem("driver.instruments_setup", "must be a mapping")], source)
    setup = _normalised_setup(setup, data.get("devices"), driver, problems)
    if problems:
        raise ConfigError(problems, source)
    driver["instruments_setup"] = setup
    blocks = _blocks(setup)
    n_in = sum(
        sum(1 for m in (b.get("activation_channel_mask") or [1] * _n(b)) if m == 1) for b in blocks
    )
    n_out = sum(len(b.get("readout_channels") or []) for b in blocks)
    amplification = driver.get("amplification", [39.17])
    if not isinstance(amplification, list):
        amplification = [amplification]
    if len(amplification) == 1 and n_out > 1:
        amplification = amplification * n_out
    driver["amplification"] = amplification
    fs = setup["activation_sampling_frequency"]
    ramp_points = max(2, round(_PEER_RAMP_S * fs))
    config = {
        "save_directory": str(data.get("results_base_dir") or "iv_curves"),
        "data_name": "iv_curves",
        "driver": driver,
        "input_data": {
            "input_distribution": "sawtooth",
            "activation_electrode_no": max(n_in, 1),
            "readout_electrode_no": max(n_out, 1),
            "input_frequency": [1] * max(n_in, 1),
            "phase": [0.0] * max(n_in, 1),
            "ramp_time": ramp_points / fs,
            "batch_time": settings.points / fs,
            "number_batches": 1,
        },
    }
    return parse_config(config, source), settings


def _n(block: dict) -> int:
    return len(block.get("activation_channels") or [])


def _blocks(setup: dict) -> list[dict]:
    if setup.get("multiple_devices"):
        return [v for k, v in setup.items() if k not in _SETUP_SETTINGS and isinstance(v, dict)]
    return [setup]


def _peer_settings(data: dict, problems: list[Problem]) -> SweepSettings:
    signal = data.get("input_signal") or {}
    if not isinstance(signal, dict):
        problems.append(Problem("input_signal", "must be a mapping"))
        signal = {}
    points = data.get("shape", DEFAULT_POINTS)
    shape = signal.get("input_signal_type", "sawtooth")
    direction = signal.get("direction", "up")
    if shape not in SHAPES:
        problems.append(
            Problem("input_signal.input_signal_type", f"{shape!r}: use sawtooth or sine")
        )
        shape = "sawtooth"
    if not isinstance(points, int) or isinstance(points, bool) or points < 4 or points % 2:
        problems.append(Problem("shape", f"{points!r}: the sweep needs an even number >= 4 points"))
        points = DEFAULT_POINTS
    up = True
    if isinstance(direction, bool):  # the peer's code passes it on as up_direction
        up = direction
    elif str(direction).strip().lower() in ("up", "down"):
        up = str(direction).strip().lower() == "up"
    else:
        problems.append(Problem("input_signal.direction", f"{direction!r}: use 'up' or 'down'"))
    return SweepSettings(points, up, shape)


def _normalised_setup(
    setup: dict, devices: Any, driver: dict, problems: list[Problem]
) -> dict[str, Any]:
    """Flat single-device blocks, only the listed devices (in their order), rates filled in."""
    setup = dict(setup)
    where = "driver.instruments_setup"
    nested = {k: v for k, v in setup.items() if k not in _SETUP_SETTINGS and isinstance(v, dict)}
    if not setup.get("multiple_devices") and "activation_channels" not in setup:
        if len(nested) != 1:
            problems.append(Problem(where, "give the device's channels (one device block)"))
            return setup
        ((name, block),) = nested.items()
        del setup[name]
        setup.update(block)
    if setup.get("multiple_devices") and devices is not None:
        if not isinstance(devices, list) or not all(isinstance(d, str) for d in devices):
            problems.append(Problem("devices", "must be a list of device names"))
            return setup
        missing = [d for d in devices if d not in nested]
        for name in missing:
            problems.append(Problem(f"{where}.{name}", "is listed in devices but has no block"))
        for name in nested:
            del setup[name]
        for name in devices:
            if name in nested:
                setup[name] = nested[name]
    rate = setup.get("activation_sampling_frequency") or setup.pop("sampling_frequency", None)
    rate = rate or driver.pop("sampling_frequency", None)
    setup.pop("sampling_frequency", None)
    driver.pop("sampling_frequency", None)
    if rate is None:
        problems.append(Problem(f"{where}.activation_sampling_frequency", "is required"))
        return setup
    setup["activation_sampling_frequency"] = rate
    setup.setdefault("readout_sampling_frequency", rate)
    setup.setdefault("average_io_point_difference", True)
    return setup
