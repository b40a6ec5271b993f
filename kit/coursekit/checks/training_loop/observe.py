"""What 04_training_loop's checks watch when they run a student's function (in the student's kernel).

Every observation is plain data: returned values, parameters after the call, what the
probes saw (modes, grad mode, devices, optimizer steps, gradients that piled up), the
order in which loaders served the samples. No answer is computed here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from coursekit.checks import engine
from coursekit.checks.engine import Case, Observation, attempt, call
from coursekit.checks.expect import describe
from coursekit.checks.training_loop import cases
from coursekit.checks.training_loop.standins import DeviceLoss, FitHelpers, names_bound
from coursekit.probes import ForwardRecorder, GradientWatch, RecordingOptimizer


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def dataset(student: Callable, case: Case) -> Observation:
    """The dataset's type, len(), a few items, and the first batch a DataLoader makes of it."""
    X, y = case["X"], case["y"]
    made = call(student, X.clone(), y.clone())
    seen: Observation = {"is_dataset": isinstance(made, Dataset), "type": type(made).__name__}
    if not seen["is_dataset"]:
        return seen
    length, error = attempt(len, made)
    seen["length"], seen["length_error"] = length, error
    items = []
    for i in cases.sample_indices(len(X)):
        item, error = attempt(lambda i=i: made[i])
        items.append({"item": item, "error": error})
    seen["items"] = items
    if length == len(X) and all(it["error"] is None for it in items):
        seen["batch"], seen["batch_error"] = attempt(
            lambda: next(iter(DataLoader(made, batch_size=len(X), shuffle=False))))
    return seen


def _walk(loader: Any, index: dict[tuple[float, ...], int], y: torch.Tensor) -> dict[str, Any]:
    """One pass over a loader: the samples in the order served, batch sizes, anything odd."""
    if not isinstance(loader, DataLoader):
        return {"is_loader": False, "type": describe(loader)}
    batches, error = attempt(lambda: list(loader))
    if error is not None:
        return {"is_loader": True, "error": error}
    order: list[int] = []
    sizes: list[int] = []
    unknown = mixed = 0
    for batch in batches:
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2
                and all(isinstance(t, torch.Tensor) for t in batch) and len(batch[0]) == len(batch[1])):
            return {"is_loader": True, "bad_batch": describe(batch)}
        X_batch, y_batch = batch
        sizes.append(len(X_batch))
        for row, target in zip(X_batch.reshape(len(X_batch), -1).tolist(), y_batch.reshape(len(y_batch), -1),
                               strict=True):
            i = index.get(tuple(row), -1)
            if i < 0:
                unknown += 1
            elif target.shape != y[i].shape or not torch.allclose(target.double(), y[i].double(), atol=1e-5):
                mixed += 1
            order.append(i)
    return {"is_loader": True, "order": order, "sizes": sizes, "unknown": unknown, "mixed": mixed}


def loaders(student: Callable, case: Case) -> Observation:
    """Both loaders, each served twice; the validation part of a second call and of another seed."""
    X, y = case["X"], case["y"]
    size, fraction, seed = case["batch_size"], case["val_fraction"], case["seed"]
    index = {tuple(row): i for i, row in enumerate(X.tolist())}

    def split(seed_: int) -> tuple[Any, dict[str, str] | None]:
        # A stand-in for DeliveryDataset: PyTorch's TensorDataset serves the same pairs (X[i], y[i]).
        # Reseeding torch's generator is one right way to seed the split: it is not charged (the
        # generator is put back after the call all the same).
        seeding = getattr(engine, "attempt_seeding", engine.attempt)
        with names_bound(student, DeliveryDataset=TensorDataset):
            return seeding(student, X.clone(), y.clone(), size, fraction, seed_)

    seen: Observation = {}
    for name, seed_ in (("first", seed), ("again", seed), ("other_seed", seed + 1)):
        result, error = split(seed_)
        if error is not None:
            return {**seen, "raised": error}
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            return {**seen, "not_a_pair": describe(result)}
        train_loader, val_loader = result
        if name == "first":
            seen["train"] = [_walk(train_loader, index, y), _walk(train_loader, index, y)]
            seen["val"] = [_walk(val_loader, index, y), _walk(val_loader, index, y)]
        else:
            seen[f"val_{name}"] = _walk(val_loader, index, y)
    return seen


