"""The surrogate network: brains-py's `NeuralNetworkModel` layout, built and initialised.

`raw_model` is `Linear, act, Linear, act, ..., Linear` (state_dict keys
`raw_model.<i>.weight/bias`), so brains-py's SurrogateModel loads what we
train. With `batch_norm` a BatchNorm1d follows every hidden Linear (before
its activation); brains-py 1.0.2 ignores that flag, so such files load here
only.

Initial weights are drawn from a seeded `torch.Generator` in brains-py's
order (input layer, OUTPUT layer, then the hidden layers: it creates the
output layer before the hidden ones), with torch's Linear initialisation.
The global RNG is never touched, so training on a worker thread cannot
change, or be changed by, other threads' random numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from backend.errors import FileFormatError
from backend.models.structure import ACTIVATION_NAMES, Structure

#: Each activation's module, by the names `structure.ACTIVATION_NAMES` lists.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = dict(
    zip(ACTIVATION_NAMES, (nn.ReLU, nn.ELU, nn.Tanh, nn.Hardtanh, nn.Sigmoid), strict=True)
)


class SurrogateNetwork(nn.Module):
    """The MLP a surrogate model is: `raw_model` as in brains-py, outputs in amplifier volts."""

    def __init__(self, structure: Structure, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.structure = structure.check()
        sizes = [structure.d_in, *structure.hidden]
        layers: list[nn.Module] = []
        with torch.device("meta"):  # no draws here: weights are drawn below, in the peer's order
            for a, b in itertools.pairwise(sizes):
                layers.append(nn.Linear(a, b))
                if structure.batch_norm:
                    layers.append(nn.BatchNorm1d(b))
                layers.append(ACTIVATIONS[structure.activation]())
            layers.append(nn.Linear(sizes[-1], structure.d_out))
        self.raw_model = nn.Sequential(*layers).to_empty(device="cpu")
        self.reset_parameters(generator)

    @property
    def linears(self) -> list[nn.Linear]:
        return [m for m in self.raw_model if isinstance(m, nn.Linear)]

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """torch's Linear initialisation, drawn in brains-py's order: input, output, hidden."""
        linears = self.linears
        with torch.no_grad():
            for layer in [linears[0], linears[-1], *linears[1:-1]]:
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                bound = 1 / math.sqrt(layer.weight.shape[1])
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
            for module in self.raw_model:
                if isinstance(module, nn.BatchNorm1d):
                    module.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.raw_model(x)


def structure_of_state(state: Mapping[str, Any], declared: Mapping[str, Any] | None) -> Structure:
    """The structure a state dict holds; the activation and batch norm flag from `declared`."""
    weights = [
        k
        for k, v in state.items()
        if k.startswith("raw_model.") and k.endswith(".weight") and getattr(v, "ndim", 0) == 2
    ]
    if not weights:
        raise FileFormatError("the model's state dict holds no raw_model.<i> linear layers")
    weights.sort(key=lambda k: int(k.split(".")[1]))
    sizes = [int(state[weights[0]].shape[1])] + [int(state[k].shape[0]) for k in weights]
    declared = declared if isinstance(declared, Mapping) else {}
    has_norm = any(k.endswith(".running_mean") for k in state)
    structure = Structure(
        d_in=sizes[0],
        d_out=sizes[-1],
        hidden=tuple(sizes[1:-1]),
        activation=declared.get("activation", "relu"),
        batch_norm=has_norm,
    )
    found = structure.problems()
    if found:
        raise FileFormatError(f"the model's structure cannot be used: {'; '.join(found)}")
    return structure


def network_from_state(
    state: Mapping[str, Any], declared: Mapping[str, Any] | None = None
) -> SurrogateNetwork:
    """A network holding `state` (keys raw_model.<i>.*), in eval mode on the CPU."""
    net = SurrogateNetwork(structure_of_state(state, declared))
    try:
        net.load_state_dict(dict(state))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise FileFormatError(f"the model's weights do not fit its layout ({first})") from None
    return net.eval()
