"""Reference solutions of 05_devices_checkpoints, and the courier models its grade cells use."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

#: The line the courier's single neuron learned from bike data set A (minutes = 5.1 * miles + 11.1).
COURIER_W = 5.1
COURIER_B = 11.1


def pick_device() -> torch.device:
    """The fastest device this machine has: cuda, then mps (Apple silicon), then cpu."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def to_device(batch: Any, device: torch.device | str) -> Any:
    """The batch on ``device``: tensors moved, tuples, lists and dicts rebuilt around them."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, list):
        return [to_device(item, device) for item in batch]
    if isinstance(batch, tuple):
        return tuple(to_device(item, device) for item in batch)
    raise TypeError(f"cannot move a {type(batch).__name__} to a device")


def predict_on_device(model: nn.Module, X: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """The model's eval-mode predictions for X, computed on ``device``, handed back on the CPU."""
    model.to(device)
    model.eval()
    with torch.no_grad():
        return model(X.to(device)).cpu()


def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> None:
    """Save the parameters alone (the state_dict): a plain mapping that any machine can load."""
    torch.save(model.state_dict(), path)


def load_checkpoint(path: str | os.PathLike, build_fn: Callable[[], nn.Module],
                    device: torch.device | str) -> nn.Module:
    """A fresh model from ``build_fn`` holding the saved parameters, on ``device``, ready to predict."""
    model = build_fn()
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    model.to(device)
    model.eval()
    return model


def courier_neuron() -> nn.Module:
    """The courier's one-neuron model with the line of data set A: 7 miles -> 46.8 minutes."""
    model = nn.Sequential(nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.fill_(COURIER_W)
        model[0].bias.fill_(COURIER_B)
    return model


def courier_net(hidden: int = 8, dropout: float = 0.25) -> nn.Module:
    """A small network with dropout, so that training mode changes its predictions."""
    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1))


def seeded_courier_net(seed: int, hidden: int = 8, dropout: float = 0.25) -> nn.Module:
    """``courier_net`` with weights drawn from ``seed``: the same model for the same seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return courier_net(hidden, dropout)
