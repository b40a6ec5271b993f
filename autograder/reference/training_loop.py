"""Reference solutions of 04_training_loop: Dataset, DataLoader and the standard training loop.

Each function (and each method of ``DeliveryDataset``) is the notebook's model answer:
``authoring.cells.solution_from`` turns it into its solution cell, its docstring into the
stub's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset


class DeliveryDataset(Dataset):
    """The deliveries as a Dataset: item i is the pair (X[i], y[i])."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor) -> None:
        """Keep the features X ([N, F]) and the targets y ([N, 1])."""
        self.X = X
        self.y = y

    def __len__(self) -> int:
        """The number of deliveries: one per row of X."""
        return len(self.X)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Delivery i as the pair (X[i], y[i]); y[i] stays a tensor of shape [1]."""
        return self.X[i], self.y[i]


def make_loaders(X: torch.Tensor, y: torch.Tensor, batch_size: int = 32, val_fraction: float = 0.2,
                 seed: int = 0) -> tuple[DataLoader, DataLoader]:
    """(train_loader, val_loader) of a seeded split; only the training loader shuffles."""
    dataset = DeliveryDataset(X, y)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(dataset), generator=generator).tolist()
    n_val = round(len(dataset) * val_fraction)
    val_part = Subset(dataset, order[:n_val])
    train_part = Subset(dataset, order[n_val:])
    train_loader = DataLoader(train_part, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(val_part, batch_size=batch_size, shuffle=False)
    return train_loader, val_loader


def train_one_epoch(model: nn.Module, loader: DataLoader, loss_fn: Callable, optimizer: torch.optim.Optimizer,
                    device: torch.device | str) -> float:
    """One optimizer step per batch; returns the mean batch loss as a float."""
    model.train()
    total, batches = 0.0, 0
    for X_batch, y_batch in loader:
        X_batch, y_batch = X_batch.to(device), y_batch.to(device)
        pred = model(X_batch)
        loss = loss_fn(pred, y_batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / batches


def evaluate(model: nn.Module, loader: DataLoader, loss_fn: Callable, device: torch.device | str) -> float:
    """Mean batch loss in eval mode under torch.no_grad(); the model is unchanged."""
    model.eval()
    total, batches = 0.0, 0
    with torch.no_grad():
        for X_batch, y_batch in loader:
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            total += loss_fn(model(X_batch), y_batch).item()
            batches += 1
    return total / batches


def fit(model: nn.Module, train_loader: DataLoader, val_loader: DataLoader, loss_fn: Callable,
        optimizer: torch.optim.Optimizer, epochs: int, device: torch.device | str) -> tuple[list[float], list[float]]:
    """`epochs` rounds of training then evaluation; returns (train_losses, val_losses)."""
    train_losses, val_losses = [], []
    for _ in range(epochs):
        train_losses.append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
        val_losses.append(evaluate(model, val_loader, loss_fn, device))
    return train_losses, val_losses
