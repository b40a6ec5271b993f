"""Expectations of 02_autograd's checks: analytic slopes, and the reference's descent with and without
the known mistakes put in (so that a wrong trajectory can be named by the mistake it matches)."""

from __future__ import annotations

import math
from typing import Any

import torch

from autograder.reference import autograd as ref
from coursekit.checks.autograd import functions
from coursekit.checks.engine import Case


def _product(values: list[float]) -> float:
    return math.prod(values) if values else 1.0


def analytic_partials(spec: functions.Spec, values: list[float]) -> list[float]:
    """The exact partial derivatives of a test function at ``values``, worked out by hand (float64)."""
    family, p = spec["family"], spec["params"]
    v = [float(x) for x in values]
    if family in functions.ONE_VARIABLE:
        x = v[0]
        if family == "cubic":
            slope = 3 * p["a"] * x**2 + 2 * p["b"] * x + p["c"]
        elif family == "sine":
            slope = p["a"] * p["b"] * math.cos(p["b"] * x + p["c"])
        elif family == "exp":
            slope = p["a"] * p["k"] * math.exp(p["k"] * x)
        elif family == "sin_exp":
            a, k = p["a"], p["k"]
            slope = (a * math.cos(a * x) + k * math.sin(a * x)) * math.exp(k * x)
        elif family == "exp_sin":
            a = p["a"]
            slope = a * math.cos(a * x) * math.exp(math.sin(a * x))
        elif family == "cubed_square":
            k, c = p["k"], p["c"]
            slope = 3 * (k * x**2 + c) ** 2 * 2 * k * x
        else:  # sin_square
            a = p["a"]
            slope = 2 * a * x * math.cos(a * x**2)
        return [slope]
    n = len(v)
    if family == "sines_and_product":
        a, c = p["a"], p["c"]
        return [a[i] * math.cos(v[i]) + c * _product([v[j] for j in range(n) if j != i]) for i in range(n)]
    if family == "exp_and_squares":
        a, w, c = p["a"], p["w"], p["c"]
        e = math.exp(sum(w[i] * v[i] for i in range(n)))
        return [c * w[i] * e + 2 * a[i] * v[i] for i in range(n)]
    if family == "square_and_cube":
        a, c = p["a"], p["c"]
        s = sum(a[i] * v[i] for i in range(n))
        return [2 * a[i] * s + (3 * c * v[0] ** 2 if i == 0 else 0.0) for i in range(n)]
    if family == "bilinear":
        return [p["p"] * v[1] + p["q"], p["p"] * v[0] + p["r"]]
    if family == "line_mse":
        w, b = v
        residuals = [w * x + b - y for x, y in zip(p["xs"], p["ys"], strict=True)]
        count = len(residuals)
        return [sum(2 * r * x for r, x in zip(residuals, p["xs"], strict=True)) / count,
                sum(2 * r for r in residuals) / count]
    raise ValueError(f"unknown function family {family!r}")


def derivative(case: Case) -> dict[str, float]:
    """The slope at x, and f's value there (a student who returns the value is told so)."""
    x = float(case["x"])
    value = functions.build(case["function"])(torch.tensor(x, dtype=torch.float64))
    return {"slope": analytic_partials(case["function"], [x])[0], "value": float(value)}


def partials(case: Case) -> dict[str, list[float]]:
    return {"partials": analytic_partials(case["function"], list(case["values"]))}


def _flat_loss(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss of the mistake: predictions flattened to [N] against y of shape [N, 1]."""
    return (((X @ W + b).reshape(-1) - y) ** 2).mean()


def _flat_step(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
               lr: float) -> tuple[torch.Tensor, torch.Tensor, float]:
    """W, b and the loss of one step with the [N] against [N, 1] mistake, from copies of W and b."""
    W, b = W.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True)
    loss = _flat_loss(W, b, X, y)
    loss.backward()
    with torch.no_grad():
        return W - lr * W.grad, b - lr * b.grad, loss.item()


def gradient_step(case: Case) -> dict[str, Any]:
    """The reference's steps from the case's start; for each, what the known mistakes would give."""
    X, y, lr = case["X"], case["y"], float(case["lr"])
    W = case["W"].detach().clone().requires_grad_(True)
    b = case["b"].detach().clone().requires_grad_(True)
    steps = []
    with torch.enable_grad():
        for _ in range(int(case["steps"])):
            start_W, start_b = W.detach().clone(), b.detach().clone()
            flat_W, flat_b, flat_loss = _flat_step(start_W, start_b, X, y, lr)
            with torch.no_grad():
                sum_loss = ((X @ W + b - y) ** 2).sum().item()
            loss = ref.gradient_step(W, b, X, y, lr)
            with torch.no_grad():
                loss_after = ((X @ W + b - y) ** 2).mean().item()
            steps.append({"start_W": start_W, "start_b": start_b, "loss": loss, "W": W.detach().clone(),
                          "b": b.detach().clone(), "flat_W": flat_W, "flat_b": flat_b, "flat_loss": flat_loss,
                          "loss_after": loss_after, "sum_loss": sum_loss})
    return {"steps": steps}


def _mistaken_losses(X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, seed: int, *,
                     zero: bool = True, flat: bool = False) -> list[float]:
    """The reference's loop with a known mistake put in: gradients never zeroed, or [N] against [N, 1]."""
    torch.manual_seed(seed)
    W = torch.randn(X.shape[1], 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = _flat_loss(W, b, X, y) if flat else ((X @ W + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
        if zero:
            W.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
    return losses


def train_manual(case: Case) -> dict[str, Any]:
    """The reference's W, b and losses; the losses of the known mistakes, and the losses one update later."""
    X, y, lr, epochs, seed = case["X"], case["y"], float(case["lr"]), int(case["epochs"]), int(case["seed"])
    with torch.random.fork_rng(devices=[]), torch.enable_grad():  # the caller's random stream is left alone
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        _, _, longer = ref.train_manual(X, y, lr, epochs + 1, seed)
        flat = _mistaken_losses(X, y, lr, epochs, seed, flat=True)
        piled = _mistaken_losses(X, y, lr, epochs, seed, zero=False)
    return {"W": W.detach(), "b": b.detach(), "losses": losses, "flat_losses": flat, "piled_losses": piled,
            "later_losses": longer[1:]}


EXPECTATIONS = {
    "derivative": derivative,
    "partials": partials,
    "gradient_step": gradient_step,
    "train_manual": train_manual,
}
