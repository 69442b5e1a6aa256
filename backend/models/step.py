"""One training step, without per-step overhead: forward, backward and Adam on plain tensors.

For the plain layout (Linear + activation, no batch norm) `ManualStep`
computes the gradients itself with the very kernels autograd would call
(addmm; `g.t() @ h` for weights, `g @ W` for inputs; the activations' own
backward ops on saved outputs), so its weights are bit-identical to an
autograd step's, at a fraction of the bookkeeping. Batch norm layers go
through autograd (`AutogradStep`).

`FastAdam` is torch's single-tensor Adam arithmetic (the one brainspy-smg's
`torch.optim.Adam` runs on the CPU) in a handful of foreach calls, and its
`state_dict()` is the optimizer state brains-py and brainspy-smg store.

Nothing here calls `.item()`: a step returns its loss as a 0-d tensor, and
the training loop sums those on the device and syncs once per epoch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional

from backend.models.network import SurrogateNetwork

BETAS = (0.9, 0.75)
EPS = 1e-8


class FastAdam:
    """Adam (betas 0.9, 0.75) over `params`, updated with given gradients.

    `state_dict()` has the layout of `torch.optim.Adam.state_dict()` (group
    defaults read from its signature), without constructing one: that pulls
    in torch's compiler stack, seconds on a first run.
    """

    def __init__(self, params: list[nn.Parameter], lr: float) -> None:
        self.lr = float(lr)
        self.params = [p.detach() for p in params]  # same storage: updates land in the model
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
        self.exp_avg_sqs = [torch.zeros_like(avg) for avg in self.exp_avgs]
        self.steps = [torch.tensor(0.0) for _ in params]
        self.count = 0

    def update(self, grads: list[torch.Tensor]) -> None:
        beta1, beta2 = BETAS
        self.count += 1
        torch._foreach_add_(self.steps, 1.0)
        torch._foreach_lerp_(self.exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(self.exp_avg_sqs, beta2)
        torch._foreach_addcmul_(self.exp_avg_sqs, grads, grads, 1 - beta2)
        step = float(self.count)
        step_size = self.lr / (1 - beta1**step)
        denom = torch._foreach_sqrt(self.exp_avg_sqs)
        torch._foreach_div_(denom, (1 - beta2**step) ** 0.5)
        torch._foreach_add_(denom, EPS)
        torch._foreach_addcdiv_(self.params, self.exp_avgs, denom, -step_size)

    def state_dict(self) -> dict:
        """What `torch.optim.Adam(params, lr, betas=(0.9, 0.75)).state_dict()` would hold."""
        group = {**_adam_defaults(), "lr": self.lr, "betas": BETAS, "eps": EPS}
        group["params"] = list(range(len(self.params)))
        state = {
            i: {"step": step, "exp_avg": avg, "exp_avg_sq": sq}
            for i, (step, avg, sq) in enumerate(zip(self.steps, self.exp_avgs, self.exp_avg_sqs))
        }
        return {"state": state, "param_groups": [group]}


def _adam_defaults() -> dict:
    signature = inspect.signature(torch.optim.Adam.__init__)
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if name not in ("self", "params") and p.default is not inspect.Parameter.empty
    }


def _forward_act(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    return {
        "relu": torch.relu_,
        "tanh": torch.tanh_,
        "sigmoid": torch.sigmoid_,
        "hard-tanh": lambda z: functional.hardtanh_(z, -1.0, 1.0),
        "elu": functional.elu,  # not in place: its backward needs the input
    }[name]


def _backward_act(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """grad, saved -> grad through the activation; saved is the output (the input for elu)."""
    aten = torch.ops.aten
    return {
        "relu": lambda g, y: aten.threshold_backward(g, y, 0.0),
        "tanh": lambda g, y: aten.tanh_backward(g, y),
        "sigmoid": lambda g, y: aten.sigmoid_backward(g, y),
        "hard-tanh": lambda g, y: aten.hardtanh_backward(g, y, -1.0, 1.0),
        "elu": lambda g, x: aten.elu_backward(g, 1.0, 1.0, 1.0, False, x),
    }[name]


class ManualStep:
    """Forward, backward and Adam for a network without batch norm; returns the batch loss."""

    def __init__(self, net: SurrogateNetwork, adam: FastAdam) -> None:
        linears = net.linears
        self.weights = [layer.weight.detach() for layer in linears]
        self.biases = [layer.bias.detach() for layer in linears]
        activation = net.structure.activation
        self.forward_act = _forward_act(activation)
        self.backward_act = _backward_act(activation)
        self.keep_input = activation == "elu"
        self.adam = adam

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        weights, biases = self.weights, self.biases
        last = len(weights) - 1
        with torch.no_grad():
            layer_in = [x]  # the input of each Linear
            saved = []  # what each activation's backward needs
            h = x
            for k in range(last):
                z = torch.addmm(biases[k], h, weights[k].t())
                h = self.forward_act(z)
                saved.append(z if self.keep_input else h)
                layer_in.append(h)
            out = torch.addmm(biases[last], h, weights[last].t())
            diff = out - y
            loss = diff.pow(2).mean()
            g = diff.mul_(2.0 / diff.numel())
            grads: list[torch.Tensor] = [g] * (2 * len(weights))
            for k in range(last, -1, -1):
                grads[2 * k] = g.t().mm(layer_in[k])
                grads[2 * k + 1] = g.sum(0)
                if k:
                    g = self.backward_act(g.mm(weights[k]), saved[k - 1])
            self.adam.update(grads)
        return loss


class AutogradStep:
    """The general step (batch norm layers): autograd for the gradients, FastAdam to apply them."""

    def __init__(self, net: SurrogateNetwork, adam: FastAdam) -> None:
        self.net = net
        self.params = list(net.parameters())
        self.adam = adam

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = functional.mse_loss(self.net(x), y)
        grads = torch.autograd.grad(loss, self.params)
        with torch.no_grad():
            self.adam.update(list(grads))
        return loss.detach()


def make_step(net: SurrogateNetwork, adam: FastAdam) -> ManualStep | AutogradStep:
    """The fastest exact step for this network's layout."""
    return AutogradStep(net, adam) if net.structure.batch_norm else ManualStep(net, adam)
