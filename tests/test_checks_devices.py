"""05_devices_checkpoints' checks: the reference passes every one; each mistake fails with its message and code.

The checks run as in a notebook on the instructor's machine: the kit observes, the judge
(importable here) computes the expectation in-process; visible tests read the shipped
expectations. Each test below would pass if the check it aims at were weakened (a
tolerance dropped, a condition inverted, a device ignored): ``benchmarks/mutation.py``
measures exactly that. Every test passes on a machine without a GPU; ``tests/test_cuda.py``
runs the same checks on a real one.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
import torch
from torch import nn

from autograder import judges
from autograder.reference import devices as ref
from coursekit.checks import devices as check
from coursekit.checks import engine, wire
from coursekit.checks.devices import machine, nets
from coursekit.checks.expect import CheckFailed
from tests.corpus.devices import SUBMISSIONS

SEEDS = [3, 14]
MILES = torch.tensor([[1.0], [3.0], [5.0], [7.0]])
MINUTES = torch.tensor([[15.0], [27.0], [39.0], [45.0]])
HOURS = torch.tensor([[8], [12], [17], [18]])
EXERCISES = ["pick_device", "to_device", "predict_on_device", "save_checkpoint", "load_checkpoint"]


def courier() -> nn.Module:
    model = nn.Sequential(nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.fill_(5.1)
        model[0].bias.fill_(11.1)
    return model.eval()


def batch() -> dict:
    return {"features": (MILES, HOURS), "minutes": MINUTES}


def failure(call, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        call(*args, **kwargs)
    return caught.value


def hidden(name: str):
    return getattr(check, f"{name}_hidden")


def visible(name: str, student) -> None:
    """The notebook's visible tests of exercise ``name``."""
    if name == "pick_device":
        check.pick_device(student)
        for cuda, mps in [(True, False), (False, True), (False, False)]:
            check.pick_device_under(student, cuda=cuda, mps=mps)
    elif name == "to_device":
        check.to_device(student, batch())
        check.to_device(student, [(MILES, MINUTES), {"hours": HOURS}])
    elif name == "predict_on_device":
        check.predict_on_device(student, courier(), MILES)
        check.predict_on_device(student, courier(), torch.tensor([[7.0]]))
    else:
        getattr(check, name)(student, courier())


def _define(code: str, name: str):
    namespace = {"torch": torch, "nn": nn}
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - corpus code written by us
    return namespace[name]


# --- the reference and the corpus ----------------------------------------------------------------

@pytest.mark.parametrize("name", EXERCISES)
def test_reference_passes_every_visible_and_hidden_check(name):
    visible(name, getattr(ref, name))
    hidden(name)(getattr(ref, name), seeds=SEEDS)


#: corpus student -> the mistake code its hidden check names.
CODES = {
    "pick_device_mps_first": "mps_before_cuda",
    "pick_device_no_cuda": "cuda_never_considered",
    "pick_device_no_call": "is_available_not_called",
    "pick_device_frozen": "decided_once",
    "pick_device_string": "not_a_device",
    "to_device_top_level_only": "nested_not_moved",
    "to_device_tuple_to_list": "container_changed",
    "to_device_result_dropped": "tensor_not_moved",
    "to_device_casts_float": "dtype_changed",
    "to_device_dict_keys": "dict_keys_iterated",
    "predict_batch_not_moved": "batch_not_moved",
    "predict_model_not_moved": "model_not_moved",
    "predict_ignores_device": "device_ignored",
    "predict_autograd_on": "no_grad_missing",
    "predict_training_mode": "eval_mode_missing",
    "predict_left_on_device": "left_on_device",
    "save_whole_model": "whole_model_pickled",
    "save_wrapped": "state_dict_wrapped",
    "save_ignores_path": "path_ignored",
    "load_no_map_location": "map_location_missing",
    "load_training_mode": "eval_mode_missing",
    "load_returns_state_dict": "returned_state_dict",
    "load_never_loads": "state_not_loaded",
    "load_ignores_device": "model_not_on_device",
}
#: corpus student -> the code its visible tests name instead (None: only the hidden tests catch it).
VISIBLE_CODES = {
    "pick_device_frozen": "cuda_never_considered",  # one pretended machine cannot show it was decided once
    "pick_device_mps_first": None,  # only a machine with both cuda and mps shows the order
    "pick_device_no_call": "unavailable_device_picked",
}
WRONG = [s for s in SUBMISSIONS if s.loses]
RIGHT = [s for s in SUBMISSIONS if not s.loses]


