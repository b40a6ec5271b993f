"""Fresh inputs of 05_devices_checkpoints' hidden tests, from a seed (inputs only: no answers here).

Cases never depend on the machine: each check runs its case on every device the machine
offers (meta, the CPU, and a GPU when there is one) and says in its observation where
each run went, so the same case and expectation serve a laptop, a grader and a GPU server.
"""

from __future__ import annotations

import random
from typing import Any

import torch

from coursekit.checks.devices import nets
from coursekit.checks.engine import Case
from coursekit.data.delivery import fresh_bike_data

#: Every machine pick_device is asked about: (cuda available, mps available).
COMBINATIONS = [[cuda, mps] for cuda in (False, True) for mps in (False, True)]


def pick_device(seed: int) -> list[Case]:
    """Every combination of cuda and mps, in an order drawn from the seed, then this machine as it is."""
    order = [list(c) for c in COMBINATIONS]
    random.Random(seed).shuffle(order)
    return [{"calls": order, "kind": "every mix of cuda and mps, in a shuffled order"},
            {"calls": [None], "kind": "this machine, nothing pretended"}]


def nested_batches(seed: int) -> list[tuple[str, Any]]:
    """(kind, batch) of the courier's kind built from ``seed``: a tensor, pairs, nested containers."""
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    n = rng.randint(2, 9)

    def tensor() -> torch.Tensor:
        if rng.random() < 0.25:
            return torch.randint(0, 24, (n, 1), generator=g)  # hours of the day: int64
        return 10 * torch.rand(n, rng.randint(1, 3), generator=g)

    def tree(depth: int) -> Any:
        if depth == 0 or rng.random() < 0.2:
            return tensor()
        kind = rng.choice(("tuple", "list", "dict"))
        items = [tree(depth - 1) for _ in range(rng.randint(1, 3))]
        if kind == "dict":
            return {f"{rng.choice(('miles', 'hour', 'rain', 'minutes'))}_{i}": item for i, item in enumerate(items)}
        return tuple(items) if kind == "tuple" else items

    hours = torch.randint(0, 24, (n, 1), generator=g)
    return [
        ("one tensor", tensor()),
        ("a pair (features, target), one of them int64", (hours, tensor())),
        ("a list holding a pair and a dict with a list inside",
         [(tensor(), tensor()), {"miles": tensor(), "extras": [tensor(), tensor()]}]),
        ("a dict of a dict, a tensor and a pair",
         {"features": {"miles": tensor(), "hour": hours.clone()}, "minutes": tensor(), "pair": (tensor(), tensor())}),
        ("containers nested three deep", [tree(3), tree(3)]),
    ]


def to_device(seed: int) -> list[Case]:
    return [{"batch": batch, "kind": kind} for kind, batch in nested_batches(seed)]


def predict_on_device(seed: int) -> list[Case]:
    """A courier network with dropout, handed over in training mode, and a fresh batch."""
    X, _ = fresh_bike_data(seed, n=random.Random(seed).randint(3, 12))
    spec = nets.courier_net_spec(seed, nets.hidden_size(seed + 1))
    return [{"model": spec, "X": X, "kind": "a network with dropout, handed over in training mode"},
            {"model": spec, "X": X[:1].clone(), "kind": "one order, a batch of one"}]


def save_checkpoint(seed: int) -> list[Case]:
    return [{"model": nets.courier_net_spec(seed, nets.hidden_size(seed)), "kind": "a network with dropout"}]


def load_checkpoint(seed: int) -> list[Case]:
    return [{"model": nets.courier_net_spec(seed, nets.hidden_size(seed)), "kind": "a network with dropout"}]
