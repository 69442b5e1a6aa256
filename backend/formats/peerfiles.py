"""bspysmg's files as readers: sampling folders (IO.dat + config) and npz files.

Both read as one table, inputs (V) then outputs (nA) side by side, the same
columns as a samplelab recording. The config inside a peer npz is a pickle:
without `trust_pickle` the arrays are read and the config is left alone (the
reader's notes say so).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from backend.errors import ConfigError, FileFormatError
from backend.readers import ArrayReader, Reader

IODAT_NAME = "IO.dat"
CONFIG_NAME = "sampler_configs.json"


def peer_names(n_in: int, n_out: int) -> tuple[list[str], list[str]]:
    """(names, units) of the peer's columns: `Input i` in V, then `Output j` in nA."""
    names = [f"Input {i}" for i in range(n_in)] + [f"Output {j}" for j in range(n_out)]
    return names, ["V"] * n_in + ["nA"] * n_out


def config_facts(config: dict | None) -> dict[str, Any]:
    """n_inputs, n_outputs, fs and amplification from a bspysmg config dict (any may be None)."""
    config = config or {}
    data = config.get("input_data") or {}
    driver = config.get("driver") or {}
    setup = driver.get("instruments_setup") or {}
    return {
        "n_inputs": data.get("activation_electrode_no"),
        "n_outputs": data.get("readout_electrode_no"),
        "fs": setup.get("activation_sampling_frequency"),
        "amplification": driver.get("amplification"),
    }


def is_bspysmg_folder(path: str | os.PathLike) -> bool:
    path = Path(path)
    return path.is_dir() and (path / IODAT_NAME).is_file() and (path / CONFIG_NAME).is_file()


def open_bspysmg_folder(path: str | os.PathLike) -> Reader:
    """A lazy reader over a sampling folder's IO.dat, named and scaled by its config."""
    from backend.config import read_config_dict
    from backend.formats.textrows import TextRowsReader

    path = Path(path)
    folder = path if path.is_dir() else path.parent
    config = None
    if (folder / CONFIG_NAME).is_file():
        try:
            config = read_config_dict(folder / CONFIG_NAME)
        except ConfigError as exc:
            raise FileFormatError(str(exc)) from None
    reader = TextRowsReader(folder / IODAT_NAME if path.is_dir() else path, kind="bspysmg-folder")
    facts = config_facts(config)
    n_in = facts["n_inputs"]
    if isinstance(n_in, int) and 0 <= n_in <= reader.n_channels:
        names, units = peer_names(n_in, reader.n_channels - n_in)
        reader._names, reader._units = names, units
    if facts["fs"]:
        reader.fs = float(facts["fs"])
    reader.config = config  # type: ignore[attr-defined]
    if config is None:
        reader.kind = "iodat"
        reader.notes.append(f"no {CONFIG_NAME} beside it: rate and units unknown")
    return reader


def open_peer_npz(path: str | os.PathLike, trust_pickle: bool = False) -> ArrayReader:
    """inputs | outputs of a bspysmg npz; its config from JSON, or from the pickle with trust."""
    from backend.formats.npz import load_npz, npz_keys

    path = Path(path)
    data = load_npz(path, trust_pickle=trust_pickle, need_config=False)
    inputs = data.inputs.reshape(len(data.inputs), -1)
    outputs = data.outputs.reshape(len(data.outputs), -1)
    names, units = peer_names(inputs.shape[1], outputs.shape[1])
    notes = []
    if data.sampling_configs is None and "sampling_configs" in npz_keys(path):
        notes.append("sampling_configs is pickled and was not read (pass trust_pickle)")
    fs = config_facts(data.sampling_configs)["fs"]
    reader = ArrayReader(
        np.hstack([inputs, outputs]), names=names, units=units, fs=fs, path=path, kind="bspysmg-npz"
    )
    reader.config = data.sampling_configs  # type: ignore[attr-defined]
    reader.notes.extend(notes)
    return reader
