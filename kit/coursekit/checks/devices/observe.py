"""What 05_devices_checkpoints' checks watch when they run a student's function (in the student's kernel).

Each observation is plain data: the devices, dtypes, modes and values seen, run by run.
A case runs on every device this machine offers (``machine.devices_here()``), each run
on its own fresh copy of the inputs, and each run says where it went; the judge
compares. Nothing here computes an answer.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn
from torch.utils import _pytree

from coursekit.checks.devices import machine, nets
from coursekit.checks.devices.meta import MetaWithValues, outputs_with_values, plain
from coursekit.checks.engine import Case, Observation, attempt
from coursekit.checks.expect import describe
from coursekit.probes import ForwardRecorder

# ---------------------------------------------------------------- pick_device


def _answer(student: Callable, flags: list | None) -> dict[str, Any]:
    """One call of ``pick_device``: on a pretended machine (``[cuda, mps]``), or on this one (None)."""
    if flags is None:
        cuda, mps = bool(torch.cuda.is_available()), bool(torch.backends.mps.is_available())
        returned, raised = attempt(student)
    else:
        cuda, mps = bool(flags[0]), bool(flags[1])
        with machine.pretend(cuda, mps):
            returned, raised = attempt(student)
    is_device = isinstance(returned, torch.device)
    return {"cuda": cuda, "mps": mps, "pretended": flags is not None, "raised": raised, "is_device": is_device,
            "device": str(returned) if is_device else None,
            "what": None if is_device else describe(returned)}


def pick_device(student: Callable, case: Case) -> Observation:
    return {"answers": [_answer(student, flags) for flags in case["calls"]]}


# ---------------------------------------------------------------- to_device


def _fresh(batch: Any) -> Any:
    """A copy of the batch: new containers, cloned tensors (a run's changes stay in its own copy)."""
    return _pytree.tree_map(lambda t: t.detach().clone() if isinstance(t, torch.Tensor) else t, batch)


def _on(batch: Any, device: torch.device) -> Any:
    """A copy of the batch whose tensors start on ``device`` (the runs that bring a GPU batch back)."""
    return _pytree.tree_map(lambda t: t.detach().clone().to(device) if isinstance(t, torch.Tensor) else t, batch)


def _move(student: Callable, batch: Any, origin: torch.device, device: torch.device) -> dict[str, Any]:
    returned, raised = attempt(student, batch, device)
    return {"from": str(origin), "device": str(device), "returned": returned, "raised": raised}


def to_device(student: Callable, case: Case) -> Observation:
    """Each run: a fresh copy of the batch to one device; a GPU's batch also comes back to the CPU."""
    batch = case["batch"]
    runs = [_move(student, _fresh(batch), machine.CPU, device) for device in machine.devices_here()]
    runs += [_move(student, _on(batch, gpu), gpu, machine.CPU) for gpu in machine.accelerators()]
    return {"runs": runs}


# ---------------------------------------------------------------- predict_on_device


def _predict(student: Callable, spec: nets.Spec, X: torch.Tensor, origin: torch.device,
             device: torch.device) -> dict[str, Any]:
    """One run: the model (in training mode) and X start on ``origin``; the student predicts on ``device``."""
    model = nets.build_with(spec).to(origin).train()
    given = X.detach().clone().to(origin)
    twin = nets.build_with(spec)
    on_meta = device.type == "meta"
    if on_meta:
        given = MetaWithValues.wrap(given, None)
    values = outputs_with_values(model, twin, X) if on_meta else contextlib.nullcontext()
    with ForwardRecorder(model) as recorder, values:
        returned, raised = attempt(student, model, given, device)
    forwards = [{"grad_enabled": c.grad_enabled, "training": c.training, "input_devices": list(c.input_devices),
                 "parameter_devices": list(c.parameter_devices)} for c in recorder.calls]
    if isinstance(returned, torch.Tensor):
        returned = plain(returned)
    return {"from": str(origin), "device": str(device), "forwards": forwards, "returned": returned,
            "raised": raised}


def predict_on_device(student: Callable, case: Case) -> Observation:
    """A run per device from the CPU; on a GPU, also a run whose model and X are already there."""
    spec, X = case["model"], case["X"]
    runs = [_predict(student, spec, X, machine.CPU, device) for device in machine.devices_here()]
    runs += [_predict(student, spec, X, gpu, gpu) for gpu in machine.accelerators()]
    return {"runs": runs}


# ---------------------------------------------------------------- save_checkpoint


def _first_line(error: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # no terminal colours
    return (text.splitlines()[0] if text else "")[:300]


def _save(student: Callable, spec: nets.Spec, origin: torch.device) -> dict[str, Any]:
    """One run: the model on ``origin`` saved to a fresh path; the file read back as ``weights_only`` reads it."""
    model = nets.build_with(spec).to(origin).train()
    run: dict[str, Any] = {"from": str(origin)}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "courier_checkpoint.pt")
        _, run["raised"] = attempt(student, model, path)
        run["file"] = os.path.isfile(path)
        if run["file"]:
            try:
                run["saved"] = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as error:  # noqa: BLE001 - what the student saved does not load safely
                refused = re.search(r"GLOBAL ([\w.]+)", str(error))  # what weights_only refused to rebuild
                run["load_error"] = {"type": type(error).__name__, "message": _first_line(error),
                                     "refused": refused.group(1)[:200] if refused else None}
    return run


def save_checkpoint(student: Callable, case: Case) -> Observation:
    """A run from the CPU, and one from a GPU when there is one."""
    return {"runs": [_save(student, case["model"], origin) for origin in (machine.CPU, *machine.accelerators())]}


# ---------------------------------------------------------------- load_checkpoint


class CountingBuilder:
    """The ``build_fn`` handed to the student: a fresh (untrained) model of the case's layers, counted."""

    def __init__(self, layers: list) -> None:
        self.layers = layers
        self.calls = 0

    def __call__(self) -> nn.Module:
        self.calls += 1
        return nets.build(self.layers)


def _model_facts(model: Any) -> dict[str, Any]:
    """What the returned object is: a model's type, mode, devices and state; or what else it is."""
    if isinstance(model, nn.Module):
        tensors = [*model.parameters(), *model.buffers()]
        return {"kind": "module", "type": type(model).__name__,
                "training": [name or "the model" for name, m in model.named_modules() if m.training],
                "devices": sorted({str(t.device) for t in tensors}),
                "state": {name: t.detach() for name, t in model.state_dict().items()}}
    if isinstance(model, Mapping):
        return {"kind": "mapping", "what": describe(model)}
    return {"kind": "other", "what": describe(model)}


def load_plans() -> list[tuple[str, str]]:
    """(written on, loaded to) of every run: CPU to CPU, a missing GPU to the CPU, CPU to meta, and GPU runs."""
    plans = [("cpu", "cpu"), (machine.missing_device(), "cpu"), ("cpu", "meta")]
    for gpu in machine.accelerators():
        plans += [("cpu", str(gpu)), (str(gpu), "cpu"), (str(gpu), str(gpu))]
    return plans


def _load(student: Callable, spec: nets.Spec, written_on: str, device: str) -> dict[str, Any]:
    here = {str(d) for d in (machine.CPU, *machine.accelerators())}
    builder = CountingBuilder(spec["layers"])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "courier_checkpoint.pt")
        machine.write_checkpoint(spec["state"], path, written_on)
        if device == "meta":
            with machine.meta_loads(spec["state"]):
                returned, raised = attempt(student, path, builder, torch.device(device))
        else:
            returned, raised = attempt(student, path, builder, torch.device(device))
    return {"written_on": written_on, "missing": written_on not in here, "device": device, "raised": raised,
            "build_calls": builder.calls, "returned": None if raised else _model_facts(returned)}


def load_checkpoint(student: Callable, case: Case) -> Observation:
    return {"runs": [_load(student, case["model"], written_on, device) for written_on, device in load_plans()]}
