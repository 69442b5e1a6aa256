"""I-V result files: `iv_curves.npz` (the peer's keys), `iv_curves.h5` (plus config and device).

npz keys: `voltages` (n_electrodes, points) V, `currents` (n_electrodes, points,
n_outputs) nA, `voltage_ranges` (n_electrodes, 2), `points`, `up_direction`
(the peer's fixture keys), and, readable without pickle, `shape`,
`activation_channels`, `readout_channels`, `electrode_devices`, `output_devices`.

The HDF5 file holds the same arrays as datasets and, as root attributes,
`format` = "samplelab-iv", `config_json` (the sampling config), `device_json`
(the device's description), `settings_json`, `provenance_json`.

Files are written into a hidden staging folder and moved into place only when
all three are complete.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from backend.characterise.figures import iv_png
from backend.characterise.iv import IVCurves
from backend.characterise.ivconfig import DeviceGroup, SweepSettings
from backend.config import SamplingConfig
from backend.data.formats.hdf5files import hdf5_format
from backend.errors import FileFormatError
from backend.postprocess.job import Staging
from backend.recording.layout import provenance

IV_FORMAT = "samplelab-iv"
IV_FORMAT_VERSION = 1
IV_NPZ, IV_H5, IV_PNG = "iv_curves.npz", "iv_curves.h5", "iv_curves.png"
IV_NAMES = (IV_NPZ, IV_H5, IV_PNG)
#: Members that make an npz an I-V result.
IV_KEYS = {"voltages", "currents"}


@dataclass
class IVFile:
    """An I-V result read back (npz or HDF5)."""

    path: Path
    voltages: np.ndarray
    currents: np.ndarray
    voltage_ranges: np.ndarray | None
    settings: SweepSettings | None
    activation_channels: list[str]
    readout_channels: list[str]
    groups: tuple[DeviceGroup, ...]
    config: dict | None = None
    device: dict | None = None


def _groups_arrays(curves: IVCurves) -> tuple[np.ndarray, np.ndarray]:
    n_in, n_out = curves.voltages.shape[0], curves.currents.shape[2]
    electrodes, outputs = [""] * n_in, [""] * n_out
    for group in curves.groups:
        for k in group.electrodes:
            electrodes[k] = group.name
        for j in group.readouts:
            outputs[j] = group.name
    return np.asarray(electrodes, dtype=str), np.asarray(outputs, dtype=str)


def _arrays(curves: IVCurves) -> dict[str, np.ndarray]:
    electrode_devices, output_devices = _groups_arrays(curves)
    return {
        "voltages": curves.voltages,
        "currents": curves.currents,
        "voltage_ranges": curves.voltage_ranges,
        "points": np.asarray(curves.settings.points),
        "up_direction": np.asarray(curves.settings.up),
        "shape": np.asarray(curves.settings.shape),
        "activation_channels": np.asarray(curves.activation_channels, dtype=str),
        "readout_channels": np.asarray(curves.readout_channels, dtype=str),
        "electrode_devices": electrode_devices,
        "output_devices": output_devices,
    }


def write_iv(curves: IVCurves, out_dir: str | os.PathLike, config: SamplingConfig) -> dict:
    """Write the npz, HDF5 and PNG of `curves` into `out_dir`; returns name -> path."""
    staging = Staging(Path(out_dir), IV_NAMES)
    try:
        arrays = _arrays(curves)
        np.savez(staging.dir / IV_NPZ, **arrays)
        with h5py.File(staging.dir / IV_H5, "w") as f:
            for key, value in arrays.items():
                f.create_dataset(key, data=value if value.dtype.kind != "U" else value.astype("S"))
            f["voltages"].attrs["units"] = "V"
            f["currents"].attrs["units"] = "nA"
            settings = curves.settings
            f.attrs.update(
                {
                    "format": IV_FORMAT,
                    "format_version": IV_FORMAT_VERSION,
                    "config_json": json.dumps(config.to_bspysmg()),
                    "device_json": json.dumps(curves.device),
                    "settings_json": json.dumps(
                        {"points": settings.points, "up": settings.up, "shape": settings.shape}
                    ),
                    "provenance_json": json.dumps(provenance()),
                }
            )
        iv_png(
            curves.voltages,
            curves.currents,
            curves.groups,
            staging.dir / IV_PNG,
            curves.activation_channels,
        )
    except BaseException:
        staging.abandon()
        raise
    return staging.commit(IV_NAMES)


def read_iv(path: str | os.PathLike) -> IVFile:
    """An I-V result from our npz or HDF5, or the peer's npz (voltages and currents only)."""
    path = Path(path)
    try:
        is_h5 = h5py.is_hdf5(path)
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc}") from None
    data, attrs = _read_h5(path) if is_h5 else (_read_npz(path), {})
    voltages = np.asarray(data["voltages"], dtype=float)
    currents = np.asarray(data["currents"], dtype=float)
    if currents.ndim == 2:
        currents = currents[:, :, None]
    if voltages.ndim != 2 or currents.ndim != 3 or currents.shape[:2] != voltages.shape:
        raise FileFormatError(
            f"{path}: voltages {voltages.shape} and currents {currents.shape} do not match",
            "An I-V file holds voltages (electrodes, points) and currents "
            "(electrodes, points, outputs).",
        )
    n_in, n_out = voltages.shape[0], currents.shape[2]
    settings = None
    if "points" in data:
        shape = str(data["shape"]) if "shape" in data else "sawtooth"
        up = bool(data["up_direction"]) if "up_direction" in data else True
        settings = SweepSettings(int(data["points"]), up, shape)
    act = _names(data.get("activation_channels"), n_in, "electrode")
    read = _names(data.get("readout_channels"), n_out, "out")
    groups = _groups(data.get("electrode_devices"), data.get("output_devices"), n_in, n_out)
    ranges = data.get("voltage_ranges")
    return IVFile(
        path,
        voltages,
        currents,
        None if ranges is None else np.asarray(ranges, dtype=float),
        settings,
        act,
        read,
        groups,
        config=json.loads(attrs["config_json"]) if "config_json" in attrs else None,
        device=json.loads(attrs["device_json"]) if "device_json" in attrs else None,
    )


