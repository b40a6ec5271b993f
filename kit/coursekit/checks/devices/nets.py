"""The small models the device checks hand to a student's functions, written as plain data.

A model crosses between the kernel and the judge as a *spec*: its layers, in an
``nn.Sequential``, and its state_dict, ``{"layers": [["linear", 1, 8], ["tanh"],
["dropout", 0.25], ["linear", 8, 1]], "state": {"0.weight": tensor, ...}}``. The
hidden tests use a courier network with dropout, so that training mode changes its
predictions; its Tanh keeps it apart from 03's ReLU network.
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import nn

Spec = dict[str, Any]

#: Seed of the weights a fresh model from the tests' ``build_fn`` starts with (any fixed number).
FRESH_SEED = 1_000_003


def _layer(item: list) -> nn.Module:
    kind, *args = item
    if kind == "linear":
        return nn.Linear(int(args[0]), int(args[1]))
    if kind == "relu":
        return nn.ReLU()
    if kind == "tanh":
        return nn.Tanh()
    if kind == "dropout":
        return nn.Dropout(float(args[0]))
    raise ValueError(f"the device checks know no layer {kind!r}")


def _item(layer: nn.Module) -> list:
    if type(layer) is nn.Linear and layer.bias is not None:
        return ["linear", layer.in_features, layer.out_features]
    if type(layer) is nn.ReLU:
        return ["relu"]
    if type(layer) is nn.Tanh:
        return ["tanh"]
    if type(layer) is nn.Dropout:
        return ["dropout", float(layer.p)]
    raise TypeError(f"the device checks take nn.Sequential models of Linear, ReLU, Tanh and Dropout layers, "
                    f"not {type(layer).__name__}")


def spec_of(model: nn.Module) -> Spec:
    """The spec of an ``nn.Sequential`` of Linear, ReLU, Tanh and Dropout layers (values copied to the CPU)."""
    if type(model) is not nn.Sequential:
        raise TypeError("the device checks take an nn.Sequential model")
    return {"layers": [_item(layer) for layer in model],
            "state": {name: t.detach().cpu().clone() for name, t in model.state_dict().items()}}


def build(layers: list) -> nn.Sequential:
    """A fresh model of these layers, the same weights each time; torch's random stream is left alone."""
    with torch.random.fork_rng(devices=[]):
        model = nn.Sequential(*(_layer(item) for item in layers))
    g = torch.Generator().manual_seed(FRESH_SEED)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g))
    return model


def build_with(spec: Spec) -> nn.Sequential:
    """The model a spec describes: its layers holding its state."""
    model = build(spec["layers"])
    with torch.no_grad():
        for name, t in model.state_dict(keep_vars=True).items():
            t.copy_(spec["state"][name])
    return model


def courier_net_spec(seed: int, hidden: int, dropout: float = 0.25) -> Spec:
    """A courier network (Linear, Tanh, Dropout, Linear) with weights drawn from ``seed``."""
    layers = [["linear", 1, hidden], ["tanh"], ["dropout", dropout], ["linear", hidden, 1]]
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, t in build(layers).state_dict().items():
        scale = 2.0 if name.endswith("bias") else 1.0
        state[name] = scale * torch.randn(t.shape, generator=g)
    return {"layers": layers, "state": state}


def hidden_size(seed: int) -> int:
    """The width of a hidden test's courier network, from its seed."""
    return random.Random(seed).randint(4, 16)
