"""Reference solutions of 06_resume: a training run that can be stopped and picked up again exactly."""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


def save_training_state(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int,
                        generator: torch.Generator) -> None:
    """Save to `path` all that a resumed run needs, as a dict of plain data: the model's state_dict
    ("model"), the optimizer's state_dict ("optimizer"), the number of epochs finished ("epoch") and
    the state of the generator that shuffles the data ("generator")."""
    torch.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "generator": generator.get_state(),
    }, path)


def load_training_state(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer,
                        generator: torch.Generator, device: torch.device | str) -> int:
    """Put the state saved at `path` back into the model (on `device`, in training mode), the optimizer
    and the generator; return the number of epochs finished."""
    state = torch.load(path, map_location=device, weights_only=True)
    model.to(device)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"].cpu())
    model.train()
    return state["epoch"]


def train_with_resume(model: nn.Module, dataset: Dataset, loss_fn: Callable, optimizer: torch.optim.Optimizer,
                      epochs: int, path: str | os.PathLike, seed: int = 0, batch_size: int = 16,
                      device: torch.device | str = "cpu") -> list[float]:
    """Train until `epochs` epochs are finished in all, picking up from the checkpoint at `path` when
    there is one, and saving a checkpoint there after every epoch; return the mean batch loss of each
    epoch this call ran."""
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
    model.to(device)
    start = 0
    if os.path.exists(path):
        start = load_training_state(path, model, optimizer, generator, device)
    losses = []
    for epoch in range(start, epochs):
        model.train()
        total = 0.0
        for X_batch, y_batch in loader:
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            loss = loss_fn(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total / len(loader))
        save_training_state(path, model, optimizer, epoch + 1, generator)
    return losses