def test_every_wrong_submission_has_a_code():
    assert {s.student for s in WRONG} == set(CODES)


@pytest.mark.parametrize("submission", WRONG, ids=[s.student for s in WRONG])
def test_wrong_submission_fails_its_visible_and_hidden_checks_with_its_code(submission, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a submission that ignores its path writes here
    (cell, code), = submission.edits.items()
    student = _define(code, cell)
    error = failure(hidden(cell), student, seeds=SEEDS)
    assert error.code == CODES[submission.student], str(error)
    message = str(error)
    assert "expected:" in message and "found:" in message and "likely cause:" in message
    if submission.student in VISIBLE_CODES:
        wanted = VISIBLE_CODES[submission.student]
        if wanted is None:
            visible(cell, student)
        else:
            assert failure(visible, cell, student).code == wanted
    else:
        assert failure(visible, cell, student).code == CODES[submission.student]


@pytest.mark.parametrize("submission", RIGHT, ids=[s.student for s in RIGHT])
def test_right_submission_passes_every_check(submission, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for cell, code in submission.edits.items():
        student = _define(code, cell)
        visible(cell, student)
        hidden(cell)(student, seeds=SEEDS)


# --- pick_device ---------------------------------------------------------------------------------

def test_pick_device_patches_are_restored_even_when_the_student_raises():
    real = (torch.cuda.is_available, torch.backends.mps.is_available, torch.cuda.get_device_name)

    def broken():
        raise RuntimeError("boom")

    error = failure(check.pick_device_hidden, broken, seeds=[1])
    assert error.code == "raised" and "boom" in str(error)
    assert (torch.cuda.is_available, torch.backends.mps.is_available, torch.cuda.get_device_name) == real
    assert torch.cuda.is_available() is (torch.cuda.device_count() > 0)


def test_pick_device_on_each_pretended_machine():
    def only_cpu():
        return torch.device("cpu")

    assert failure(check.pick_device_under, only_cpu, cuda=True, mps=False).code == "cuda_never_considered"
    assert failure(check.pick_device_under, only_cpu, cuda=False, mps=True).code == "mps_never_considered"
    check.pick_device_under(only_cpu, cuda=False, mps=False)

    def always_mps():
        return torch.device("mps")

    error = failure(check.pick_device_under, always_mps, cuda=False, mps=False)
    assert error.code == "unavailable_device_picked" and "torch.device('cpu')" in str(error)


def test_pick_device_this_machine_is_judged_on_what_torch_says_here():
    def wrong_here():
        return torch.device("cuda" if not torch.cuda.is_available() else "cpu")

    assert failure(check.pick_device, wrong_here).code in ("unavailable_device_picked", "cuda_never_considered")


# --- to_device -----------------------------------------------------------------------------------

def test_to_device_updating_the_batch_in_place_passes_and_the_callers_batch_stays():
    """Each run gets its own copy: an in-place version once failed with 'Cannot copy out of meta tensor'."""
    def in_place(b, device):
        if isinstance(b, torch.Tensor):
            return b.to(device)
        if isinstance(b, dict):
            for key in b:
                b[key] = in_place(b[key], device)
            return b
        if isinstance(b, list):
            b[:] = [in_place(item, device) for item in b]
            return b
        return tuple(in_place(item, device) for item in b)

    mine = batch()
    moved = in_place(copy.deepcopy(mine), torch.device("meta"))  # as the notebook's grade cell does
    assert moved["minutes"].is_meta
    check.to_device(in_place, mine)
    check.to_device(in_place, [(MILES, MINUTES), {"hours": HOURS}])
    check.to_device_hidden(in_place, seeds=SEEDS)
    assert mine["minutes"].device.type == "cpu" and mine["features"][1] is HOURS


def test_to_device_in_place_returning_nothing_is_named():
    def returns_nothing(b, device):
        for key in b:
            b[key] = b[key].to(device) if isinstance(b[key], torch.Tensor) else b[key]

    error = failure(check.to_device, returns_nothing, {"miles": MILES})
    assert error.code == "nothing_returned" and "must still return it" in str(error)


def test_to_device_dict_treated_as_a_tensor_is_named():
    error = failure(check.to_device, lambda b, device: b.to(device), batch())
    assert error.code == "container_as_tensor" and "a dict was treated as a tensor" in str(error)


def test_to_device_keys_in_another_order_pass_and_lost_keys_fail():
    check.to_device(lambda b, d: {k: ref.to_device(b[k], d) for k in reversed(list(b))}, batch())
    error = failure(check.to_device, lambda b, d: {"minutes": ref.to_device(b["minutes"], d)}, batch())
    assert error.code == "keys_changed"


def test_to_device_lost_items_and_changed_values_and_shapes():
    assert failure(check.to_device, lambda b, d: ref.to_device(b[:1], d), [MILES, MINUTES]).code == "items_changed"
    assert failure(check.to_device, lambda b, d: b.to(d) + 1, MILES).code == "values_changed"
    assert failure(check.to_device, lambda b, d: b.to(d).reshape(-1), MILES).code == "shape_changed"
    assert failure(check.to_device, lambda b, d: [b.to(d)], MILES).code == "not_a_tensor"


def test_to_device_hidden_messages_show_no_keys_or_values():
    def shallow(b, device):
        return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in b.items()} if isinstance(b, dict) \
            else ref.to_device(b, device)

    error = failure(check.to_device_hidden, shallow, seeds=[1])
    assert error.code == "nested_not_moved" and "hidden test case" in str(error)
    assert "'miles'" not in str(error) and "'features'" not in str(error)


# --- predict_on_device ---------------------------------------------------------------------------

def test_meta_prediction_carries_its_values_through_operations():
    values = torch.arange(6.0).reshape(3, 2)
    wrapped = check.MetaWithValues.wrap(torch.empty(3, 2, device="meta"), values)
    assert wrapped.device.type == "meta"
    moved = wrapped.detach().t().cpu()
    assert moved.device.type == "cpu" and torch.equal(moved, values.t())
    assert torch.equal(wrapped.to(torch.device("cpu")), values)
    assert torch.equal(wrapped.to("cpu", non_blocking=True), values)
    assert wrapped.to("meta").device.type == "meta"
    assert wrapped[1, 1].item() == 3.0 and wrapped.tolist() == values.tolist()


def _row_by_row(model, X, device):
    model.to(device).eval()
    with torch.no_grad():
        return torch.cat([model(x.unsqueeze(0).to(device)) for x in X]).to(torch.device("cpu"))


def _printing(model, X, device):
    model = model.to(device)
    model.eval()
    with torch.no_grad():
        out = model(X.to(device))
        print("predictions on", out.device, out, out[0].item())
        out = out.squeeze(-1)
    return torch.Tensor.cpu(out).reshape(-1, 1)


def _as_tensor(model, X, device):
    model.to(device).eval()
    with torch.no_grad():
        out = model(torch.as_tensor(X, device=device))
    return torch.from_numpy(out.cpu().numpy())


@pytest.mark.parametrize("predict", [_row_by_row, _printing, _as_tensor])
def test_predict_on_device_accepts_other_correct_styles(predict):
    check.predict_on_device(predict, courier(), MILES)
    check.predict_on_device_hidden(predict, seeds=SEEDS)


def test_predict_on_device_leaves_the_callers_model_alone():
    model = courier().train()
    check.predict_on_device(ref.predict_on_device, model, torch.tensor([[7.0]]))
    assert model[0].weight.device.type == "cpu" and model[0].weight.item() == pytest.approx(5.1) and model.training


def test_predict_on_device_wrong_numbers_and_shapes_and_a_forgotten_call():
    def plus_one(model, X, device):
        return ref.predict_on_device(model, X, device) + 1

    assert failure(check.predict_on_device, plus_one, courier(), MILES).code == "wrong_values"
    flat = lambda m, X, d: ref.predict_on_device(m, X, d).flatten()  # noqa: E731
    assert failure(check.predict_on_device, flat, courier(), MILES).code == "wrong_shape"
    assert failure(check.predict_on_device, lambda m, X, d: X.cpu(), courier(), MILES).code == "model_never_called"


def test_predict_on_device_hidden_messages_show_no_numbers():
    def plus_one(model, X, device):
        return ref.predict_on_device(model, X, device) + 1

    error = failure(check.predict_on_device_hidden, plus_one, seeds=[21])
    assert error.code == "wrong_values" and "hidden test case" in str(error)
    expected = check.PREDICT_ON_DEVICE.cases(21)[0]["X"]
    for value in expected.flatten().tolist():
        assert f"{value:.5g}" not in str(error)


def test_predict_on_device_in_training_mode_is_caught_on_a_model_without_dropout():
    def no_eval(model, X, device):
        model.to(device)
        with torch.no_grad():
            return model(X.to(device)).cpu()

    assert failure(check.predict_on_device, no_eval, courier(), MILES).code == "eval_mode_missing"


# --- save_checkpoint -----------------------------------------------------------------------------

class Box:
    """Something weights_only=True refuses to rebuild."""


def test_save_checkpoint_mistakes_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fresh = lambda model, path: torch.save(nets.build(nets.spec_of(model)["layers"]).state_dict(), path)  # noqa: E731
    assert failure(check.save_checkpoint, fresh, courier()).code == "wrong_values"
    renamed = lambda model, path: torch.save({f"courier.{k}": v for k, v in model.state_dict().items()}, path)  # noqa: E731
    assert failure(check.save_checkpoint, renamed, courier()).code == "wrong_names"
    listed = lambda model, path: torch.save(list(model.state_dict().values()), path)  # noqa: E731
    assert failure(check.save_checkpoint, listed, courier()).code == "not_a_mapping"

    boxed = lambda model, path: torch.save({"0.weight": Box(), "0.bias": 1}, path)  # noqa: E731
    assert failure(check.save_checkpoint, boxed, courier()).code == "not_weights_only"
    nudged = lambda model, path: torch.save({k: v + 1e-6 for k, v in model.state_dict().items()}, path)  # noqa: E731
    assert failure(check.save_checkpoint, nudged, courier()).code == "wrong_values"


# --- load_checkpoint -----------------------------------------------------------------------------

def test_load_checkpoint_meets_a_checkpoint_written_on_a_missing_device(tmp_path):
    path = str(tmp_path / "c.pt")
    machine.write_checkpoint(courier().state_dict(), path, machine.missing_device())
    with pytest.raises(RuntimeError, match="map_location"):
        torch.load(path, weights_only=True)
    model = ref.load_checkpoint(path, lambda: nn.Sequential(nn.Linear(1, 1)), "cpu")
    assert model(torch.tensor([[7.0]])).item() == pytest.approx(46.8)


def test_load_checkpoint_ignoring_its_device_fails_on_a_cpu_only_machine():
    """Once a known weakness: the CPU is the right answer on a CPU-only grader, so the tests also load to meta."""
    def cpu_always(path, build_fn, device):
        return ref.load_checkpoint(path, build_fn, "cpu")

    error = failure(check.load_checkpoint, cpu_always, courier())
    assert error.code == "model_not_on_device" and "'meta'" in str(error)
    assert failure(check.load_checkpoint_hidden, cpu_always, seeds=[2]).code == "model_not_on_device"


@pytest.mark.parametrize("order", ["build, move, load", "build, load, move", "assign"])
def test_load_checkpoint_every_order_of_the_steps_works_on_meta(order):
    def load(path, build_fn, device):
        model = build_fn()
        if order == "build, move, load":
            model.to(device)
        state = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(state, assign=order == "assign")
        return model.to(device).eval()

    check.load_checkpoint(load, courier())
    check.load_checkpoint_hidden(load, seeds=SEEDS)


def test_load_checkpoint_ignoring_build_fn_fails():
    def own_model(path, build_fn, device):
        model = nets.build(check.LOAD_CHECKPOINT.cases(2)[0]["model"]["layers"])
        model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        return model.to(device).eval()

    assert failure(check.load_checkpoint_hidden, own_model, seeds=[2]).code == "build_fn_not_called"
    assert failure(check.load_checkpoint, lambda p, b, d: nn.Linear(1, 1), courier()).code == "build_fn_not_called"


def test_load_checkpoint_returning_something_else_is_named():
    assert failure(check.load_checkpoint, lambda p, b, d: None, courier()).code == "not_a_model"


def test_load_checkpoint_hidden_networks_have_dropout_so_training_mode_shows():
    spec = check.LOAD_CHECKPOINT.cases(55)[0]["model"]
    assert ["dropout", 0.25] in spec["layers"] and ["tanh"] in spec["layers"]


# --- the engine's shared verdicts ----------------------------------------------------------------

def test_grad_mode_left_off_is_charged_to_its_own_call():
    def no_grad_left_on(model, X, device):
        torch.set_grad_enabled(False)
        return ref.predict_on_device(model, X, device)

    error = failure(check.predict_on_device, no_grad_left_on, courier(), MILES)
    assert error.code == "global_state_changed" and torch.is_grad_enabled()


@pytest.mark.parametrize("name", EXERCISES)
def test_observations_are_plain_json(name):
    records = []
    engine.set_sink(records.append)
    try:
        hidden(name)(getattr(ref, name), seeds=[7])
    finally:
        engine.set_sink(None)
    assert json.loads(json.dumps(records)) == records
    text = json.dumps(records)
    assert "__other__" not in text and not re.search(r'"__pickle__"', text)


def test_cases_do_not_depend_on_the_machine():
    for c in (check.TO_DEVICE, check.PREDICT_ON_DEVICE, check.SAVE_CHECKPOINT, check.LOAD_CHECKPOINT):
        assert "device" not in json.dumps(str(c.cases(5)[0].keys()))
    assert machine.devices_here()[:2] == [torch.device("meta"), torch.device("cpu")]


# --- each branch of the verdicts -----------------------------------------------------------------

def test_malformed_and_incomplete_observations_fail():
    expected = ref.to_device(MILES, "cpu")
    for runs in ("nope", ["nope"]):
        assert failure(engine.verdict, check.TO_DEVICE, {"batch": MILES}, {"runs": runs}, expected).code == "malformed"
    only_cpu = {"runs": [{"from": "cpu", "device": "cpu", "returned": MILES, "raised": None}]}
    assert failure(engine.verdict, check.TO_DEVICE, {"batch": MILES}, only_cpu, expected).code == "incomplete"
    table = [[c, m, ref.pick_device().type] for c, m in [[False, False]]]
    short = {"answers": []}
    assert failure(engine.verdict, check.PICK_DEVICE, {"calls": [None]}, short, table).code == "incomplete"


def test_pick_device_every_wrong_answer_has_its_code():
    def always(name):
        return lambda: torch.device(name)

    error = failure(check.pick_device_under, always("cuda"), cuda=False, mps=True)
    assert error.code == "unavailable_device_picked" and "where mps is available and cuda is not" in str(error)
    error = failure(check.pick_device_under, always("meta"), cuda=False, mps=False)
    assert error.code == "wrong_device" and "where neither cuda nor mps is available" in str(error)
    error = failure(check.pick_device_under, always("mps"), cuda=True, mps=True)
    assert error.code == "mps_before_cuda" and "where cuda and mps are both available" in str(error)
    check.pick_device_under(always("cuda:0"), cuda=True, mps=False)  # an index is fine


def test_to_device_other_mistakes_have_their_codes():
    def first_only(b, d):
        return [b[0].to(d), b[1]]

    assert failure(check.to_device, first_only, [MILES, MINUTES]).code == "items_not_moved"

    def list_items_only(b, d):  # the tensor in the list moves, the one in the tuple (as deep) does not
        return [[b[0][0].to(d)], (b[1][0],)]

    error = failure(check.to_device, list_items_only, [[MILES], (MINUTES,)])
    assert error.code == "items_not_moved" and "starting on" not in str(error)
    assert failure(check.to_device, lambda b, d: [None, None], [MILES, MINUTES]).code == "not_a_tensor"
    error = failure(check.to_device, lambda b, d: torch.zeros(2), [MILES, MINUTES])
    assert error.code == "container_changed" and "is not a tensor" in str(error)

    def broken(b, d):
        raise ValueError("no idea")

    assert failure(check.to_device, broken, MILES).code == "raised"


def test_to_device_hidden_lost_keys_show_counts_not_keys():
    def drops_a_key(b, d):
        moved = ref.to_device(b, d)
        if isinstance(moved, dict) and len(moved) > 1:
            moved.pop(next(iter(moved)))
        return moved

    error = failure(check.to_device_hidden, drops_a_key, seeds=SEEDS)
    assert error.code == "keys_changed" and "missing" in str(error)
    assert not re.search(r"'(features|minutes|pair|miles|hour)", str(error))


def test_predict_on_device_other_mistakes_have_their_codes():
    def raises_first(model, X, device):
        raise RuntimeError("nothing yet")

    assert failure(check.predict_on_device, raises_first, courier(), MILES).code == "raised"

    def raises_after(model, X, device):
        ref.predict_on_device(model, X, device)
        raise RuntimeError("after the forward pass")

    assert failure(check.predict_on_device, raises_after, courier(), MILES).code == "raised"
    as_list = lambda m, X, d: ref.predict_on_device(m, X, d).tolist()  # noqa: E731
    assert failure(check.predict_on_device, as_list, courier(), MILES).code == "not_a_tensor"
    wants_grad = lambda m, X, d: ref.predict_on_device(m, X, d).requires_grad_()  # noqa: E731
    assert failure(check.predict_on_device, wants_grad, courier(), MILES).code == "no_grad_missing"


def test_predict_on_device_tolerance_is_tight():
    nudged = lambda m, X, d: ref.predict_on_device(m, X, d) + 0.01  # noqa: E731
    error = failure(check.predict_on_device, nudged, courier(), MILES)
    assert error.code == "wrong_values" and "already there" not in str(error)  # that is a GPU run's label


def test_save_checkpoint_raising_or_saving_numbers_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def broken(model, path):
        raise OSError("disk full")

    assert failure(check.save_checkpoint, broken, courier()).code == "raised"
    numbers = lambda model, path: torch.save({k: 1.0 for k in model.state_dict()}, path)  # noqa: E731
    assert failure(check.save_checkpoint, numbers, courier()).code == "not_a_tensor"


def test_load_checkpoint_other_mistakes_have_their_codes():
    def raises_before_building(path, build_fn, device):
        return torch.load(path, map_location=device, weights_only=True)["no such key"]

    assert failure(check.load_checkpoint, raises_before_building, courier()).code == "build_fn_not_called"

    def raises_after_building(path, build_fn, device):
        build_fn()
        raise ValueError("not today")

    assert failure(check.load_checkpoint, raises_after_building, courier()).code == "raised"

    def wrapped(path, build_fn, device):
        return nn.Sequential(ref.load_checkpoint(path, build_fn, device)).eval()

    error = failure(check.load_checkpoint, wrapped, courier())
    assert error.code == "state_not_loaded" and "'0.0.weight'" in str(error)

    def nudged(path, build_fn, device):
        model = ref.load_checkpoint(path, build_fn, device)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1e-4)
        return model

    assert failure(check.load_checkpoint, nudged, courier()).code == "state_not_loaded"


