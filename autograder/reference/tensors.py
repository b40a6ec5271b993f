"""Reference solutions of 01_tensors."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def to_batch(values: Sequence[float]) -> torch.Tensor:
    """A float32 [N, 1] batch: one row per sample, one column for the single feature."""
    return torch.tensor(values, dtype=torch.float32).reshape(-1, 1)


def stack_features(distances: Sequence[float], hours: Sequence[float], weather: Sequence[float]) -> torch.Tensor:
    """A float32 [N, 3] batch; row i is [distances[i], hours[i], weather[i]]."""
    columns = [torch.tensor(c, dtype=torch.float32) for c in (distances, hours, weather)]
    return torch.stack(columns, dim=1)


def add_batch_dim(sample: torch.Tensor) -> torch.Tensor:
    """A single sample [F] as a batch of one, [1, F]."""
    return sample.unsqueeze(0)


def linear_forward(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """X [N, F] @ W [F, O] + b [O] -> [N, O]."""
    return X @ W + b


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error as a 0-dim tensor; refuses shapes that would broadcast."""
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {list(pred.shape)} but target has shape {list(target.shape)}")
    return ((pred - target) ** 2).mean()
