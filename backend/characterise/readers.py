"""I-V and consistency results as data-layer file kinds (`samplelab info`, the browser).

`FILE_KINDS` registers both with `backend.data.kinds` (listed in its KIND_PROVIDERS):

- an I-V result reads as (points, electrodes x (1 + outputs)): per electrode its
  sweep voltage, then every output current during that sweep;
- a consistency result reads as (rows, repetitions x outputs): the outputs
  measured in each repetition of the reference signal.

The facts a table cannot show (settings, RMSE per repetition, the verdict)
go into the reader's notes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from backend.characterise.checkfiles import CHECK_KEYS, read_consistency
from backend.characterise.ivfiles import IV_FORMAT, IV_KEYS, read_iv
from backend.data.kinds import FileKind
from backend.data.reader import ArrayReader

IV_KIND, CHECK_KIND = "iv-curves", "consistency"


def open_iv_reader(path: str | os.PathLike) -> ArrayReader:
    iv = read_iv(path)
    n_in, points, n_out = iv.currents.shape
    columns, names, units = [], [], []
    for k in range(n_in):
        label = f"IV{k + 1}"
        columns.append(iv.voltages[k])
        names.append(f"{label} V")
        units.append("V")
        for j in range(n_out):
            columns.append(iv.currents[k, :, j])
            names.append(f"{label} {iv.readout_channels[j]}")
            units.append("nA")
    reader = ArrayReader(np.stack(columns, axis=1), names, units, path=Path(path), kind=IV_KIND)
    s = iv.settings
    how = f", {s.shape} {'up' if s.up else 'down'}" if s is not None else ""
    outputs = f"{n_out} output" + ("s" if n_out != 1 else "")
    reader.notes.append(f"I-V curves: {n_in} electrodes x {points} points{how}, {outputs}")
    pairs = ", ".join(f"IV{k + 1} = {name}" for k, name in enumerate(iv.activation_channels))
    reader.notes.append(f"electrodes: {pairs}")
    if len(iv.groups) > 1:
        reader.notes.append("devices: " + ", ".join(g.name for g in iv.groups))
    if iv.device:
        reader.notes.append(f"measured on: {iv.device.get('name', iv.device.get('kind', '?'))}")
    return reader


def open_check_reader(path: str | os.PathLike) -> ArrayReader:
    check = read_consistency(path)
    reps, rows, n_out = check.results.shape
    table = check.results.transpose(1, 0, 2).reshape(rows, reps * n_out)
    names = [f"rep {r + 1} out {j}" for r in range(reps) for j in range(n_out)]
    reader = ArrayReader(table, names, ["nA"] * len(names), path=Path(path), kind=CHECK_KIND)
    reader.notes.append(
        "consistency check: RMSE per repetition "
        + ", ".join(f"{d:.3g}" for d in check.deviations)
        + " nA; correlation "
        + ", ".join(f"{c:.4f}" for c in check.correlation)
    )
    if check.deviation_chargeup is not None and len(check.deviation_chargeup):
        values = ", ".join(f"{d:.3g}" for d in check.deviation_chargeup)
        reader.notes.append(f"charge-up RMSE per batch: {values} nA")
    if check.verdict is not None and check.verdict.get("text"):
        reader.notes.append(f"verdict: {check.verdict['text']}")
    return reader


FILE_KINDS = (
    FileKind(IV_KIND, "I-V curves", lambda path, key, **_: open_iv_reader(path),
             hdf5_format=IV_FORMAT, npz_members=frozenset(IV_KEYS),
             npz_without=frozenset({"inputs"})),
    FileKind(CHECK_KIND, "consistency check", lambda path, key, **_: open_check_reader(path),
             npz_members=frozenset(CHECK_KEYS)),
)  # fmt: skip