def test_pick_device_judges_a_pretended_machine_by_the_case_not_by_the_observation():
    table = [[c, m, "cuda" if c else "mps" if m else "cpu"] for c in (False, True) for m in (False, True)]
    forged = {"answers": [{"cuda": False, "mps": False, "pretended": True, "raised": None, "is_device": True,
                           "device": "cpu", "what": None}]}
    error = failure(engine.verdict, check.PICK_DEVICE, {"calls": [[True, False]]}, forged, table)
    assert error.code == "cuda_never_considered"


def test_to_device_messages_show_the_batch_and_the_place_in_it():
    nested = {"features": (MILES, HOURS), "minutes": MINUTES, "deep": [[[(MILES,)]]]}
    assert check.diagnose.describe_to_device({"batch": nested}) == (
        "to_device({'features': (tensor [4, 1], tensor [4, 1] int64), 'minutes': tensor [4, 1], "
        "'deep': [[[...]]]}, device)")
    long = check.diagnose.describe_to_device({"batch": [MILES] * 20})
    assert long.endswith("..., device)") and len(long) == 160 + len("to_device(, device)")
    assert check.diagnose.describe_to_device({"batch": (MILES,)}) == "to_device((tensor [4, 1],), device)"

    def top_level_only(b, d):
        return {k: v.to(d) if isinstance(v, torch.Tensor) else v for k, v in b.items()}

    error = failure(check.to_device, top_level_only, batch())
    assert "the batch['features'][0]" in str(error) and "2 of 3 tensors left behind" in str(error)
    error = failure(check.to_device, lambda b, d: b, MILES)
    assert "found:    a tensor on cpu" in str(error) and error.code == "tensor_not_moved"
    error = failure(check.to_device, lambda b, d: [b.to(d)], MILES)
    assert "came back as a container" in str(error)


