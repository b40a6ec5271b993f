"""Reference solutions of 04_training_loop: Dataset, DataLoader and the standard training loop."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset


class DeliveryDataset(Dataset):
    """Past deliveries as a Dataset: item i is the pair (features of delivery i, its minutes)."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor) -> None:
        self.X = X
        self.y = y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X[i], self.y[i]


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) indices of a seeded shuffle; round(n * val_fraction) go to validation."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = round(n * val_fraction)
    return order[n_val:], order[:n_val]


def make_loaders(X: torch.Tensor, y: torch.Tensor, batch_size: int = 32, val_fraction: float = 0.2,
                 seed: int = 0) -> tuple[DataLoader, DataLoader]:
    """A seeded train/validation split; the training loader shuffles every epoch, validation never."""
    dataset = DeliveryDataset(X, y)
    train_idx, val_idx = split_indices(len(dataset), val_fraction, seed)
    train_loader = DataLoader(Subset(dataset, train_idx), batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(Subset(dataset, val_idx), batch_size=batch_size, shuffle=False)
    return train_loader, val_loader


def train_one_epoch(model: nn.Module, loader: DataLoader, loss_fn: Callable, optimizer: torch.optim.Optimizer,
                    device: torch.device | str) -> float:
    """One pass over the loader, one optimizer step a batch; the mean batch loss as a float."""
    model.train()
    total, batches = 0.0, 0
    for X_batch, y_batch in loader:
        X_batch, y_batch = X_batch.to(device), y_batch.to(device)
        loss = loss_fn(model(X_batch), y_batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / batches


def evaluate(model: nn.Module, loader: DataLoader, loss_fn: Callable, device: torch.device | str) -> float:
    """The mean batch loss in eval mode, without autograd; no parameter changes."""
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
    """``epochs`` rounds of one training epoch then one evaluation; both loss curves."""
    train_losses, val_losses = [], []
    for _ in range(epochs):
        train_losses.append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
        val_losses.append(evaluate(model, val_loader, loss_fn, device))
    return train_losses, val_losses
