"""Expectations of 04_training_loop's checks, from the answer key.

Each is what the reference does on the case, from the same start the student's kernel
builds (``coursekit.checks.training_loop.cases``): the items of the reference dataset, the
sizes of a correct split, the weights after the reference epoch and its batch losses, the
calls a correct ``fit`` makes to the recording stand-ins and what it returns.
"""

from __future__ import annotations

import types
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from autograder.reference import training_loop as ref
from coursekit.checks.engine import Case
from coursekit.checks.training_loop import cases
from coursekit.checks.training_loop.standins import FitHelpers


class RecordingLoss:
    """MSE that remembers every batch loss and batch size (the mean is theirs)."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.sizes: list[int] = []

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.mse_loss(pred, target)
        self.losses.append(loss.item())
        self.sizes.append(len(target))
        return loss


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def delivery_dataset(case: Case) -> dict[str, Any]:
    X, y = case["X"], case["y"]
    dataset = ref.DeliveryDataset(X, y)
    indices = cases.sample_indices(len(X))
    return {"length": len(dataset), "indices": indices, "items": [tuple(dataset[i]) for i in indices],
            "batch": tuple(next(iter(DataLoader(dataset, batch_size=len(X), shuffle=False))))}


def make_loaders(case: Case) -> dict[str, Any]:
    train_loader, val_loader = ref.make_loaders(case["X"], case["y"], case["batch_size"], case["val_fraction"],
                                                case["seed"])
    return {"n": len(case["X"]), "n_val": len(val_loader.dataset),
            "train_sizes": [len(X_batch) for X_batch, _ in train_loader],
            "val_sizes": [len(X_batch) for X_batch, _ in val_loader]}


def _device(case: Case) -> dict[str, Any]:
    return {"device": cases.OTHER_DEVICE, "batches": len(cases.fixed_loader(case["X"], case["y"], case["batch_size"]))}


def train_one_epoch(case: Case) -> dict[str, Any]:
    if case["mode"] == "device":
        return _device(case)
    X, y = case["X"], case["y"]
    model = cases.build_model(case["seed"], X.shape[1], case["hidden"]).eval()
    start = _state(model)
    loader = cases.fixed_loader(X, y, case["batch_size"])
    loss = RecordingLoss()
    ref.train_one_epoch(model, loader, loss, torch.optim.SGD(model.parameters(), lr=case["lr"]), "cpu")
    return {"start": start, "params": _state(model), "losses": loss.losses, "sizes": loss.sizes,
            "batches": len(loader)}


def evaluate(case: Case) -> dict[str, Any]:
    if case["mode"] == "device":
        return _device(case)
    X, y = case["X"], case["y"]
    model = cases.build_model(case["seed"], X.shape[1], hidden=16, dropout=0.5).train()
    start = _state(model)
    loss = RecordingLoss()
    ref.evaluate(model, cases.fixed_loader(X, y, case["batch_size"]), loss, "cpu")
    return {"start": start, "losses": loss.losses, "sizes": loss.sizes}


def fit(case: Case) -> dict[str, Any]:
    """The reference fit with the same recording stand-ins: the calls it makes and what it returns."""
    X_train, y_train, X_val, y_val = cases.fit_parts(case["X"], case["y"])
    device = torch.device(case["device"])
    model = cases.build_model(case["seed"], case["X"].shape[1], 8).to(device)
    train_loader = cases.shuffled_loader(X_train, y_train, case["batch_size"], case["seed"])
    val_loader = cases.fixed_loader(X_val, y_val, case["batch_size"])
    loss_fn, optimizer = nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01)
    helpers = FitHelpers(model, train_loader, val_loader, loss_fn, optimizer, case["train_script"],
                         case["val_script"])
    # The reference fit, run with the stand-ins in its globals (a copy: the module itself is untouched).
    names = {**ref.fit.__globals__, "train_one_epoch": helpers.train_one_epoch, "evaluate": helpers.evaluate}
    fit_with_stand_ins = types.FunctionType(ref.fit.__code__, names, "fit", ref.fit.__defaults__)
    returned = fit_with_stand_ins(model, train_loader, val_loader, loss_fn, optimizer, case["epochs"], device)
    return {"calls": helpers.calls, "returned": returned}


EXPECTATIONS = {
    "delivery_dataset": delivery_dataset,
    "make_loaders": make_loaders,
    "train_one_epoch": train_one_epoch,
    "evaluate": evaluate,
    "fit": fit,
}
