"""The surrogate network's shape, checked; no torch here (forms and settings import it).

`backend.models.network` builds the network from a `Structure`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backend.errors import SamplelabError

#: The activations brains-py knows, in the order forms offer them.
ACTIVATION_NAMES = ("relu", "elu", "tanh", "hard-tanh", "sigmoid")
MAX_LAYER_SIZE = 100_000
MAX_HIDDEN_LAYERS = 64
#: Weights and biases at most: 200 MB of float32, 800 MB with gradients and Adam's moments.
#: brainspy-smg's 7 -> 90x5 -> 1 network has 33,571; layer sizes alone allow 10^11.
MAX_PARAMETERS = 50_000_000


def parameter_count(sizes: Sequence[int], batch_norm: bool = False) -> int:
    """Weights and biases of Linear layers between consecutive `sizes` (plus batch norm's)."""
    count = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    return count + (2 * sum(sizes[1:-1]) if batch_norm else 0)


def too_many_parameters(count: int, what: str = "the network") -> str | None:
    """The sentence saying `what`, of `count` parameters, is refused; None if it is not."""
    if count <= MAX_PARAMETERS:
        return None
    return (
        f"{what} would have {count:,} parameters; at most {MAX_PARAMETERS:,} "
        "(brainspy-smg's 90x5 network has 33,571)"
    )


@dataclass(frozen=True)
class Structure:
    """The network's shape: inputs, hidden sizes, outputs, activation, batch norm."""

    d_in: int
    d_out: int
    hidden: tuple[int, ...] = (90,) * 5
    activation: str = "relu"
    batch_norm: bool = False

    def problems(self) -> list[str]:
        """What is wrong with this structure, one sentence each (empty: usable)."""
        found = []
        for name, value in (("D_in", self.d_in), ("D_out", self.d_out)):
            if not _whole(value) or not 0 < value <= MAX_LAYER_SIZE:
                found.append(f"{name} must be a whole number from 1 to {MAX_LAYER_SIZE}")
        if not self.hidden or len(self.hidden) > MAX_HIDDEN_LAYERS:
            found.append(f"give 1 to {MAX_HIDDEN_LAYERS} hidden layer sizes")
        elif not all(_whole(h) and 0 < h <= MAX_LAYER_SIZE for h in self.hidden):
            found.append(f"hidden sizes must be whole numbers from 1 to {MAX_LAYER_SIZE}")
        elif not found:
            sizes = [self.d_in, *self.hidden, self.d_out]
            found += filter(None, [too_many_parameters(parameter_count(sizes, self.batch_norm))])
        if self.activation not in ACTIVATION_NAMES:
            found.append(
                f"unknown activation {self.activation!r}; use one of {', '.join(ACTIVATION_NAMES)}"
            )
        return found

    def check(self) -> Structure:
        found = self.problems()
        if found:
            raise SamplelabError(f"invalid model structure: {'; '.join(found)}")
        return self

    def to_peer(self) -> dict:
        """The peer's `model_structure` dict (plain types)."""
        return {
            "hidden_sizes": [int(h) for h in self.hidden],
            "D_in": int(self.d_in),
            "D_out": int(self.d_out),
            "activation": self.activation,
            "batch_norm": bool(self.batch_norm),
        }

    @classmethod
    def from_peer(cls, data: Mapping[str, Any], d_in: int | None = None, d_out: int | None = None):
        """From a `model_structure` dict; D_in/D_out default to the data's when absent."""
        hidden = data.get("hidden_sizes", [90] * 5)
        return cls(
            d_in=data.get("D_in", d_in),
            d_out=data.get("D_out", d_out),
            hidden=tuple(hidden) if isinstance(hidden, (list, tuple)) else (),
            activation=data.get("activation", "relu"),
            batch_norm=bool(data.get("batch_norm", False)),
        )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
