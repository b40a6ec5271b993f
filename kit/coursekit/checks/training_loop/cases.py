"""Inputs of 04_training_loop's checks: data, starting models, loaders and scripts (no answers here).

A case is plain data. What a check builds from it (a seeded starting model, a loader
that serves the same batches every time) is built here, so that the student's kernel
and the judge build the very same things from the same case.

Every case has a ``"mode"``: which of its exercise's tests it is (``"train"`` or
``"device"`` for ``train_one_epoch``, for example), and a ``"kind"``: a few words a
student can act on.
"""

from __future__ import annotations

import random

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from coursekit.checks.engine import Case
from coursekit.data.delivery import delivery_table

#: The device the device tests put the model on: it has shapes but no values, on every machine,
#: so a batch left on the CPU fails there as it would against a GPU model.
OTHER_DEVICE = "meta"


# ----------------------------------------------------------------------------- what cases build


def build_model(seed: int, features: int, hidden: int = 0, dropout: float = 0.0) -> nn.Module:
    """A small seeded regression model: one Linear layer, or Linear-ReLU-(Dropout)-Linear.

    The global random generator is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not hidden:
            return nn.Sequential(nn.Linear(features, 1))
        layers: list[nn.Module] = [nn.Linear(features, hidden), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        return nn.Sequential(*layers, nn.Linear(hidden, 1))


def fixed_loader(X: torch.Tensor, y: torch.Tensor, batch_size: int) -> DataLoader:
    """A loader of PyTorch's own TensorDataset that gives the same batches in the same order every time."""
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=False)


def shuffled_loader(X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int) -> DataLoader:
    """A shuffling loader whose orders come from ``seed``."""
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def fit_parts(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(X_train, y_train, X_val, y_val) of fit's tests: the first fifth validates."""
    n_val = len(X) // 5
    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]


def sample_indices(n: int) -> list[int]:
    """The items of a dataset of ``n`` samples that the dataset test reads."""
    return sorted({0, n // 2, n - 1})


def _script(seed: int, count: int, low: float, high: float) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(low, high), 4) for _ in range(count)]


def _batches(n: int, batch_size: int) -> str:
    full, rest = divmod(n, batch_size)
    if not rest:
        return f"{full} full batches"
    return f"{full + 1} batches, the last one shorter"


# ----------------------------------------------------------------------------- visible cases


def dataset_case(X: torch.Tensor, y: torch.Tensor) -> Case:
    return {"mode": "dataset", "X": X, "y": y}


def loaders_case(X: torch.Tensor, y: torch.Tensor, batch_size: int, val_fraction: float, seed: int) -> Case:
    return {"mode": "loaders", "X": X, "y": y, "batch_size": int(batch_size), "val_fraction": float(val_fraction),
            "seed": int(seed)}


def epoch_case(X: torch.Tensor, y: torch.Tensor, batch_size: int, lr: float, seed: int, hidden: int) -> Case:
    return {"mode": "train", "X": X, "y": y, "batch_size": int(batch_size), "lr": float(lr), "seed": int(seed),
            "hidden": int(hidden)}


def device_case(X: torch.Tensor, y: torch.Tensor, batch_size: int, function: str) -> Case:
    """``function`` (train_one_epoch or evaluate) with its model on another device, its batches on the CPU."""
    return {"mode": "device", "function": function, "X": X, "y": y, "batch_size": int(batch_size)}


def evaluate_case(X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int) -> Case:
    return {"mode": "evaluate", "X": X, "y": y, "batch_size": int(batch_size), "seed": int(seed)}


def fit_case(X: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, seed: int, device: str) -> Case:
    """fit's test: the stand-ins of train_one_epoch and evaluate return these scripted losses in turn."""
    count = int(epochs) + 3  # a few more than needed: a loop that runs too long still gets numbers
    return {"mode": "fit", "X": X, "y": y, "epochs": int(epochs), "batch_size": int(batch_size), "seed": int(seed),
            "device": device, "train_script": _script(seed, count, 20.0, 60.0),
            "val_script": _script(seed + 1, count, 1.0, 19.0)}


# ----------------------------------------------------------------------------- hidden cases


def _fresh(seed: int, low: int, high: int) -> tuple[random.Random, torch.Tensor, torch.Tensor]:
    rng = random.Random(seed)
    X, y = delivery_table(seed, n=rng.randint(low, high))
    return rng, X, y


def delivery_dataset(seed: int) -> list[Case]:
    _, X, y = _fresh(seed, 5, 60)
    return [{**dataset_case(X, y), "kind": "other deliveries, 2 features"},
            {**dataset_case(X[:, :1].clone(), y), "kind": "other deliveries, one feature only"}]


def make_loaders(seed: int) -> list[Case]:
    rng, X, y = _fresh(seed, 60, 230)
    val_fraction = rng.choice([0.1, 0.15, 0.2, 0.25, 0.3])
    n = len(X)
    while abs(n * val_fraction % 1 - 0.5) < 1e-6:  # no ties, where rounding conventions differ
        n -= 1
    batch_size = rng.choice([8, 10, 16, 25])
    case = loaders_case(X[:n].clone(), y[:n].clone(), batch_size, val_fraction, rng.randint(1, 10_000))
    return [{**case, "kind": "another log, val_fraction and batch_size"}]


def train_one_epoch(seed: int) -> list[Case]:
    rng, X, y = _fresh(seed, 30, 110)
    batch_size = rng.choice([7, 10, 16, 25])
    lr = rng.choice([0.0005, 0.001, 0.002])
    hidden = rng.choice([0, 8])
    model = "a hidden layer" if hidden else "one linear layer"
    return [{**epoch_case(X, y, batch_size, lr, seed, hidden), "kind": f"{model}, {_batches(len(X), batch_size)}"},
            {**device_case(X, y, batch_size, "train_one_epoch"), "kind": "the model on another device than the CPU"}]


def evaluate(seed: int) -> list[Case]:
    rng, X, y = _fresh(seed, 20, 90)
    batch_size = rng.choice([6, 10, 16, 32])
    return [{**evaluate_case(X, y, batch_size, seed), "kind": f"a model with dropout, {_batches(len(X), batch_size)}"},
            {**device_case(X, y, batch_size, "evaluate"), "kind": "the model on another device than the CPU"}]


def fit(seed: int) -> list[Case]:
    rng, X, y = _fresh(seed, 40, 120)
    epochs = rng.randint(2, 6)
    rng.choice([0.0005, 0.001, 0.002])  # the learning rate of earlier versions: kept, so the draws stay the same
    batch_size = rng.choice([8, 16, 20])
    device_epochs = rng.randint(1, 3)
    return [{**fit_case(X, y, epochs, batch_size, seed, "cpu"), "kind": "another number of epochs"},
            {**fit_case(X, y, device_epochs, batch_size, seed + 7, OTHER_DEVICE),
             "kind": "the model on another device than the CPU"}]