def _read_npz(path: Path) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as exc:  # an object member: we never unpickle results
        raise FileFormatError(f"{path}: holds pickled members ({exc}); not read") from None
    except (OSError, EOFError) as exc:
        raise FileFormatError(f"{path} is not a readable .npz file ({exc})") from None


def _read_h5(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    if hdf5_format(path) != IV_FORMAT:
        raise FileFormatError(f"{path} is an HDF5 file but not a samplelab I-V result")
    with h5py.File(path, "r") as f:
        data = {k: f[k][()] for k in f if isinstance(f[k], h5py.Dataset)}
        attrs = {k: v for k, v in f.attrs.items() if isinstance(v, (str, bytes))}
    for key, value in data.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "S":
            data[key] = value.astype(str)
        elif isinstance(value, bytes):
            data[key] = value.decode()
    attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
    return data, attrs


def _names(values: Any, n: int, stem: str) -> list[str]:
    if values is not None and np.ndim(values) == 1 and len(values) == n:
        return [str(v) for v in np.asarray(values).tolist()]
    return [f"{stem} {i}" for i in range(n)]


def _groups(electrodes: Any, outputs: Any, n_in: int, n_out: int) -> tuple[DeviceGroup, ...]:
    if electrodes is None or outputs is None or len(electrodes) != n_in or len(outputs) != n_out:
        return (DeviceGroup("device", tuple(range(n_in)), tuple(range(n_out))),)
    names = list(dict.fromkeys([str(e) for e in electrodes] + [str(o) for o in outputs]))
    return tuple(
        DeviceGroup(
            name,
            tuple(i for i, e in enumerate(electrodes) if str(e) == name),
            tuple(j for j, o in enumerate(outputs) if str(o) == name),
        )
        for name in names
    )
