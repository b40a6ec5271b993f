"""05_devices_checkpoints' verdicts on checkpoints: save_checkpoint and load_checkpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from coursekit.checks.devices.diagnose import runs_of
from coursekit.checks.devices.machine import same_place
from coursekit.checks.engine import Case, Observation, raised_message
from coursekit.checks.expect import describe, expect, expect_close, expect_tensor, fail

# ---------------------------------------------------------------- save_checkpoint


def describe_save_checkpoint(case: Case) -> str:
    return "save_checkpoint(model, path)"


def save_checkpoint(case: Case, seen_: Observation, expected: dict[str, torch.Tensor], call: str) -> None:
    for run in runs_of(seen_, call, [{"from": "cpu"}]):
        what = f"{call} of a model on {run.get('from')}"
        if run.get("raised"):
            raised_message(what, run["raised"])
        expect(run.get("file") is True, what, "a checkpoint file at the path given", "no file there",
               "save to the path you were given: torch.save(..., path)", code="path_ignored")
        error = run.get("load_error")
        if error:
            refused = str(error.get("refused") or "")
            found = (f"{error.get('type')}: weights_only=True refused to rebuild {refused}" if refused
                     else f"{error.get('type')}: {str(error.get('message', ''))[:200]}")
            if refused.startswith("torch.nn."):
                fail(f"{what}: torch.load(path, weights_only=True)", "a mapping of parameter names to tensors", found,
                     "the whole model was pickled with torch.save(model): save model.state_dict() instead, "
                     "a plain mapping of names to tensors that loads safely on any machine", code="whole_model_pickled")
            fail(f"{what}: torch.load(path, weights_only=True)", "a mapping of parameter names to tensors", found,
                 "save model.state_dict() alone: weights_only=True refuses anything that needs a class's code "
                 "to rebuild", code="not_weights_only")
        saved = run.get("saved")
        expect(isinstance(saved, Mapping), f"{what}: the saved object", "a mapping of parameter names to tensors",
               describe(saved), "save model.state_dict(), the dict of the model's parameters", code="not_a_mapping")
        if set(saved) != set(expected):
            if any(isinstance(v, Mapping) for v in saved.values()):
                fail(f"{what}: the saved names", f"the parameter names {sorted(expected)}",
                     f"the names {sorted(map(str, saved))}", "the state_dict was wrapped in another dict: save "
                     "model.state_dict() alone, so that torch.load gives the parameter names directly",
                     code="state_dict_wrapped")
            fail(f"{what}: the saved names", f"the parameter names {sorted(expected)}",
                 f"the names {sorted(map(str, saved))}",
                 "save model.state_dict() itself: every parameter name with its tensor, nothing else",
                 code="wrong_names")
        for name, tensor in expected.items():
            found = expect_tensor(saved[name], f"{what}: saved[{name!r}]", "save the tensors of model.state_dict()")
            expect_close(found, tensor, f"{what}: saved[{name!r}]", rtol=0, atol=0,
                         cause="save the model's own parameters, unchanged: the state_dict of the model you were "
                               "given, not a fresh model's", code="wrong_values")


# ---------------------------------------------------------------- load_checkpoint


def describe_load_checkpoint(case: Case) -> str:
    return "load_checkpoint(path, build_fn, device)"


def _order(run: dict[str, Any]) -> tuple[int, str]:
    """Runs judged in the order that names a mistake best: plain CPU, missing GPU, meta, real GPUs."""
    if run.get("missing") is True:
        return 1, ""
    if str(run.get("device")) == "meta":
        return 2, ""
    if str(run.get("written_on")) == "cpu" and str(run.get("device")) == "cpu":
        return 0, ""
    return 3, f"{run.get('written_on')}>{run.get('device')}"


def _deserialize_error(message: str) -> bool:
    lowered = message.lower()
    return "map_location" in lowered or "deserialize" in lowered or "cuda" in lowered


def load_checkpoint(case: Case, seen_: Observation, expected: dict[str, Any], call: str) -> None:
    runs = runs_of(seen_, call, [{"written_on": "cpu", "device": "cpu"}, {"missing": "True", "device": "cpu"},
                                 {"written_on": "cpu", "device": "meta"}])
    for run in sorted(runs, key=_order):
        device, written_on = str(run.get("device")), str(run.get("written_on"))
        origin = f"{written_on} (a GPU this machine lacks)" if run.get("missing") is True else written_on
        what = f"{call} with device {device!r}, of a checkpoint written on {origin}"
        calls = run.get("build_calls")
        if run.get("raised"):
            record = run["raised"]
            if calls == 0:
                fail(what, "it runs without an error", f"{record.get('type')}: {str(record.get('message'))[:200]}",
                     "build_fn was never called: build the model with build_fn(), the kind of model the checkpoint "
                     "was saved from", code="build_fn_not_called")
            if run.get("missing") is True and _deserialize_error(str(record.get("message", ""))):
                fail(what, "it runs without an error", f"{record.get('type')}: {str(record.get('message'))[:200]}",
                     f"the checkpoint was written on {written_on}, which this machine does not have: load it with "
                     "torch.load(path, map_location=device) so that its tensors land on `device`",
                     code="map_location_missing")
            raised_message(what, record)
        returned = run.get("returned")
        kind = returned.get("kind") if isinstance(returned, dict) else None
        if kind == "mapping":
            fail(what, "a model (an nn.Module)", "a state_dict (a dict of tensors)",
                 "load the state_dict into the fresh model with model.load_state_dict(...), then return the model",
                 code="returned_state_dict")
        expect(kind == "module", what, "a model (an nn.Module)",
               str(returned.get("what") if isinstance(returned, dict) else returned)[:200],
               "return the model built by build_fn(), with the checkpoint loaded into it", code="not_a_model")
        expect(isinstance(calls, int) and calls >= 1, f"{what}: build_fn", "a fresh model made by build_fn()",
               "build_fn never called", "build_fn was never called: build the model with build_fn(), "
               "the checkpoint holds numbers only, not the model's layers", code="build_fn_not_called")
        training = list(returned.get("training") or [])
        expect(not training, f"{what}: mode", "eval mode", f"training mode ({', '.join(map(str, training[:3]))})",
               "call model.eval() before returning it: a model in training mode keeps dropout on",
               code="eval_mode_missing")
        places = [str(p) for p in returned.get("devices") or []]
        expect(all(same_place(p, device) for p in places), f"{what}: where the model is",
               f"every parameter on {device}", f"parameters on {', '.join(places)}",
               "put the loaded model on the device with model.to(device): map_location places the checkpoint's "
               "tensors, and load_state_dict copies them into the model wherever the model is",
               code="model_not_on_device")
        if device != "meta":
            _state(what, returned.get("state"), expected["state"])


def _state(what: str, state: Any, expected: dict[str, torch.Tensor]) -> None:
    cause = ("load the saved state_dict into the model (model.load_state_dict): "
             "a fresh model from build_fn() alone predicts with random weights")
    expect(isinstance(state, dict) and set(state) == set(expected), f"{what}: the model's parameters",
           f"the parameters {sorted(expected)}", f"the parameters {sorted(map(str, state or {}))}", cause,
           code="state_not_loaded")
    for name, tensor in expected.items():
        found = expect_tensor(state[name], f"{what}: {name}")
        expect_close(found, tensor, f"{what}: {name}", rtol=1e-6, atol=1e-7, cause=cause, code="state_not_loaded")
