"""Inputs of 03_single_neuron's checks: hidden cases from a seed, and the models a case describes.

A case is plain data (numbers, tensors); the models the student's functions are given
(a line with set weights, with or without dropout) are built from it, the same way in the
student's kernel and in the judge. Nothing here computes an answer.
"""

from __future__ import annotations

import random

import torch
from torch import nn

from coursekit.checks.engine import Case
from coursekit.data.delivery import bike_a, fresh_bike_data
from coursekit.data.mixed import mixed_deliveries

#: ``train_model``'s defaults, as the exercise states them.
DEFAULT_LR, DEFAULT_EPOCHS = 0.01, 500
#: The ``torch.manual_seed`` calls under which ``build_nonlinear_model`` is asked for the starts
#: that are trained: a start with no bend inside the data stays a line, so a further one is tried.
NONLINEAR_SEEDS = (100, 101, 102)
#: Distances at which a network is compared with Linear -> ReLU -> Linear (beyond the data on
#: both sides, so that every bend shows).
PROBE_MILES = (-3.0, 15.0, 61)


def probe_miles() -> torch.Tensor:
    """The [61, 1] batch of distances at which networks are compared."""
    low, high, count = PROBE_MILES
    return torch.linspace(low, high, count).reshape(-1, 1)


def line(weight: float, bias: float, dropout: float = 0.0) -> nn.Module:
    """One neuron with hand-set weight and bias (time = weight * miles + bias), then dropout if asked.

    Built without touching the notebook's random stream.
    """
    with torch.random.fork_rng(devices=[]):
        layers = [nn.Linear(1, 1)] + ([nn.Dropout(dropout)] if dropout else [])
        model = nn.Sequential(*layers)
    with torch.no_grad():
        model[0].weight.fill_(float(weight))
        model[0].bias.fill_(float(bias))
    return model


def line_of(model: nn.Module) -> tuple[float, float]:
    """(weight, bias) of a one-neuron model (the notebook's ``line_model``), for a visible case."""
    layer = next(m for m in model.modules() if isinstance(m, nn.Linear))
    return float(layer.weight.detach().reshape(-1)[0]), float(layer.bias.detach().reshape(-1)[0])


def neuron_start(seed: int) -> list[float]:
    """A starting (weight, bias) as nn.Linear(1, 1) draws them (uniform in [-1, 1)), from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    return [float(v) for v in torch.rand(2, generator=g) * 2 - 1]


def network_probe(hidden: int, seed: int) -> dict[str, torch.Tensor]:
    """Weights for a Linear(1, hidden) -> ReLU -> Linear(hidden, 1) network, with bends spread over
    the probe distances and outputs of both signs: loaded into a student's network, they show what
    its layers compute."""
    g = torch.Generator().manual_seed(seed)
    signs = torch.where(torch.rand(hidden, 1, generator=g) < 0.5, -1.0, 1.0)
    w1 = signs * (0.5 + torch.rand(hidden, 1, generator=g))
    bends = -2.0 + 16.0 * torch.rand(hidden, 1, generator=g)
    b1 = (-w1 * bends).reshape(-1)
    w2 = torch.randn(1, hidden, generator=g) * 2.0 / hidden ** 0.5
    b2 = torch.randn(1, generator=g)
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


def build_model(seed: int) -> list[Case]:
    return [{"seed": seed, "kind": "a fresh random start"}]


def train_model(seed: int) -> list[Case]:
    """The notebook's four deliveries at another rate, then a fresh data set, rate and length."""
    miles, minutes = bike_a()
    rng = random.Random(seed)
    n = rng.randint(5, 15)
    X, y = fresh_bike_data(seed, n=n)
    lr = rng.choice([0.002, 0.004, 0.006, 0.012])
    epochs = rng.randint(20, 60)
    return [
        {"X": miles, "y": minutes, "lr": 0.02, "epochs": 30, "start": neuron_start(11),
         "kind": "the notebook's four deliveries, lr and epochs of the test's choosing"},
        {"X": X, "y": y, "lr": lr, "epochs": epochs, "start": neuron_start(seed),
         "kind": f"{n} fresh deliveries, lr and epochs of the test's choosing"},
    ]


def predict_minutes(seed: int) -> list[Case]:
    """Fresh lines; distances with decimals and whole ones; a model with dropout."""
    rng = random.Random(seed)
    w, b = rng.uniform(2.0, 7.0), rng.uniform(3.0, 15.0)
    return [
        {"weight": w, "bias": b, "dropout": 0.0, "miles": round(rng.uniform(0.5, 12.0), 2),
         "kind": "a distance with decimals"},
        {"weight": w, "bias": b, "dropout": 0.0, "miles": rng.randint(1, 12), "kind": "a whole-number distance"},
        {"weight": w, "bias": b, "dropout": 0.5, "miles": round(rng.uniform(0.5, 12.0), 2),
         "kind": "a model with dropout"},
    ]


def take_order(seed: int) -> list[Case]:
    """Whole-number lines, so that a prediction can equal the promise exactly; promises on both sides of 30.

    ``minutes`` is what the stand-in for ``predict_minutes`` answers (the line's time for ``miles``).
    """
    rng = random.Random(seed)
    w, b = rng.randint(2, 6), rng.randint(4, 12)
    miles = rng.randint(2, 9)
    predicted = w * miles + b
    long_trip = (40 - b) // w + 1
    orders = [
        (miles, None, "the default promise"),
        (miles, float(predicted), "a prediction exactly equal to the promise"),
        (miles, predicted - 0.5, "a promise just under the prediction"),
        (miles, predicted + 3.0, "a promise above the prediction"),
        (long_trip, float(w * long_trip + b + 1), "a long trip within a generous promise"),
        (1, float(w + b - 1), "a short trip over a strict promise"),
    ]
    return [{"weight": float(w), "bias": float(b), "miles": m, "promise": p, "minutes": float(w * m + b),
             "kind": kind} for m, p, kind in orders]


def build_nonlinear_model(seed: int) -> list[Case]:
    """The default width and a narrow one (what the layers compute), then a fresh mixed data set
    and width (trained from the network's own starts)."""
    rng = random.Random(seed)
    hidden = rng.choice((20, 24, 28, 32))
    X, y = mixed_deliveries(seed)
    return [
        {"hidden": None, "probe": network_probe(16, seed), "seeds": [0], "kind": "the default width"},
        {"hidden": 3, "probe": network_probe(3, seed + 1), "seeds": [0], "kind": "a narrow network"},
        {"hidden": hidden, "probe": network_probe(hidden, seed + 2), "seeds": list(NONLINEAR_SEEDS),
         "X": X, "y": y, "kind": "trained on fresh mixed bike + car data"},
    ]
