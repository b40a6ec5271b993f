"""Fresh inputs of 01_tensors' hidden tests, from a seed (inputs only: no answers here)."""

from __future__ import annotations

import random

import torch

from coursekit.checks.engine import Case


def _numbers(rng: random.Random, n: int) -> list[float]:
    """A mix of ints and floats, as a student's data might come."""
    return [rng.randint(0, 20) if rng.random() < 0.5 else round(rng.uniform(0, 20), 2) for _ in range(n)]


def to_batch(seed: int) -> list[Case]:
    rng = random.Random(seed)
    n = rng.randint(1, 15)
    return [{"values": _numbers(rng, n), "kind": "ints and floats mixed"},
            {"values": [rng.randint(1, 30) for _ in range(n)], "kind": "whole numbers only"}]


def stack_features(seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for n in (rng.randint(1, 12), 3):  # N = 3: a transposed result has the right shape
        cases.append({"distances": _numbers(rng, n), "hours": [rng.randint(0, 23) for _ in range(n)],
                      "weather": [rng.randint(0, 1) for _ in range(n)],
                      "kind": "three deliveries" if n == 3 else f"{n} deliveries"})
    return cases


def add_batch_dim(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed)
    features = int(torch.randint(2, 9, (1,), generator=g))
    return [{"sample": torch.randn(features, generator=g), "kind": f"a sample of {features} features"}]


def linear_forward(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed)
    n, f, o = (int(v) for v in torch.randint(2, 7, (3,), generator=g))
    if f == o:
        o += 1  # a non-square W shows a transposed product
    return [{"X": torch.randn(n, f, generator=g), "W": torch.randn(f, o, generator=g),
             "b": torch.randn(o, generator=g), "kind": f"{f} features in, {o} out"}]


def mse(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed)
    n = int(torch.randint(2, 12, (1,), generator=g))
    pred, target = 30 * torch.rand(n, 1, generator=g), 30 * torch.rand(n, 1, generator=g)
    return [
        {"pred": pred, "target": target, "kind": "shapes [N, 1] and [N, 1]"},
        {"pred": pred.flatten(), "target": target.flatten(), "kind": "shapes [N] and [N]"},
        {"pred": pred.flatten(), "target": target, "kind": "shapes [N] and [N, 1], which must be refused"},
        {"pred": pred, "target": target.flatten(), "kind": "shapes [N, 1] and [N], which must be refused"},
        {"pred": pred, "target": target.T, "kind": "shapes [N, 1] and [1, N], which must be refused"},
    ]
