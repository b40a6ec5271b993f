"""Reference solutions of 02_autograd: derivatives by autograd and gradient descent by hand."""

from __future__ import annotations

from collections.abc import Callable

import torch


def derivative(f: Callable[[torch.Tensor], torch.Tensor], x: float) -> float:
    """df/dx at x: autograd records f on a leaf tensor, backward() fills its .grad."""
    leaf = torch.tensor(float(x), requires_grad=True)
    f(leaf).backward()
    return leaf.grad.item()


def partials(f: Callable[..., torch.Tensor], *values: float) -> list[float]:
    """Every partial derivative of the scalar f at the given values, from one backward pass."""
    leaves = [torch.tensor(float(v), requires_grad=True) for v in values]
    f(*leaves).backward()
    return [leaf.grad.item() for leaf in leaves]


def mse_of_line(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The MSE of X @ W + b against y; the shapes must match, so nothing broadcasts to [N, N]."""
    pred = X @ W + b
    if pred.shape != y.shape:
        raise ValueError(f"predictions have shape {list(pred.shape)} but y has shape {list(y.shape)}")
    return ((pred - y) ** 2).mean()


def gradient_step(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lr: float) -> float:
    """One step downhill: loss, backward, in-place update without recording, gradients zeroed."""
    loss = mse_of_line(W, b, X, y)
    loss.backward()
    with torch.no_grad():
        W -= lr * W.grad
        b -= lr * b.grad
    W.grad.zero_()
    b.grad.zero_()
    return loss.item()


def init_parameters(features: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The contract's start: torch.manual_seed(seed), W = randn(F, 1), b = zeros(1), both leaves."""
    torch.manual_seed(seed)
    W = torch.randn(features, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return W, b


def train_manual(X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int,
                 seed: int) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """Gradient descent from scratch; losses[i] is the loss before update i."""
    W, b = init_parameters(X.shape[1], seed)
    losses = [gradient_step(W, b, X, y, lr) for _ in range(epochs)]
    return W, b, losses
