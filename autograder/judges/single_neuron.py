"""Expectations of 03_single_neuron's checks, from the answer key.

Besides the reference's own results, ``train_model``'s expectation carries the runs of
known mistakes from the same start (no zero_grad, Adam, lr ignored, an [N] target against
[N, 1] predictions), so the kit's verdict can name the mistake a student's losses follow;
``build_nonlinear_model``'s carries, for every seed the check uses, the starts nn.Linear
draws (layers made in either order) and the error the reference loop reaches from each.
"""

from __future__ import annotations

import copy
import types
import warnings
from typing import Any

import torch
from torch import nn

from autograder.reference import single_neuron as ref
from coursekit.checks.engine import Case
from coursekit.checks.single_neuron import cases
from coursekit.data.delivery import least_squares_line

#: Known-mistake runs are compared over their first epochs only (enough to tell them apart).
MISTAKE_EPOCHS = 60


def build_model(case: Case) -> dict[str, torch.Tensor]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(case["seed"])
        model = ref.build_model()
    return {name: p.detach() for name, p in model.named_parameters()}


def exact_run(start: list[float], X: torch.Tensor, y: torch.Tensor, lr: float,
              epochs: int) -> tuple[list[float], float, float]:
    """The reference loop's losses and final (w, b) from ``start``, computed exactly in float64.

    Full-batch SGD on a line's MSE only needs five sums of the data, so the reference
    trajectory costs microseconds an epoch instead of a PyTorch step; it agrees with
    ``ref.train_model`` in float32 far within the check's tolerance (tested).
    """
    x, t = X.double().flatten(), y.double().flatten()
    n = float(len(x))
    sx, sxx, st, sxt, stt = (float(v) for v in (x.sum(), (x * x).sum(), t.sum(), (x * t).sum(), (t * t).sum()))
    w, b = float(start[0]), float(start[1])
    losses = []
    for _ in range(epochs):
        losses.append((w * w * sxx + 2 * w * b * sx + n * b * b - 2 * w * sxt - 2 * b * st + stt) / n)
        grad_w = 2 / n * (w * sxx + b * sx - sxt)
        grad_b = 2 / n * (w * sx + n * b - st)
        w, b = w - lr * grad_w, b - lr * grad_b
    return losses, w, b


def mistaken_run(start: list[float], X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, *,
                 adam: bool = False, zero: bool = True, flat_target: bool = False) -> list[float]:
    """The losses of the loop with one known mistake put in, from the same start (float32, as a student's)."""
    model = cases.line(*start)
    optimizer = (torch.optim.Adam if adam else torch.optim.SGD)(model.parameters(), lr=lr)
    target = y.flatten() if flat_target else y
    losses = []
    for _ in range(epochs):
        if zero:
            optimizer.zero_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = nn.functional.mse_loss(model(X), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_model(case: Case) -> dict[str, Any]:
    X, y, start = case["X"], case["y"], case["start"]
    lr = cases.DEFAULT_LR if case.get("lr") is None else case["lr"]
    epochs = cases.DEFAULT_EPOCHS if case.get("epochs") is None else case["epochs"]
    losses, w, b = exact_run(start, X, y, lr, epochs)
    some = min(epochs, MISTAKE_EPOCHS)
    mistakes = {"adam": mistaken_run(start, X, y, lr, some, adam=True),
                "no_zero_grad": mistaken_run(start, X, y, lr, some, zero=False)}
    if lr != cases.DEFAULT_LR:
        mistakes["lr_default"] = mistaken_run(start, X, y, cases.DEFAULT_LR, some)
    return {"losses": losses, "weight": w, "bias": b, "mistakes": mistakes,
            "broadcast_first_loss": mistaken_run(start, X, y, lr, 1, flat_target=True)[0]}


def predict_minutes(case: Case) -> float:
    model = cases.line(case["weight"], case["bias"], case.get("dropout", 0.0))
    return ref.predict_minutes(model, case["miles"])


def take_order(case: Case) -> dict[str, Any]:
    """The reference ``take_order`` with the same stand-in for ``predict_minutes`` as the student's."""
    def stand_in(model: nn.Module, miles: float) -> float:
        return case["minutes"]

    reference = types.FunctionType(ref.take_order.__code__, {**ref.take_order.__globals__,
                                                             "predict_minutes": stand_in},
                                   "take_order", ref.take_order.__defaults__)
    model = cases.line(case["weight"], case["bias"])
    promise = case.get("promise")
    take = reference(model, case["miles"]) if promise is None else reference(model, case["miles"], promise=promise)
    limit = ref.take_order.__defaults__[0] if promise is None else promise
    return {"take": take, "minutes": case["minutes"], "promise": limit}


def _network(first: nn.Linear, second: nn.Linear) -> nn.Module:
    return nn.Sequential(first, nn.ReLU(), second)


def _draw(size: int, seed: int, output_first: bool) -> nn.Module:
    """The network nn.Linear draws after ``torch.manual_seed(seed)``, its layers made in the given order."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if output_first:
            second = nn.Linear(size, 1)
            first = nn.Linear(1, size)
        else:
            first = nn.Linear(1, size)
            second = nn.Linear(size, 1)
    return _network(first, second)


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    first, second = ref.hidden_and_output(model)
    return {"w1": first.weight.detach().clone(), "b1": first.bias.detach().clone(),
            "w2": second.weight.detach().clone(), "b2": second.bias.detach().clone()}


def build_nonlinear_model(case: Case) -> dict[str, Any]:
    size = 16 if case.get("hidden") is None else case["hidden"]
    probe = case["probe"]
    with torch.random.fork_rng(devices=[]):
        network = ref.build_nonlinear_model(size)
    first, second = ref.hidden_and_output(network)
    with torch.no_grad():
        for layer, w, b in ((first, probe["w1"], probe["b1"]), (second, probe["w2"], probe["b2"])):
            layer.weight.copy_(w)
            layer.bias.copy_(b)
        x = cases.probe_miles()
        expected: dict[str, Any] = {"out": network(x), "without_relu": second(first(x))}
    if "X" not in case:
        return expected
    X, y = case["X"], case["y"]
    w, b = least_squares_line(X, y)
    expected["line_error"] = float(((w * X.double() + b - y.double()) ** 2).mean())
    starts = []
    for seed in case["seeds"]:
        known = []
        for output_first in (False, True):
            model = _draw(size, seed, output_first)
            weights = _weights(model)
            trained = copy.deepcopy(model)
            ref.train_nonlinear(trained, X, y)
            known.append({**weights, "order": "output layer first" if output_first else "hidden layer first",
                          "trained": ref.mse_of(trained, X, y)})
        starts.append(known)
    expected["starts"] = starts
    return expected


EXPECTATIONS = {
    "build_model": build_model,
    "train_model": train_model,
    "predict_minutes": predict_minutes,
    "take_order": take_order,
    "build_nonlinear_model": build_nonlinear_model,
}
