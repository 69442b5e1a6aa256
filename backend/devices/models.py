"""Input-output models that stand in for a DNPU inside the simulated device.

A model maps activation voltages (points, n_in) to device currents (points,
n_out) in nA; the simulated device adds noise, drift, amplification and the
ADC around it. `MLPModel` is the default (a seeded torch network, so the
response is nonlinear and coupled like a real DNPU), `SurrogateModel` is a
trained surrogate (`training_data.pt`, ours or bspysmg's; it lives in
`backend.models.surrogate`, the one place such files become models),
`AnalyticModel` is a cheap numpy function for speed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch
from torch import nn

from backend.models.network import ACTIVATIONS
from backend.models.surrogate import SurrogateModel


class DeviceModel(Protocol):
    n_inputs: int
    n_outputs: int

    def __call__(self, x: np.ndarray) -> np.ndarray: ...

    def describe(self) -> dict: ...


__all__ = ["AnalyticModel", "DeviceModel", "FunctionModel", "MLPModel", "SurrogateModel"]


def _mlp(sizes: list[int], activation: str = "relu") -> nn.Sequential:
    """Linear layers of `sizes` with an activation between them (bspysmg's layout)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers).double().eval()


def _run(net: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return net(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))).numpy()


class MLPModel:
    """A seeded random MLP (7 -> 90 x 5 -> 1 by default) scaled to DNPU-like currents.

    Inputs are normalised by the electrode ranges; the output is standardised on
    a fixed probe set and mapped to `mean_nA +- std_nA`, so a default session
    spans roughly -200..180 nA and part of it saturates the ADC, as real ones do.
    """

    def __init__(
        self,
        ranges: np.ndarray,
        n_outputs: int = 1,
        seed: int = 0,
        hidden: tuple[int, ...] = (90,) * 5,
        mean_nA: float = -10.0,
        std_nA: float = 60.0,
    ) -> None:
        ranges = np.asarray(ranges, dtype=float)
        self.n_inputs, self.n_outputs, self.seed = len(ranges), n_outputs, seed
        self._centre = ranges.mean(axis=1)
        self._half = (ranges[:, 1] - ranges[:, 0]) / 2
        generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = _mlp([self.n_inputs, *hidden, n_outputs])
        probe = torch.rand((4096, self.n_inputs), generator=generator, dtype=torch.float64)
        z = _run(self.net, probe.numpy() * 2 - 1)
        self._mu, self._sigma = z.mean(axis=0), z.std(axis=0) + 1e-12
        self.mean_nA, self.std_nA = mean_nA, std_nA

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = _run(self.net, (x - self._centre) / self._half)
        return self.mean_nA + self.std_nA * (z - self._mu) / self._sigma

    def describe(self) -> dict:
        return {"model": "mlp", "seed": self.seed, "mean_nA": self.mean_nA, "std_nA": self.std_nA}


class AnalyticModel:
    """A cheap numpy stand-in: a saturating projection plus a ripple, per output.

    Inputs are normalised by the electrode ranges, so the output spans about
    +-scale_nA and only its tails saturate the ADC, like the MLP's.
    """

    def __init__(
        self, ranges: np.ndarray, n_outputs: int = 1, seed: int = 0, scale_nA: float = 130.0
    ) -> None:
        ranges = np.asarray(ranges, dtype=float)
        rng = np.random.default_rng([seed, 0xA11])
        self.n_inputs, self.n_outputs, self.seed = len(ranges), n_outputs, seed
        centre = ranges.mean(axis=1)
        half = (ranges[:, 1] - ranges[:, 0]) / 2
        self.weights = (
            rng.standard_normal((self.n_inputs, n_outputs)) * 1.5 / np.sqrt(self.n_inputs)
        )
        # Normalisation folded into the projection: one pass over x instead of three.
        self._w = self.weights / half[:, None]
        self._b = (centre / half) @ self.weights
        self._c0, self._h0 = centre[0], half[0]
        self.ripple = rng.uniform(5.0, 25.0, n_outputs)
        self.scale_nA = scale_nA

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Currents for normalised inputs z = (x - centre) / half, computed in one pass."""
        z0 = (x[:, :1] - self._c0) / self._h0
        return self.scale_nA * np.tanh(x @ self._w - self._b) + self.ripple * np.sin(3 * z0)

    def describe(self) -> dict:
        return {"model": "analytic", "seed": self.seed, "scale_nA": self.scale_nA}


class FunctionModel:
    """Any function of (points, n_in) volts returning (points, n_out) nA."""

    def __init__(
        self,
        fn: Callable[[np.ndarray], np.ndarray],
        n_inputs: int,
        n_outputs: int = 1,
        name: str = "function",
    ):
        self.fn, self.n_inputs, self.n_outputs, self.name = fn, n_inputs, n_outputs, name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(x), dtype=float).reshape(len(x), self.n_outputs)

    def describe(self) -> dict:
        return {"model": self.name}
