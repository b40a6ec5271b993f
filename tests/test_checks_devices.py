"""The checks of 05_devices_checkpoints, run directly (no nbgrader): each corpus mistake fails for its reason."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autograder.checks import devices as check
from autograder.reference import devices as ref
from coursekit.checks.expect import CheckFailed
from tests.corpus.devices import SUBMISSIONS

HIDDEN = {
    "pick_device": check.pick_device_hidden,
    "to_device": check.to_device_hidden,
    "predict_on_device": check.predict_on_device_hidden,
    "save_checkpoint": check.save_checkpoint_hidden,
    "load_checkpoint": check.load_checkpoint_hidden,
}
SEEDS = [3, 14, 15]

#: corpus student -> words its failure message must hold (the mistake, named).
REASONS = {
    "pick_device_mps_first": "the order matters",
    "pick_device_no_cuda": "cuda was never considered",
    "pick_device_no_call": "a function without () is always true",
    "pick_device_frozen": "whatever the machine reports",
    "to_device_top_level_only": "a tensor inside a container was left behind",
    "to_device_tuple_to_list": "a tuple must come back as a tuple",
    "to_device_result_dropped": "returns a moved copy",
    "predict_batch_not_moved": "the model was moved but not the batch",
    "predict_model_not_moved": "the batch was moved but not the model",
    "predict_autograd_on": "torch.no_grad()",
    "predict_training_mode": "call model.eval()",
    "predict_left_on_device": "bring the predictions back with .cpu()",
    "save_whole_model": "the whole model was pickled",
    "save_wrapped": "wrapped in another dict",
    "save_ignores_path": "save to the path you were given",
    "load_no_map_location": "map_location=device",
    "load_training_mode": "call model.eval() before returning it",
    "load_returns_state_dict": "a state_dict (a dict of tensors)",
    "load_never_loads": "load the saved state_dict into the model",
}


def _define(code: str, name: str):
    namespace = {"torch": torch, "nn": nn}
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - corpus code written by us
    return namespace[name]


WRONG = [s for s in SUBMISSIONS if s.loses]
RIGHT = [s for s in SUBMISSIONS if not s.loses]


def test_every_wrong_submission_has_a_reason():
    assert {s.student for s in WRONG} == set(REASONS)


@pytest.mark.parametrize("submission", WRONG, ids=[s.student for s in WRONG])
def test_wrong_submission_fails_its_hidden_check_for_its_reason(submission, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a submission that ignores its path writes here
    (cell, code), = submission.edits.items()
    with pytest.raises(CheckFailed) as failure:
        HIDDEN[cell](_define(code, cell), seeds=SEEDS)
    message = str(failure.value)
    assert REASONS[submission.student] in message, message
    assert "expected:" in message and "found:" in message and "likely cause:" in message


@pytest.mark.parametrize("submission", RIGHT, ids=[s.student for s in RIGHT])
def test_right_submission_passes_every_hidden_check(submission):
    for cell, code in submission.edits.items():
        HIDDEN[cell](_define(code, cell), seeds=SEEDS)


@pytest.mark.parametrize("cell", HIDDEN)
def test_reference_passes_hidden_checks(cell):
    HIDDEN[cell](getattr(ref, cell), seeds=SEEDS)


def test_pick_device_patches_are_restored_even_when_the_student_raises():
    real = (torch.cuda.is_available, torch.backends.mps.is_available, torch.cuda.get_device_name)

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(CheckFailed, match="boom"):
        check.pick_device_hidden(broken, seeds=[1])
    assert (torch.cuda.is_available, torch.backends.mps.is_available, torch.cuda.get_device_name) == real
    assert torch.cuda.is_available() is (torch.cuda.device_count() > 0)


def test_pick_device_wants_a_device_not_a_string():
    with pytest.raises(CheckFailed, match="not a string"):
        check.pick_device_hidden(lambda: "cpu", seeds=[1])


def test_meta_prediction_carries_its_values_through_operations():
    values = torch.arange(6.0).reshape(3, 2)
    wrapped = check.MetaWithValues.wrap(torch.empty(3, 2, device="meta"), values)
    assert wrapped.device.type == "meta"
    moved = wrapped.detach().t().cpu()
    assert moved.device.type == "cpu" and torch.equal(moved, values.t())
    assert torch.equal(wrapped.to(torch.device("cpu")), values)
    assert torch.equal(wrapped.to("cpu", non_blocking=True), values)
    assert wrapped.to("meta").device.type == "meta"


def test_load_checkpoint_meets_a_checkpoint_written_on_a_missing_device(tmp_path):
    written_on = check.missing_device()
    if written_on is None:
        pytest.skip("this machine has every device a checkpoint could name")
    path = str(tmp_path / "c.pt")
    check.write_checkpoint(ref.courier_neuron(), path, written_on)
    with pytest.raises(RuntimeError):
        torch.load(path, weights_only=True)
    model = ref.load_checkpoint(path, ref.courier_neuron, "cpu")
    assert model(torch.tensor([[7.0]])).item() == pytest.approx(46.8)


def test_to_device_reports_an_error_raised_on_a_nested_dict():
    def shallow(batch, device):
        return [x.to(device) for x in batch] if isinstance(batch, list) else batch.to(device)

    with pytest.raises(CheckFailed, match="nested ones move too"):
        check.to_device_hidden(shallow, seeds=[1])


def _row_by_row(model, X, device):
    model.to(device).eval()
    with torch.no_grad():
        return torch.cat([model(x.unsqueeze(0).to(device)) for x in X]).to(torch.device("cpu"))


def _printing(model, X, device):
    model = model.to(device)
    model.eval()
    with torch.no_grad():
        out = model(X.to(device))
        print("predictions on", out.device, out)
        out = out.squeeze(-1)
    return torch.Tensor.cpu(out).reshape(-1, 1)


@pytest.mark.parametrize("predict", [_row_by_row, _printing])
def test_predict_on_device_accepts_other_correct_styles(predict):
    check.predict_on_device_hidden(predict, seeds=SEEDS)


def test_predict_on_device_leaves_the_callers_model_alone():
    model = ref.courier_neuron()
    check.predict_on_device(ref.predict_on_device, model, torch.tensor([[7.0]]), check.META)
    assert model[0].weight.device.type == "cpu" and model[0].weight.item() == pytest.approx(5.1)


def test_predict_on_device_ignoring_its_device_argument_fails():
    def own_device(model, X, device):
        return ref.predict_on_device(model, X, torch.device("cpu"))

    with pytest.raises(CheckFailed, match="the device argument was ignored"):
        check.predict_on_device_hidden(own_device, seeds=[1])


def test_load_checkpoint_ignoring_build_fn_fails():
    def own_model(path, build_fn, device):
        model = ref.courier_net(8)
        model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        return model.to(device).eval()

    with pytest.raises(CheckFailed, match="build_fn was never called"):
        check.load_checkpoint_hidden(own_model, seeds=[2, 3, 4])
