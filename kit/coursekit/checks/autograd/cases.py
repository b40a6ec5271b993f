"""Fresh inputs of 02_autograd's hidden tests, from a seed (inputs only: no answers here)."""

from __future__ import annotations

import random

import torch

from coursekit.checks.autograd import functions
from coursekit.checks.engine import Case
from coursekit.data.delivery import fresh_feature_data


def derivative(seed: int) -> list[Case]:
    """Three fresh functions of one variable (polynomials, sin/exp, compositions) at fresh points."""
    rng = random.Random(seed)
    cases = []
    for family in rng.sample(range(7), 3):
        spec = functions.fresh_function(rng.randrange(10**6), family)
        cases.append({"function": spec, "x": round(rng.uniform(-2, 2), 3), "kind": functions.KINDS[spec["family"]]})
    return cases


def partials(seed: int) -> list[Case]:
    """Fresh functions of 1, 2, 3 and 4 variables at fresh points."""
    rng = random.Random(seed)
    cases = []
    for count in (1, 2, 3, 4):
        spec = functions.fresh_multi_function(rng.randrange(10**6), count)
        values = [round(rng.uniform(-1.5, 1.5), 3) for _ in range(count)]
        kind = f"{'one variable' if count == 1 else f'{count} variables'}: {functions.KINDS[spec['family']]}"
        cases.append({"function": spec, "values": values, "kind": kind})
    return cases


def gradient_step(seed: int) -> list[Case]:
    """Two steps in a row from fresh starts, on fresh data with 1 and with 2 to 4 features, fresh lr."""
    g = torch.Generator().manual_seed(seed)
    cases = []
    for features in (1, int(torch.randint(2, 5, (1,), generator=g))):
        n = int(torch.randint(5, 16, (1,), generator=g))
        X, y = fresh_feature_data(seed + features, n, features)
        W0, b0 = torch.randn(features, 1, generator=g), 5 * torch.randn(1, generator=g)
        lr = round(float(0.001 + 0.019 * torch.rand(1, generator=g)), 4)
        kind = f"{'one feature' if features == 1 else f'{features} features'}, two steps on the same W and b"
        cases.append({"W": W0, "b": b0, "X": X, "y": y, "lr": lr, "steps": 2, "kind": kind})
    return cases


def stable_lr(X: torch.Tensor, fraction: float) -> float:
    """``fraction`` of the largest learning rate for which gradient descent on the MSE converges."""
    A = torch.cat([X, torch.ones(X.shape[0], 1)], dim=1).double()
    largest = float(torch.linalg.eigvalsh(2 * A.T @ A / X.shape[0]).max())
    return round(fraction * 2 / largest, 5)


def train_manual(seed: int) -> list[Case]:
    """A fresh data set with 1 to 3 features (from the seed), a stable lr, a fresh epoch count and seed."""
    g = torch.Generator().manual_seed(seed)
    features = 1 + seed % 3
    n = int(torch.randint(6, 16, (1,), generator=g))
    X, y = fresh_feature_data(seed, n, features)
    lr = stable_lr(X, float(0.2 + 0.6 * torch.rand(1, generator=g)))
    epochs = int(torch.randint(15, 60, (1,), generator=g))
    kind = "one feature" if features == 1 else f"{features} features"
    return [{"X": X, "y": y, "lr": lr, "epochs": epochs, "seed": int(torch.randint(1, 10**4, (1,), generator=g)),
             "kind": kind}]
