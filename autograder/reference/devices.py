"""Reference solutions of 05_devices_checkpoints (each is also the notebook's model answer)."""

from __future__ import annotations

import torch


def pick_device():
    """The fastest device this machine has: cuda, then mps, then cpu, asked each time."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def to_device(batch, device):
    """The batch on `device`, with the same structure (tuples, lists and dicts, nested) and dtypes."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, list):
        return [to_device(item, device) for item in batch]
    if isinstance(batch, tuple):
        return tuple(to_device(item, device) for item in batch)
    raise TypeError(f"cannot move a {type(batch).__name__} to a device")


def predict_on_device(model, X, device):
    """The model's predictions for X, computed on `device` in eval mode without autograd, returned on the CPU."""
    model.to(device)
    model.eval()
    with torch.no_grad():
        return model(X.to(device)).cpu()


def save_checkpoint(model, path):
    """Save the model's parameters (its state_dict) alone to `path`."""
    torch.save(model.state_dict(), path)


def load_checkpoint(path, build_fn, device):
    """A fresh model from build_fn() holding the checkpoint's parameters, on `device`, in eval mode."""
    model = build_fn()
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    model.to(device)
    model.eval()
    return model