def _device_run(student: Callable, case: Case, *extra: Any) -> Observation:
    """The student's function on a model on another device, with batches on the CPU."""
    X, y = case["X"], case["y"]
    device = torch.device(cases.OTHER_DEVICE)
    model = cases.build_model(0, X.shape[1], 8).to(device)
    loss_fn = DeviceLoss()
    args = [model, cases.fixed_loader(X, y, case["batch_size"]), loss_fn]
    if extra:
        args.append(torch.optim.SGD(model.parameters(), lr=0.01))
    with ForwardRecorder(model) as forward:
        _, error = attempt(student, *args, device)
    inputs = sorted({d for c in forward.calls for d in c.input_devices})
    return {"error": error, "forward_passes": len(forward.calls), "input_devices": inputs,
            "loss_calls": len(loss_fn.devices), "target_devices": sorted({t for _, t in loss_fn.devices}),
            "pred_devices": sorted({p for p, _ in loss_fn.devices})}


def train_one_epoch(student: Callable, case: Case) -> Observation:
    """One epoch from a seeded start: the value returned, modes, gradients, steps, weights after."""
    if case["mode"] == "device":
        return _device_run(student, case, "optimizer")
    X, y = case["X"], case["y"]
    model = cases.build_model(case["seed"], X.shape[1], case["hidden"]).eval()  # model.train() must be called
    optimizer = RecordingOptimizer(torch.optim.SGD(model.parameters(), lr=case["lr"]))
    loader = cases.fixed_loader(X, y, case["batch_size"])
    with ForwardRecorder(model) as forward, GradientWatch(model.parameters()) as watch:
        returned = call(student, model, loader, nn.MSELoss(), optimizer, torch.device("cpu"))
    return {"returned": returned, "forward_training": [c.training for c in forward.calls],
            "piled_up": watch.piled_up, "steps": optimizer.steps, "params": _state(model)}


def evaluate(student: Callable, case: Case) -> Observation:
    """Two evaluations of a model with dropout handed over in training mode: values, modes, grad mode."""
    if case["mode"] == "device":
        return _device_run(student, case)
    X, y = case["X"], case["y"]
    model = cases.build_model(case["seed"], X.shape[1], hidden=16, dropout=0.5)
    loader = cases.fixed_loader(X, y, case["batch_size"])
    returned = []
    with ForwardRecorder(model) as forward:
        for _ in range(2):
            model.train()
            returned.append(call(student, model, loader, nn.MSELoss(), torch.device("cpu")))
    return {"returned": returned, "forward_training": [c.training for c in forward.calls],
            "forward_grad": [c.grad_enabled for c in forward.calls], "params": _state(model)}


def fit(student: Callable, case: Case) -> Observation:
    """fit with recording stand-ins of train_one_epoch and evaluate: what it called, what it returned."""
    X_train, y_train, X_val, y_val = cases.fit_parts(case["X"], case["y"])
    device = torch.device(case["device"])
    model = cases.build_model(case["seed"], case["X"].shape[1], 8).to(device)
    train_loader = cases.shuffled_loader(X_train, y_train, case["batch_size"], case["seed"])
    val_loader = cases.fixed_loader(X_val, y_val, case["batch_size"])
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    helpers = FitHelpers(model, train_loader, val_loader, loss_fn, optimizer, case["train_script"],
                         case["val_script"])
    with names_bound(student, train_one_epoch=helpers.train_one_epoch, evaluate=helpers.evaluate):
        returned = call(student, model, train_loader, val_loader, loss_fn, optimizer, case["epochs"], device)
    return {"returned": returned, "calls": helpers.calls}
