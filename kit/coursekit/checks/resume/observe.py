"""What 06_resume's checks watch when they run a student's function (in the student's kernel).

Files written in the kernel never travel to the judge: a saved checkpoint is read back
here, with ``torch.load(path, weights_only=True)`` as any safe reader would, and reported
as plain data (a generator's state as a fingerprint). Nothing here knows an answer.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from typing import Any
from unittest import mock

import torch
from torch import nn

from coursekit.checks.engine import Case, Observation, attempt
from coursekit.checks.resume import setups
from coursekit.checks.resume.setups import model_snapshot, optimizer_devices, optimizer_snapshot, sha
from coursekit.checks.resume.standins import PLACEHOLDER, StandIns, bound
from coursekit.probes import ForwardRecorder

#: How a generator's state (a uint8 tensor) shows in an observation: its fingerprint under this key.
RNG_KEY = "__rng_state__"
#: The file name every test saves to (in a fresh temporary folder).
FILE_NAME = "courier_resume.pt"
#: Most sample reads kept from one run (a loop that never ends is stopped by the cell's timeout).
MAX_READS = 20_000


def summarize(value: Any, depth: int = 0) -> Any:
    """A checkpoint's content as plain data, every generator state (uint8, 64+ values) as its fingerprint."""
    if depth > 8:
        return {"type": type(value).__name__}
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.uint8 and value.numel() >= 64:
            return {RNG_KEY: sha(value), "numel": value.numel()}
        return value
    if isinstance(value, dict):
        return {key if isinstance(key, (str, int)) else repr(key)[:80]: summarize(item, depth + 1)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [summarize(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def read_checkpoint(path: str) -> Observation:
    """The file as ``torch.load(path, weights_only=True)`` reads it: its content, or why it would not load."""
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - what would not load is the observation
        text = str(error)
        pickled = re.search(r"GLOBAL ([\w.]+)", text)
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return {"load_error": {"type": type(error).__name__, "message": first[:300],
                               "global": pickled.group(1)[:120] if pickled else None}}
    return {"content": summarize(content)}


# --- save_training_state --------------------------------------------------------------------------

def save_training_state(student: Callable, case: Case) -> Observation:
    """Save the case's run, read the file back as plain data; note what the call left changed."""
    model, optimizer, generator = setups.saving_objects(case)
    before = {"model": model_snapshot(model), "optimizer": optimizer_snapshot(optimizer),
              "generator": sha(generator.get_state())}
    global_rng = sha(torch.get_rng_state())
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, FILE_NAME)
        returned, error = attempt(student, path, model, optimizer, case["epoch"], generator)
        seen: Observation = {"error": error, "exists": os.path.isfile(path),
                             "files": sorted(os.listdir(folder))[:5]}
        if seen["exists"]:
            seen.update(read_checkpoint(path))
    seen["global_rng"] = global_rng
    seen["changed"] = {
        "model": not _same_state(before["model"], model_snapshot(model)),
        "mode": not model.training,
        "optimizer": not _same_optimizer(before["optimizer"], optimizer_snapshot(optimizer)),
        "generator": sha(generator.get_state()) != before["generator"],
    }
    return seen


def _same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _same_optimizer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["lr"] != b["lr"] or a["state"].keys() != b["state"].keys():
        return False
    for index, entry in a["state"].items():
        other = b["state"][index]
        if entry.keys() != other.keys():
            return False
        for key, value in entry.items():
            if isinstance(value, torch.Tensor) and not (isinstance(other[key], torch.Tensor)
                                                        and torch.equal(value, other[key])):
                return False
    return True


# --- load_training_state --------------------------------------------------------------------------

def write_checkpoint(content: dict[str, Any], path: str, written_on: str | None) -> None:
    """Write the case's checkpoint; with ``written_on``, its tensors say they were on that device."""
    if written_on is None:
        torch.save(content, path)
        return
    with mock.patch("torch.serialization.location_tag", return_value=written_on):
        torch.save(content, path)


def _returned(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    return {"type": type(value).__name__, "repr": repr(value)[:80]}


def load_training_state(student: Callable, case: Case) -> Observation:
    """Load a checkpoint written by the test into fresh objects; report their states, then one more step."""
    content = setups.checkpoint_content(case)
    model, optimizer, generator = setups.loading_objects(case)
    before = {"model": model_snapshot(model), "generator": sha(generator.get_state())}
    device = torch.device(case["device"])
    loads: list[dict[str, str]] = []
    real_load = torch.load

    def recording_load(*args: Any, **kwargs: Any) -> Any:
        loads.append({"weights_only": repr(kwargs.get("weights_only", "not given"))[:20],
                      "map_location": repr(kwargs.get("map_location", args[1] if len(args) > 1 else None))[:60]})
        return real_load(*args, **kwargs)

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, FILE_NAME)
        write_checkpoint(content, path, case.get("written_on"))
        with mock.patch.object(torch, "load", recording_load):
            returned, error = attempt(student, path, model, optimizer, generator, device)
    seen: Observation = {
        "returned": _returned(returned), "error": error, "loads": loads, "before": before,
        "model": model_snapshot(model),
        "eval_modules": [name or "the model" for name, m in model.named_modules() if not m.training][:5],
        "param_devices": setups.parameter_devices(model),
        "optimizer": optimizer_snapshot(optimizer), "optimizer_devices": optimizer_devices(optimizer),
        "generator": sha(generator.get_state()),
        "next_order": torch.randperm(24, generator=generator).tolist(),
    }
    seen.update(_one_more_step(model, optimizer, 16 * case["seed"] + 13))
    return seen


def _one_more_step(model: nn.Module, optimizer: torch.optim.Optimizer, seed: int) -> Observation:
    """The parameters after one step with scripted gradients: momentum (or Adam's averages) shows in it."""
    try:
        for p, grad in zip(model.parameters(), setups.scripted_gradients(model, seed), strict=True):
            p.grad = grad.to(p.device)
        optimizer.step()
        return {"after_step": model_snapshot(model), "step_error": None}
    except Exception as error:  # noqa: BLE001 - a step the loaded state breaks is an observation
        return {"after_step": None, "step_error": f"{type(error).__name__}: {str(error)[:200]}"}


# --- train_with_resume ----------------------------------------------------------------------------

def train_with_resume(student: Callable, case: Case) -> Observation:
    """A fresh run to the end; then (off the meta device) a run that finds a checkpoint and resumes."""
    if case["device"] == "meta":
        return {"fresh": _run(student, case, resumed=False)}
    return {"fresh": _run(student, case, resumed=False), "resumed": _run(student, case, resumed=True)}


def _run(student: Callable, case: Case, resumed: bool) -> Observation:
    dataset, model, optimizer, loss_fn = setups.training_objects(case, resumed)
    initial = model_snapshot(model)
    scripted = setups.resume_state(case) if resumed else None
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, FILE_NAME)
        if resumed:  # what the stopped run left there (the stand-in load never reads it)
            with open(path, "wb") as out:
                out.write(PLACEHOLDER)
        standins = StandIns(path, model, optimizer, scripted)
        with bound(student, save_training_state=standins.save_training_state,
                   load_training_state=standins.load_training_state), ForwardRecorder(model) as forward:
            returned, error = attempt(student, model, dataset, loss_fn, optimizer, case["epochs"], path,
                                      setups.loader_seed(case), case["batch_size"], torch.device(case["device"]))
    calls = forward.calls
    return {
        "returned": returned if isinstance(returned, (list, tuple)) else _returned(returned),
        "error": error,
        "reads": dataset.reads[:MAX_READS],
        "modes": [c.training for c in calls][:MAX_READS],
        "batch_sizes": [c.batch_shapes[0][0] if c.batch_shapes and c.batch_shapes[0] else 0 for c in calls][:MAX_READS],
        "input_devices": sorted({d for c in calls for d in c.input_devices}),
        "param_devices": sorted({d for c in calls for d in c.parameter_devices}),
        "loss_values": loss_fn.values[:MAX_READS],
        "target_devices": sorted({target for _, target in loss_fn.devices}),
        "saves": standins.saves[:200],
        "loads": standins.loads[:50],
        "initial": initial,
        "final": model_snapshot(model),
        "final_optimizer": optimizer_snapshot(optimizer)["state"],
    }