def test_save_checkpoint_of_a_whole_model_names_what_was_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    error = failure(check.save_checkpoint, lambda model, path: torch.save(model, path), courier())
    assert "refused to rebuild torch.nn.modules.container.Sequential" in str(error)


def test_load_checkpoint_reports_the_plainest_run_first():
    def careless(path, build_fn, device):  # neither map_location nor model.to(device)
        model = build_fn()
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.eval()

    assert failure(check.load_checkpoint, careless, courier()).code == "map_location_missing"


def _load_observation() -> tuple[dict, dict, dict]:
    """(case, the reference's observation, the expectation) of the visible load_checkpoint case."""
    case = wire.roundtrip({"model": nets.spec_of(courier())})
    observation = wire.roundtrip(engine.observe(check.LOAD_CHECKPOINT, ref.load_checkpoint, case))
    return case, observation, wire.roundtrip(judges.expectation(check.LOAD_CHECKPOINT.name, case))


def _run(observation: dict, written_on: str | None, device: str) -> dict:
    return next(r for r in observation["runs"]
                if r["device"] == device and (r["missing"] if written_on is None else r["written_on"] == written_on))


def test_load_checkpoint_judges_runs_in_a_fixed_order_whatever_order_they_come_in():
    case, observation, expected = _load_observation()
    engine.verdict(check.LOAD_CHECKPOINT, case, observation, expected)
    _run(observation, "cpu", "cpu")["returned"]["training"] = ["the model"]
    _run(observation, "cpu", "meta")["returned"]["devices"] = ["cpu"]
    _run(observation, None, "cpu")["raised"] = {"type": "RuntimeError", "message": "use map_location", "where": ""}
    for runs in (observation["runs"], observation["runs"][::-1]):
        error = failure(engine.verdict, check.LOAD_CHECKPOINT, case, {"runs": runs}, expected)
        assert error.code == "eval_mode_missing"
    _run(observation, "cpu", "cpu")["returned"]["training"] = []
    for runs in (observation["runs"], observation["runs"][::-1]):
        error = failure(engine.verdict, check.LOAD_CHECKPOINT, case, {"runs": runs}, expected)
        assert error.code == "map_location_missing"


