"""Expectations of 05_devices_checkpoints' checks, from the answer key.

Every expectation is device-free (values on the CPU, names, a table of devices): each
observation says which device each of its runs went to, and the diagnosis compares
the run's device with the one it asked for. So one expectation serves a machine
without a GPU and one with a GPU alike.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import torch

from autograder.reference import devices as ref
from coursekit.checks.devices import cases, machine, nets
from coursekit.checks.engine import Case


def pick_device(case: Case) -> list[list]:
    """[cuda, mps, the device type the reference picks] for every combination."""
    table = []
    for cuda, mps in cases.COMBINATIONS:
        with machine.pretend(cuda, mps):
            table.append([cuda, mps, ref.pick_device().type])
    return table


def to_device(case: Case) -> Any:
    """The batch as the reference moves it to the CPU: its structure, dtypes and values."""
    return ref.to_device(case["batch"], "cpu")


def predict_on_device(case: Case) -> torch.Tensor:
    """The reference's predictions (computed on the CPU) of a model handed over in training mode."""
    model = nets.build_with(case["model"]).train()
    return ref.predict_on_device(model, case["X"].clone(), "cpu")


def _saved_by_reference(spec: nets.Spec, folder: str) -> str:
    path = os.path.join(folder, "courier_checkpoint.pt")
    ref.save_checkpoint(nets.build_with(spec).train(), path)
    return path


def save_checkpoint(case: Case) -> dict[str, torch.Tensor]:
    """What ``torch.load(path, weights_only=True)`` gives for the reference's checkpoint."""
    with tempfile.TemporaryDirectory() as folder:
        return dict(torch.load(_saved_by_reference(case["model"], folder), map_location="cpu", weights_only=True))


def load_checkpoint(case: Case) -> dict[str, Any]:
    """The state of the model the reference loads from the reference's checkpoint."""
    layers = case["model"]["layers"]
    with tempfile.TemporaryDirectory() as folder:
        model = ref.load_checkpoint(_saved_by_reference(case["model"], folder), lambda: nets.build(layers), "cpu")
    return {"state": {name: t.detach().clone() for name, t in model.state_dict().items()}}


EXPECTATIONS = {
    "pick_device": pick_device,
    "to_device": to_device,
    "predict_on_device": predict_on_device,
    "save_checkpoint": save_checkpoint,
    "load_checkpoint": load_checkpoint,
}
