"""Reference solutions of 02_autograd: derivatives by autograd and gradient descent by hand.

Each function is also the notebook's model answer (``authoring.cells.solution_from``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def derivative(f: Callable[[torch.Tensor], torch.Tensor], x: float) -> float:
    """df/dx at the float x, computed by autograd."""
    x = torch.tensor(float(x), requires_grad=True)
    y = f(x)
    y.backward()
    return x.grad.item()


def partials(f: Callable[..., torch.Tensor], *values: float) -> list[float]:
    """[∂f/∂v1, ∂f/∂v2, ...] at the given floats, computed by autograd."""
    tensors = [torch.tensor(float(v), requires_grad=True) for v in values]
    f(*tensors).backward()
    return [t.grad.item() for t in tensors]


def gradient_step(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lr: float) -> float:
    """One in-place gradient-descent step on the MSE of X @ W + b; returns the loss before it."""
    loss = ((X @ W + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        W -= lr * W.grad
        b -= lr * b.grad
    W.grad.zero_()
    b.grad.zero_()
    return loss.item()


def train_manual(X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int,
                 seed: int) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """Gradient descent on the MSE of X @ W + b from a seeded start; returns (W, b, losses)."""
    torch.manual_seed(seed)
    W = torch.randn(X.shape[1], 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = ((X @ W + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
        W.grad.zero_()
        b.grad.zero_()
        losses.append(loss.item())
    return W, b, losses
