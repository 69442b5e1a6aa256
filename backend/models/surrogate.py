"""A trained surrogate as a device model: volts in, nA out, as brains-py computes it.

The one way a `training_data.pt` becomes a model, whoever trained it (us or
brainspy-smg): the network is rebuilt from the state dict
(`backend.models.network`), run in float32 like brains-py's SurrogateModel,
and its output multiplied by the amplification the file states. Noise and
clipping are the simulated device's job (its readout chain adds noise, the
ADC clips), so a model is a pure function here.

`describe()` names the file and its sha256, so a recording says exactly
which model stood in for the device; `test_rmse_nA` is the default noise of
a digital twin (brains-py's convention: noise of the model's RMSE).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from backend.errors import FileFormatError
from backend.models.checkpoint import (
    amplification_of,
    file_sha256,
    load_checkpoint,
    rmse_of,
    voltage_ranges_of,
)
from backend.models.network import SurrogateNetwork, network_from_state

#: Rows per forward pass: bounds the memory a long batch needs.
CHUNK = 1 << 16


class SurrogateModel:
    """A trained network as a `DeviceModel` (n_inputs, n_outputs, __call__, describe)."""

    def __init__(
        self,
        net: SurrogateNetwork,
        amplification: np.ndarray,
        source: str = "",
        sha256: str = "",
        test_rmse_nA: float | None = None,
        voltage_ranges: np.ndarray | None = None,
    ) -> None:
        self.net = net.eval()
        self.n_inputs = net.structure.d_in
        self.n_outputs = net.structure.d_out
        amp = np.asarray(amplification, dtype=np.float64).reshape(-1)
        self.amplification = np.broadcast_to(amp, (self.n_outputs,)).copy()
        self._amp32 = torch.tensor(self.amplification, dtype=torch.float32)
        self.source, self.sha256 = source, sha256
        self.test_rmse_nA = test_rmse_nA
        self.voltage_ranges = voltage_ranges

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        default_amplification: list[float] | None = None,
        *,
        trust_pickle: bool = False,
    ) -> SurrogateModel:
        """Read a training file (weights only); amplification from it, else the default given."""
        data = load_checkpoint(path, trust_pickle)
        info = data.get("info") if isinstance(data.get("info"), dict) else {}
        net = network_from_state(data["model_state_dict"], info.get("model_structure"))
        amplification = amplification_of(data) or default_amplification
        if amplification is None:
            raise FileFormatError(
                f"{path} does not say its amplification",
                "Pass the amplification the surrogate was trained with.",
            )
        test = rmse_of(data, "test_loss") or rmse_of(data, "min_val_loss")
        ranges = voltage_ranges_of(data)
        return cls(
            net,
            np.asarray(amplification, dtype=np.float64),
            str(Path(path).resolve()),
            file_sha256(path),
            None if test is None else float(np.sqrt(np.mean(np.square(test)))),
            None if ranges is None else np.asarray(ranges),
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Currents (points, n_out) in nA for voltages (points, n_in)."""
        x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        out = np.empty((len(x), self.n_outputs))
        with torch.inference_mode():
            for a in range(0, len(x), CHUNK):
                out[a : a + CHUNK] = (self.net(x[a : a + CHUNK]) * self._amp32).numpy()
        return out

    def describe(self) -> dict:
        return {
            "model": "surrogate",
            "source": self.source,
            "sha256": self.sha256,
            "amplification": self.amplification.tolist(),
            "test_rmse_nA": self.test_rmse_nA,
            "structure": self.net.structure.to_peer(),
        }
