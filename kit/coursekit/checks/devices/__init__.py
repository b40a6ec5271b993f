"""Checks of 05_devices_checkpoints, as grade cells call them: devices chosen, batches and models
moved, checkpoints saved and loaded.

They pass on a machine without a GPU and use a GPU when there is one (see ``machine``):
``pick_device`` runs on pretended machines; every other check runs its case on ``meta``
(shapes without values: whatever did not move shows), on the CPU, and on a real GPU when
there is one, each run on its own copy of the inputs; a checkpoint is also stamped as
written on a GPU this machine lacks. Observations are plain data (devices, dtypes,
modes, values); the expectations come from the instructor's judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from coursekit.checks import engine
from coursekit.checks.devices import cases, diagnose, diagnose_files, observe
from coursekit.checks.devices.machine import META, accelerators, devices_here, missing_device, write_checkpoint
from coursekit.checks.devices.meta import MetaWithValues
from coursekit.checks.devices.nets import spec_of
from coursekit.checks.engine import Check

__all__ = ["META", "MetaWithValues", "accelerators", "devices_here", "missing_device", "write_checkpoint"]

PICK_DEVICE = Check("devices.pick_device", observe.pick_device, diagnose.pick_device, cases.pick_device,
                    diagnose.describe_pick_device)
TO_DEVICE = Check("devices.to_device", observe.to_device, diagnose.to_device, cases.to_device,
                  diagnose.describe_to_device)
PREDICT_ON_DEVICE = Check("devices.predict_on_device", observe.predict_on_device, diagnose.predict_on_device,
                          cases.predict_on_device, diagnose.describe_predict_on_device)
SAVE_CHECKPOINT = Check("devices.save_checkpoint", observe.save_checkpoint, diagnose_files.save_checkpoint,
                        cases.save_checkpoint, diagnose_files.describe_save_checkpoint)
LOAD_CHECKPOINT = Check("devices.load_checkpoint", observe.load_checkpoint, diagnose_files.load_checkpoint,
                        cases.load_checkpoint, diagnose_files.describe_load_checkpoint)

#: hidden call name -> its check (the judge reads this).
HIDDEN = {"pick_device_hidden": PICK_DEVICE, "to_device_hidden": TO_DEVICE,
          "predict_on_device_hidden": PREDICT_ON_DEVICE, "save_checkpoint_hidden": SAVE_CHECKPOINT,
          "load_checkpoint_hidden": LOAD_CHECKPOINT}


def pick_device(student: Callable) -> None:
    """``student()`` on this machine, nothing pretended: the device the machine's answers call for."""
    engine.visible(PICK_DEVICE, student, {"calls": [None]})


def pick_device_under(student: Callable, cuda: bool, mps: bool) -> None:
    """``student()`` on a machine that reports cuda and mps as given."""
    engine.visible(PICK_DEVICE, student, {"calls": [[bool(cuda), bool(mps)]]})


def to_device(student: Callable, batch: Any) -> None:
    """``student(copy of batch, device)`` for meta, the CPU and any GPU: the same structure and dtypes,
    every tensor on the device (each call gets its own copy of the batch: in place or new, both are right)."""
    engine.visible(TO_DEVICE, student, {"batch": batch})


def predict_on_device(student: Callable, model: nn.Module, X: torch.Tensor) -> None:
    """``student(copy of model in training mode, X, device)`` for meta, the CPU and any GPU: computed on the
    device in eval mode without autograd, the answers on the CPU. The caller's model is left alone."""
    engine.visible(PREDICT_ON_DEVICE, student, {"model": spec_of(model), "X": X.detach().cpu()})


def save_checkpoint(student: Callable, model: nn.Module) -> None:
    """``student(copy of model, path)`` writes the state_dict alone (read back with weights_only=True)."""
    engine.visible(SAVE_CHECKPOINT, student, {"model": spec_of(model)})


def load_checkpoint(student: Callable, model: nn.Module) -> None:
    """``student(path, build_fn, device)`` on the course's own checkpoints of ``model``: written on the CPU
    and on a GPU this machine lacks, loaded to the CPU, to meta and to any GPU."""
    engine.visible(LOAD_CHECKPOINT, student, {"model": spec_of(model)})


def pick_device_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(PICK_DEVICE, "devices.pick_device_hidden", student, list(seeds))


def to_device_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(TO_DEVICE, "devices.to_device_hidden", student, list(seeds))


def predict_on_device_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(PREDICT_ON_DEVICE, "devices.predict_on_device_hidden", student, list(seeds))


def save_checkpoint_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(SAVE_CHECKPOINT, "devices.save_checkpoint_hidden", student, list(seeds))


def load_checkpoint_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(LOAD_CHECKPOINT, "devices.load_checkpoint_hidden", student, list(seeds))