@pytest.mark.parametrize(("message", "code"), [
    ("please use torch.load with map_location=...", "map_location_missing"),
    ("Attempting to deserialize object", "map_location_missing"),
    ("no CUDA GPUs are available", "map_location_missing"),
    ("something else went wrong", "raised"),
])
def test_load_checkpoint_an_error_on_the_missing_gpu_run_is_read_by_its_message(message, code):
    case, observation, expected = _load_observation()
    _run(observation, None, "cpu")["raised"] = {"type": "RuntimeError", "message": message, "where": ""}
    assert failure(engine.verdict, check.LOAD_CHECKPOINT, case, observation, expected).code == code


def test_load_checkpoint_names_the_missing_gpu_only_on_its_own_run():
    case, observation, expected = _load_observation()
    _run(observation, "cpu", "cpu")["raised"] = {"type": "RuntimeError", "message": "use map_location", "where": ""}
    error = failure(engine.verdict, check.LOAD_CHECKPOINT, case, observation, expected)
    assert error.code == "raised" and "a GPU this machine lacks" not in str(error)
    case, observation, expected = _load_observation()
    _run(observation, None, "cpu")["raised"] = {"type": "RuntimeError", "message": "use map_location", "where": ""}
    error = failure(engine.verdict, check.LOAD_CHECKPOINT, case, observation, expected)
    assert "(a GPU this machine lacks)" in str(error)
