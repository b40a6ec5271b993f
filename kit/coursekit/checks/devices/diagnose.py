"""05_devices_checkpoints' verdicts on devices: pick_device, to_device, predict_on_device.

Each observation holds one or more *runs* (one per device the kernel's machine offers);
each run says which device it asked for, and the verdict compares the devices, dtypes,
modes and values seen with that device and with the expectation. The runs every machine
has (meta and the CPU) must be there. The checkpoints' verdicts are in ``diagnose_files``.
"""

from __future__ import annotations

import re
from typing import Any

import torch

from coursekit.checks.devices.machine import same_place
from coursekit.checks.engine import Case, Observation, is_hidden, raised_message
from coursekit.checks.expect import describe, expect, expect_close, expect_tensor, fail
from coursekit.checks.wire import seen

# ---------------------------------------------------------------- shared


def runs_of(observation: Observation, call: str, required: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The observation's runs; every ``required`` one (matching keys and values) must be there."""
    runs = observation.get("runs")
    expect(isinstance(runs, list) and all(isinstance(r, dict) for r in runs), call, "the runs of the test",
           "something else", "the test could not read what your function did", code="malformed")
    for want in required:
        found = any(all(str(r.get(k)) == v for k, v in want.items()) for r in runs)
        expect(found, call, f"a run with {want}", "none", "the test did not finish every run", code="incomplete")
    return runs


def _kind_of(device: Any) -> str | None:
    try:
        return torch.device(str(device)).type
    except (RuntimeError, TypeError, ValueError):
        return None


# ---------------------------------------------------------------- pick_device


def describe_pick_device(case: Case) -> str:
    return "pick_device()"


def _where(cuda: bool, mps: bool) -> str:
    if cuda and mps:
        return "cuda and mps are both available"
    if cuda or mps:
        return f"{'cuda' if cuda else 'mps'} is available and {'mps' if cuda else 'cuda'} is not"
    return "neither cuda nor mps is available"


def _pick_device_mistake(found: str, cuda: bool, mps: bool) -> tuple[str, str]:
    """(code, likely cause) of picking ``found`` on this machine."""
    if cuda and found == "mps":
        return "mps_before_cuda", ("the order matters: test torch.cuda.is_available() first, then mps, "
                                   "then fall back to cpu")
    if cuda:
        return "cuda_never_considered", ("cuda was never considered: test torch.cuda.is_available() first, inside "
                                         "pick_device (a device decided once, outside it, does not follow the machine)")
    if mps and found == "cpu":
        return ("mps_never_considered",
                "mps (Apple silicon) was never considered: test torch.backends.mps.is_available() before cpu")
    if found in ("cuda", "mps"):
        return ("unavailable_device_picked",
                f"{found} is not available here, yet it was picked: call the test with () "
                "(a function without () is always true), and pick a device only when its test says True")
    return "wrong_device", ("cuda when torch.cuda.is_available(), else mps when torch.backends.mps.is_available(), "
                            "else cpu")


#: The order pretended machines are judged in: the one that names the mistake best comes first.
_DIAGNOSIS_ORDER = [(True, False), (True, True), (False, True), (False, False)]


def pick_device(case: Case, seen_: Observation, expected: list, call: str) -> None:
    table = {(bool(c), bool(m)): str(t) for c, m, t in expected}
    answers = seen_.get("answers")
    calls = case["calls"]
    expect(isinstance(answers, list) and len(answers) == len(calls) and all(isinstance(a, dict) for a in answers),
           call, f"{len(calls)} calls of pick_device", "another number", "the test did not finish", code="incomplete")
    judged = []
    for flags, answer in zip(calls, answers, strict=True):
        if flags is None:  # this machine: what torch said here
            cuda, mps = answer.get("cuda") is True, answer.get("mps") is True
            what = f"{call} on this machine, where {_where(cuda, mps)}"
        else:
            cuda, mps = bool(flags[0]), bool(flags[1])
            what = f"pick_device() on a machine where {_where(cuda, mps)}"
        judged.append(((cuda, mps), flags is None, what, answer))
    judged.sort(key=lambda j: (j[1], _DIAGNOSIS_ORDER.index(j[0])))
    for _, _, what, answer in judged:
        if answer.get("raised"):
            raised_message(what, answer["raised"])
    pretended = {flags: answer for flags, here, _, answer in judged if not here}
    if len(pretended) == len(_DIAGNOSIS_ORDER):
        found = {a.get("device") if a.get("is_device") is True else None for a in pretended.values()}
        if len(found) == 1 and None not in found:
            (device,) = found
            if _kind_of(device) == "cuda":
                fail(call, "a device that depends on what the machine has", f"torch.device('{device}') whatever "
                     "the machine reports", "torch.cuda.is_available without () is the function itself, and a "
                     "function is always true: call it, torch.cuda.is_available()", code="is_available_not_called")
            fail(call, "a device that depends on what the machine has", f"torch.device('{device}') whatever the "
                 "machine reports", "decide inside pick_device, each time it is called, from "
                 "torch.cuda.is_available() and torch.backends.mps.is_available(); call them with () "
                 "(a function without () is always true)", code="decided_once")
    for (cuda, mps), _, what, answer in judged:
        expect(answer.get("is_device") is True, what, "a torch.device", str(answer.get("what"))[:200],
               "return torch.device('cuda'), torch.device('mps') or torch.device('cpu'), not a string or None",
               code="not_a_device")
        found = _kind_of(answer.get("device"))
        wanted = table[(cuda, mps)]
        if found != wanted:
            code, cause = _pick_device_mistake(str(found), cuda, mps)
            fail(what, f"torch.device('{wanted}')", f"torch.device('{answer.get('device')}')", cause, code=code)


# ---------------------------------------------------------------- to_device


def _outline(batch: Any, depth: int = 0) -> str:
    """A short picture of a batch's structure: containers, keys, and each tensor's shape and dtype."""
    if isinstance(batch, torch.Tensor):
        dtype = "" if batch.dtype == torch.float32 else f" {str(batch.dtype).removeprefix('torch.')}"
        return f"tensor {list(batch.shape)}{dtype}"
    if depth > 3:
        return "..."
    if isinstance(batch, dict):
        return "{" + ", ".join(f"{k!r}: {_outline(v, depth + 1)}" for k, v in batch.items()) + "}"
    if isinstance(batch, (list, tuple)):
        inner = ", ".join(_outline(v, depth + 1) for v in batch)
        return f"[{inner}]" if isinstance(batch, list) else f"({inner}{',' if len(batch) == 1 else ''})"
    return type(batch).__name__


def describe_to_device(case: Case) -> str:
    text = _outline(case["batch"])
    return f"to_device({text if len(text) <= 160 else text[:157] + '...'}, device)"


def _to_device_raised(what: str, record: dict[str, str]) -> None:
    message = str(record.get("message", ""))
    where = f" ({record['where']})" if record.get("where") else ""
    container = re.search(r"'(dict|list|tuple)' object has no attribute", message)
    if container:
        kind = container.group(1)
        fail(what, "it runs without an error", f"{record.get('type')}: {message[:200]}{where}",
             f"a {kind} was treated as a tensor, and a {kind} has no such method: test "
             "isinstance(batch, torch.Tensor) first, and move each item of a tuple, list or dict "
             "(calling to_device again on it, so that nested ones move too)", code="container_as_tensor")
    if re.search(r"'str' object has no attribute|dictionary update sequence", message):
        fail(what, "it runs without an error", f"{record.get('type')}: {message[:200]}{where}",
             "looping over a dict gives its keys (strings), not its values: use batch.items() and build a "
             "dict of moved values under the same keys", code="dict_keys_iterated")
    raised_message(what, record)


def _compare(found: Any, original: Any, what: str, where: str, depth: int, leaves: list) -> None:
    """The structure of ``found`` is that of ``original``; its tensors are collected in ``leaves``."""
    hidden = is_hidden()
    if isinstance(original, torch.Tensor):
        if isinstance(found, (list, tuple, dict)):
            fail(f"{what}: {where}", "a tensor", describe(found),
                 "a tensor of the batch came back as a container: move tensors with .to(device)", code="not_a_tensor")
        expect_tensor(found, f"{what}: {where}", "a tensor of the batch came back as something else: "
                      "return what .to(device) gives back")
        leaves.append((found, original, where, depth))
        return
    kind = type(original).__name__
    if type(found) is not type(original):
        cause = (f"a {kind} must come back as a {kind}: rebuild the same kind of container around the moved "
                 "items (or update a list or dict in place and return it)")
        if isinstance(found, torch.Tensor):
            cause = f"a {kind} is not a tensor: move each of its items instead"
        elif found is None:
            cause = "return the moved batch (a function that updates a list or dict in place must still return it)"
        fail(f"{what}: {where}", f"a {kind}", describe(found), cause,
             code="nothing_returned" if found is None else "container_changed")
    if isinstance(original, dict):
        if set(found) != set(original):  # the keys' order is free
            shown = ((f"the same {len(original)} keys as the batch's dict", f"{len(found)} keys, "
                      f"{len(set(original) - set(found))} of the batch's missing") if hidden
                     else (f"the keys {list(original)}", f"the keys {list(found)}"))
            fail(f"{what}: {where}", *shown, "keep every key of the dict, each with its own moved value",
                 code="keys_changed")
        for i, key in enumerate(original):
            inner = f"{where}[{key!r}]" if not hidden else f"{where}, item {i + 1}"
            _compare(found[key], original[key], what, inner, depth + 1, leaves)
        return
    expect(len(found) == len(original), f"{what}: {where}", f"{len(original)} items", f"{len(found)} items",
           "keep every item of the container, in order", code="items_changed")
    for i, (f, o) in enumerate(zip(found, original, strict=True)):
        _compare(f, o, what, f"{where}[{i}]" if not hidden else f"{where}, item {i + 1}", depth + 1, leaves)


def _not_moved(what: str, device: str, leaves: list, unmoved: list) -> None:
    """Fail for the tensors left behind, naming the likelier cause from how deep they sit."""
    depths = [depth for _, depth in unmoved]
    moved = [depth for _, _, where, depth in leaves if (where, depth) not in unmoved]
    if 0 in depths or (not moved and min(depths) == 1):
        code, cause = "tensor_not_moved", ("tensor.to(device) returns a moved copy and leaves the original where "
                                           "it was: return (or store) what .to(device) gives back")
    elif (not moved and min(depths) > 1) or (moved and min(depths) > min(moved)):
        code, cause = "nested_not_moved", ("a tensor inside a container was left behind: call to_device again on "
                                           "every item of a tuple, list or dict, so that nested ones are moved too")
    else:
        code, cause = "items_not_moved", ("the tensors inside the containers were left behind: move each item of a "
                                          "tuple, list or dict by calling to_device again on it, and keep what "
                                          "tensor.to(device) returns (it is a moved copy)")
    where, depth = unmoved[0]
    found = next(f for f, _, w, d in leaves if (w, d) == (where, depth))
    shown = (f"a tensor on {seen(found).device}" if len(leaves) == 1
             else f"{len(unmoved)} of {len(leaves)} tensors left behind (this one on {seen(found).device})")
    fail(f"{what}: {where}", f"every tensor on {device}", shown, cause, code=code)


def to_device(case: Case, seen_: Observation, expected: Any, call: str) -> None:
    runs = runs_of(seen_, call, [{"from": "cpu", "device": "meta"}, {"from": "cpu", "device": "cpu"}])
    for run in runs:
        device = str(run.get("device"))
        origin = str(run.get("from"))
        what = f"{call} with device {device!r}" + (f" (the batch starting on {origin})" if origin != "cpu" else "")
        if run.get("raised"):
            _to_device_raised(what, run["raised"])
        leaves: list = []
        _compare(run.get("returned"), expected, what, "the batch", 0, leaves)
        unmoved = [(where, depth) for found, _, where, depth in leaves if not same_place(seen(found).device, device)]
        if unmoved:
            _not_moved(what, device, leaves, unmoved)
        for found, original, where, _ in leaves:
            expect(found.dtype == original.dtype, f"{what}: {where}", f"dtype {original.dtype}",
                   f"dtype {found.dtype}", "moving must keep each tensor's dtype (the hours are int64 on purpose): "
                   ".to(device) alone changes only the device; pass no dtype and call no .float()",
                   code="dtype_changed")
            expect(list(found.shape) == list(original.shape), f"{what}: {where}", f"shape {list(original.shape)}",
                   f"shape {list(found.shape)}", "move the tensor with .to(device) and change nothing else",
                   code="shape_changed")
            if seen(found).has_values:
                expect_close(found, original, f"{what}: {where}", rtol=0, atol=0,
                             cause="moving a tensor must not change its values", code="values_changed")


# ---------------------------------------------------------------- predict_on_device


def describe_predict_on_device(case: Case) -> str:
    return f"predict_on_device(model, X of shape {list(case['X'].shape)}, device)"


def _forwards(what: str, run: dict[str, Any], device: str) -> None:
    """Every forward pass ran on ``device`` (model and batch), in eval mode, without autograd."""
    forwards = run.get("forwards")
    if not forwards:
        if run.get("raised"):
            raised_message(what, run["raised"])
        fail(what, "one call of the model on X", "the model was never called",
             "compute the predictions with model(X) on the device", code="model_never_called")
    for forward in forwards:
        params, inputs = list(forward.get("parameter_devices", [])), list(forward.get("input_devices", []))
        model_here = all(same_place(d, device) for d in params)
        batch_here = all(same_place(d, device) for d in inputs)
        if not model_here and batch_here:
            fail(f"{what}: where the model was", f"the model's weights on {device}", f"weights on {', '.join(params)}",
                 "the batch was moved but not the model: model and data must share a device, "
                 "call model.to(device) too", code="model_not_moved")
        if model_here and not batch_here:
            fail(f"{what}: where the batch was", f"X on {device}", f"X on {', '.join(inputs)}",
                 "the model was moved but not the batch: model and data must share a device, use X.to(device) "
                 "and keep what it returns", code="batch_not_moved")
        if not (model_here and batch_here):
            fail(f"{what}: where the work ran", f"model and X on {device}",
                 f"weights on {', '.join(params)}, X on {', '.join(inputs)}",
                 "the device argument was ignored: move both the model and X to the `device` you were given",
                 code="device_ignored")
        expect(forward.get("training") is False, f"{what}: the model's mode", "eval mode (model.training is False)",
               "training mode", "call model.eval() before predicting: dropout stays on in training mode",
               code="eval_mode_missing")
        expect(forward.get("grad_enabled") is False, f"{what}: autograd", "the forward pass under torch.no_grad()",
               "autograd recording a graph",
               "wrap the prediction in `with torch.no_grad():` so that autograd records nothing "
               "(.detach() afterwards is too late: the graph was already recorded)", code="no_grad_missing")


def predict_on_device(case: Case, seen_: Observation, expected: torch.Tensor, call: str) -> None:
    runs = runs_of(seen_, call, [{"from": "cpu", "device": "meta"}, {"from": "cpu", "device": "cpu"}])
    for run in runs:
        device, origin = str(run.get("device")), str(run.get("from"))
        what = f"{call} with device {device!r}" + (" (model and X already there)" if origin != "cpu" else "")
        _forwards(what, run, device)
        if run.get("raised"):
            raised_message(what, run["raised"])
        found = expect_tensor(run.get("returned"), what, "return the predictions as a tensor: did you forget `return`?")
        expect(_kind_of(seen(found).device) == "cpu", f"{what}: where the predictions are", "a tensor on cpu",
               f"a tensor on {seen(found).device}",
               "bring the predictions back with .cpu() before returning them: NumPy, matplotlib and arithmetic "
               "with CPU tensors need them there", code="left_on_device")
        expect(not seen(found).requires_grad, f"{what}: autograd", "predictions that need no gradient",
               "predictions still attached to an autograd graph", "wrap the prediction in `with torch.no_grad():`",
               code="no_grad_missing")
        expect_close(found, expected, f"{what}: values", rtol=1e-4, atol=1e-4,
                     cause="the predictions are model(X) in eval mode, for the X you were given", code="wrong_values")
