"""03_single_neuron's checks: the reference passes every one; each mistake fails with its message and code.

The checks run as in a notebook on the instructor's machine: the kit observes, the judge
(importable here) computes the expectation in-process; visible tests read the shipped
expectations. Each test below fails if the check it aims at is weakened (a tolerance
dropped, a condition inverted, a comparison skipped): ``benchmarks/mutation.py`` measures that.
"""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import SGD as BoundSGD  # bound at import: the optimizer spy cannot see these
from torch.optim import Adam as BoundAdam

from autograder import judges
from autograder.judges import single_neuron as judge
from autograder.reference import single_neuron as ref
from coursekit.checks import engine
from coursekit.checks import single_neuron as check
from coursekit.checks.expect import CheckFailed
from coursekit.checks.single_neuron import cases, diagnose, diagnose_training
from coursekit.data import mixed
from coursekit.data.delivery import bike_a, fresh_bike_data, least_squares_line
from coursekit.demos.single_neuron import line_model

X, Y = bike_a()
BEST = line_model(5.1, 11.1)
ROOT = Path(__file__).resolve().parents[1]


def failure(call, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        call(*args, **kwargs)
    return caught.value


def fails_with(code: str, call, *args, **kwargs) -> str:
    """The message of the failure, which must carry ``code``."""
    error = failure(call, *args, **kwargs)
    assert error.code == code, f"expected code {code!r}, got {error.code!r}:\n{error}"
    return str(error)


# ---------------------------------------------------------------- data, demos, the kit


def test_mixed_data_is_seeded_and_shaped():
    a, b = mixed.mixed_deliveries(5), mixed.mixed_deliveries(5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], mixed.mixed_deliveries(6)[0])
    miles, minutes = mixed.course_mixed()
    assert miles.shape == minutes.shape == (40, 1) and miles.dtype == torch.float32
    assert int(mixed.by_car(miles).sum()) == 20
    assert float(miles.min()) >= mixed.SHORTEST_MILES and float(miles.max()) <= mixed.LONGEST_MILES


def test_mixed_data_bends_where_the_vehicle_changes():
    miles, minutes = mixed.course_mixed()
    w, b = least_squares_line(miles, minutes)
    line_error = float(((w * miles + b - minutes) ** 2).mean())
    bent_error = float(((mixed.typical_minutes(miles) - minutes) ** 2).mean())
    assert line_error > 5 * bent_error  # a straight line is far worse than the two true pieces


@pytest.mark.slow
def test_reference_network_beats_the_line_on_the_course_data():
    miles, minutes = mixed.course_mixed()
    torch.manual_seed(0)
    net = ref.build_nonlinear_model()
    ref.train_nonlinear(net, miles, minutes)
    w, b = least_squares_line(miles, minutes)
    line_error = float(((w * miles + b - minutes) ** 2).mean())
    assert ref.mse_of(net, miles, minutes) < 0.25 * line_error


def test_line_model_sets_the_line_and_leaves_the_random_stream_alone():
    torch.manual_seed(3)
    before = torch.get_rng_state()
    model = line_model(2.5, 4.0)
    assert torch.equal(torch.get_rng_state(), before)
    assert model(torch.tensor([[2.0]])).item() == pytest.approx(9.0)


def test_the_kit_side_imports_no_answer_key():
    for path in [*(ROOT / "kit/coursekit/checks/single_neuron").glob("*.py"),
                 ROOT / "kit/coursekit/demos/single_neuron.py"]:
        assert not re.search(r"^\s*(from|import) autograder", path.read_text(), re.M), path
    release = ROOT / "release/03_single_neuron/delivery.ipynb"
    if release.exists():  # (absent from the copies benchmarks/mutation.py tests in)
        assert "autograder" not in release.read_text()


def test_the_notebook_visible_tests_are_shipped(monkeypatch):
    """Every visible call of the notebook finds its expectation in the kit, without the judge."""
    monkeypatch.setattr(engine, "_instructor_judge", lambda: None)
    check.build_model(ref.build_model)
    check.train_model(ref.train_model, X, Y, lr=0.005, epochs=30, seed=1)
    check.train_model_defaults(lambda model, X, y, lr=None, epochs=None: ref.train_model(model, X, y), X, Y)
    check.predict_minutes(ref.predict_minutes, line_model(5.1, 11.1), 7)
    check.predict_minutes(ref.predict_minutes, line_model(5.1, 11.1), 2.5)
    check.take_order(ref.take_order, line_model(5.1, 11.1), 7)
    check.take_order(ref.take_order, line_model(5.1, 11.1), 3)
    check.take_order(ref.take_order, line_model(5.1, 11.1), 7, promise=50.0)
    check.nonlinear_structure(ref.build_nonlinear_model, 4)
    check.build_nonlinear_model(ref.build_nonlinear_model, *mixed.course_mixed())
    error = failure(check.predict_minutes, ref.predict_minutes, line_model(5.1, 11.1), 3)  # not in the notebook
    assert error.code == "kit_mismatch"


# ---------------------------------------------------------------- the reference passes


def test_reference_passes_every_visible_and_hidden_check():
    check.build_model(ref.build_model)
    check.build_model_hidden(ref.build_model, seeds=[3, 1234])
    check.train_model(ref.train_model, X, Y, lr=0.005, epochs=30, seed=1)
    check.train_model_defaults(ref.train_model, X, Y)
    check.train_model_hidden(ref.train_model, seeds=[21, 4321])
    check.predict_minutes(ref.predict_minutes, BEST, 7)
    check.predict_minutes_hidden(ref.predict_minutes, seeds=[8, 808])
    check.take_order(ref.take_order, BEST, 7, promise=50.0)
    check.take_order_hidden(ref.take_order, seeds=[5, 55, 555])
    check.nonlinear_structure(ref.build_nonlinear_model, 4)
    check.build_nonlinear_model(ref.build_nonlinear_model, *mixed.course_mixed())
    check.build_nonlinear_model_hidden(ref.build_nonlinear_model, seeds=[31])


def test_calls_are_named_as_the_cell_writes_them():
    assert diagnose.describe_build_model({"seed": 3}) == "build_model() after torch.manual_seed(3)"
    assert diagnose.describe_train_model({"lr": None, "epochs": None}) == "train_model(model, X, y)"
    assert diagnose.describe_train_model({"lr": 0.005, "epochs": 30}) == "train_model(model, X, y, lr=0.005, epochs=30)"
    assert diagnose.describe_predict_minutes({"dropout": 0.0, "miles": 7}) == "predict_minutes(model, 7)"
    assert (diagnose.describe_predict_minutes({"dropout": 0.5, "miles": 2.5})
            == "predict_minutes(a model with dropout, 2.5)")
    assert diagnose.describe_take_order({"miles": 7, "promise": None}) == "take_order(model, 7)"
    assert diagnose.describe_take_order({"miles": 7, "promise": 50.0}) == "take_order(model, 7, promise=50.0)"
    assert diagnose.describe_build_nonlinear_model({"hidden": None}) == "build_nonlinear_model()"
    assert (diagnose.describe_build_nonlinear_model({"hidden": 4, "X": X})
            == "build_nonlinear_model(4), trained on mixed bike + car data")


def test_hidden_cases_are_fresh_and_deterministic():
    for name, hidden in check.HIDDEN.items():
        a, b = judges._cases(f"single_neuron.{name}", 1), judges._cases(f"single_neuron.{name}", 2)
        assert a == judges._cases(f"single_neuron.{name}", 1) and a != b, name
        assert all(isinstance(case.get("kind"), str) for case in hidden.cases(1)), name


# ---------------------------------------------------------------- build_model


def test_build_model_returning_one_shared_model_fails():
    shared = nn.Sequential(nn.Linear(1, 1))
    torch.manual_seed(0)
    shared[0].reset_parameters()
    fails_with("same_model_returned", check.build_model, lambda: shared, 0)


@pytest.mark.parametrize(("wrong", "code"), [
    (lambda: None, "not_a_module"),
    (lambda: nn.Linear(1, 1), "not_sequential"),
    (lambda: nn.Sequential(nn.Linear(1, 1), nn.ReLU()), "wrong_layers"),
    (lambda: nn.Sequential(nn.Linear(1, 2)), "wrong_layer_size"),
    (lambda: nn.Sequential(nn.Linear(1, 1, bias=False)), "bias_missing"),
    (lambda: nn.Sequential(nn.Linear(1, 1)).double(), "wrong_dtype"),
    (lambda: nn.Sequential(nn.Linear(1, 1)).requires_grad_(False), "frozen_parameters"),
    (lambda: line_model(5.1, 11.1), "weights_set_by_hand"),
])
def test_build_model_mistakes_are_named(wrong, code):
    fails_with(code, check.build_model, wrong)


def test_build_model_start_is_compared_exactly():
    def nudged():
        model = nn.Sequential(nn.Linear(1, 1))
        with torch.no_grad():
            model[0].weight.mul_(1.0001)
        return model

    fails_with("weights_set_by_hand", check.build_model, nudged)


def test_build_model_with_a_named_layer_passes():
    from collections import OrderedDict

    check.build_model(lambda: nn.Sequential(OrderedDict([("neuron", nn.Linear(1, 1))])))
    check.build_model_hidden(lambda: nn.Sequential(OrderedDict([("neuron", nn.Linear(1, 1))])), seeds=[3])


def test_build_model_reseeding_inside_is_a_changed_global_state():
    def reseeds():
        torch.manual_seed(42)
        return nn.Sequential(nn.Linear(1, 1))

    message = fails_with("global_state_changed", check.build_model, reseeds)
    assert "manual_seed" in message


def test_build_model_hidden_names_the_case_without_its_seed():
    message = fails_with("weights_set_by_hand", check.build_model_hidden, lambda: line_model(5.1, 11.1), seeds=[3])
    assert "hidden test case" in message and "manual_seed(3)" not in message


# ---------------------------------------------------------------- train_model


def _loop(optimizer_of=None, *, zero=True, after_step=False, fixed_lr=None, squeeze=False, record=None,
          backward_twice=False, step_twice=False, fixed_epochs=None):
    """The reference loop with one piece changed; ``optimizer_of`` None means optim.SGD looked up at call time."""
    def train_model(model, X, y, lr=0.01, epochs=500):
        make = optimizer_of or torch.optim.SGD
        optimizer = make(model.parameters(), lr=fixed_lr or lr)
        losses = []
        for _ in range(fixed_epochs or epochs):
            if zero:
                optimizer.zero_grad()
            pred = model(X)
            loss = F.mse_loss(pred.squeeze() if squeeze else pred, y)
            loss.backward()
            if backward_twice:
                optimizer.zero_grad()
                F.mse_loss(model(X), y).backward()
            optimizer.step()
            if step_twice:
                optimizer.step()
            if after_step:
                with torch.no_grad():
                    loss = F.mse_loss(model(X), y)
            losses.append(record(loss) if record else loss.item())
        return losses

    return train_model


SHORT = {"lr": 0.005, "epochs": 30}


@pytest.mark.parametrize(("wrong", "code"), [
    (lambda m, X, y, lr=0.01, epochs=500: torch.tensor(ref.train_model(m, X, y, lr, epochs)), "losses_not_a_list"),
    (lambda m, X, y, lr=0.01, epochs=500: None, "losses_not_a_list"),
    (_loop(fixed_epochs=20), "wrong_loss_count"),
    (_loop(record=lambda loss: loss), "loss_kept_as_tensor"),
    (_loop(record=lambda loss: round(loss.item())), "loss_not_float"),
    (_loop(lambda params, lr: torch.optim.Adam(params, lr=lr)), "wrong_optimizer"),
    (_loop(fixed_lr=0.01), "lr_ignored"),
    (_loop(lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9)), "sgd_options"),
    (_loop(zero=False), "zero_grad_missing"),
    (_loop(backward_twice=True), "backward_count"),
    (_loop(squeeze=True), "flat_target_broadcast"),
    (_loop(step_twice=True), "step_count"),
    (_loop(after_step=True), "loss_after_step"),
    (_loop(BoundAdam), "adam_steps"),
    (_loop(BoundSGD, fixed_lr=0.01), "lr_ignored"),
    (_loop(BoundSGD, zero=False), "zero_grad_missing"),
])
def test_train_model_mistakes_are_named(wrong, code):
    fails_with(code, check.train_model, wrong, X, Y, **SHORT)


def test_train_model_returning_a_tensor_is_told_to_return_a_list():
    def stacked(model, X, y, lr=0.01, epochs=500):
        return torch.tensor(ref.train_model(model, X, y, lr, epochs))

    assert "Python list" in fails_with("losses_not_a_list", check.train_model, stacked, X, Y, **SHORT)
    assert "forget `return`" in fails_with("losses_not_a_list", check.train_model, lambda *a, **k: None, X, Y, **SHORT)


def test_train_model_without_zero_grad_is_seen_by_the_gradient_watch():
    message = fails_with("zero_grad_missing", check.train_model, _loop(zero=False), X, Y, **SHORT)
    assert "still held an earlier epoch's gradient" in message


def test_train_model_on_another_model_is_named():
    def new_model(model, X, y, lr=0.01, epochs=500):
        return ref.train_model(nn.Sequential(nn.Linear(1, 1)), X, y, lr, epochs)

    fails_with("new_model_trained", check.train_model, new_model, X, Y, **SHORT)
    weight_only = _loop(lambda params, lr: torch.optim.SGD(list(params)[:1], lr=lr))
    fails_with("optimizer_not_over_model", check.train_model, weight_only, X, Y, **SHORT)

    def copied(model, X, y, lr=0.01, epochs=500):  # the optimizer bound early: only the weights tell
        twin = copy.deepcopy(model)
        optimizer = BoundSGD(twin.parameters(), lr=lr)
        losses = []
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = F.mse_loss(twin(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    fails_with("new_model_trained", check.train_model, copied, X, Y, **SHORT)


def test_train_model_moving_the_weights_afterwards_is_caught():
    def nudged(model, X, y, lr=0.01, epochs=500):
        losses = ref.train_model(model, X, y, lr, epochs)
        with torch.no_grad():
            model[0].bias += 0.01
        return losses

    fails_with("wrong_final_weights", check.train_model, nudged, X, Y, **SHORT)
    for nudge in (lambda bias: bias.add_(0.5), lambda bias: bias.mul_(3.0)):  # off by an amount, off by a factor
        def moved(model, X, y, lr=0.01, epochs=500, nudge=nudge):
            losses = ref.train_model(model, X, y, lr, epochs)
            with torch.no_grad():
                nudge(model[0].bias)
            return losses

        fails_with("wrong_final_weights", check.train_model, moved, X, Y, **SHORT)

    def replaced(model, X, y, lr=0.01, epochs=500):
        losses = ref.train_model(model, X, y, lr, epochs)
        del model[0]
        return losses

    fails_with("model_replaced", check.train_model, replaced, X, Y, **SHORT)


def test_train_model_with_another_loss_is_a_wrong_trajectory():
    fails_with("wrong_trajectory", check.train_model,
               _loop(record=None, optimizer_of=lambda p, lr: BoundSGD(p, lr=lr / 2)), X, Y, **SHORT)


def test_train_model_reseeding_is_caught():
    def reseeds(model, X, y, lr=0.01, epochs=500):
        torch.manual_seed(0)
        return ref.train_model(model, X, y, lr, epochs)

    fails_with("global_state_changed", check.train_model, reseeds, X, Y, **SHORT)


def test_train_model_trajectory_diagnoses_use_the_judges_mistake_runs():
    """Where no probe sees the mistake, the losses alone name it (from the judge's runs of it)."""
    case = {"X": X, "y": Y, "lr": 0.005, "epochs": 30, "start": cases.neuron_start(1)}
    expected = judge.train_model(case)
    base = {"optimizers": [], "backward_passes": 30, "piled_up": 0, "shape_warning": False,
            "end": {"0.weight": torch.tensor([[9.0]]), "0.bias": torch.tensor([9.0])}}
    for key, code in (("no_zero_grad", "zero_grad_missing"), ("adam", "adam_steps"), ("lr_default", "lr_ignored")):
        seen = {**base, "returned": list(expected["mistakes"][key])}
        fails_with(code, diagnose_training.train_model, case, seen, expected, "train_model")
    seen = {**base, "returned": [expected["broadcast_first_loss"]] + list(expected["losses"][1:])}
    fails_with("flat_target_broadcast", diagnose_training.train_model, case, seen, expected, "train_model")
    right = {**base, "returned": list(expected["losses"]),
             "end": {"0.weight": torch.tensor([[expected["weight"]]]), "0.bias": torch.tensor([expected["bias"]])}}
    diagnose_training.train_model(case, right, expected, "train_model")
    off = [v * (1 + 3 * diagnose_training.RTOL) for v in expected["losses"]]
    fails_with("wrong_trajectory", diagnose_training.train_model, case, {**right, "returned": off}, expected,
               "train_model")
    late = list(expected["losses"][:5]) + off[5:]
    assert "loss of epoch 5" in fails_with("wrong_trajectory", diagnose_training.train_model, case,
                                           {**right, "returned": late}, expected, "train_model")
    shifted = [v + 0.05 for v in expected["losses"]]  # small losses: the absolute tolerance decides
    fails_with("wrong_trajectory", diagnose_training.train_model, case, {**right, "returned": shifted}, expected,
               "train_model")
    close = [v * (1 + 0.2 * diagnose_training.RTOL) for v in expected["losses"]]
    diagnose_training.train_model(case, {**right, "returned": close}, expected, "train_model")


def test_train_model_in_other_correct_styles_passes():
    def by_hand(model, X, y, lr=0.01, epochs=500):
        optimizer = BoundSGD(model.parameters(), lr=lr)
        out = []
        for _ in range(epochs):
            loss = ((model(X) - y) ** 2).mean()
            for p in model.parameters():
                p.grad = None
            loss.backward()
            optimizer.step()
            out.append(loss.item())
        return out

    check.train_model(by_hand, X, Y, **SHORT)
    check.train_model(by_hand, X, Y)

    def shuffles(model, X, y, lr=0.01, epochs=500):  # draws random numbers: allowed (only reseeding is not)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        losses = []
        for _ in range(epochs):
            order = torch.randperm(len(X))
            optimizer.zero_grad()
            loss = nn.MSELoss()(model(X[order]), y[order])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    check.train_model(shuffles, X, Y, **SHORT)
    check.train_model_hidden(shuffles, seeds=[21])


def test_train_model_defaults_are_read_from_the_signature_or_run():
    calls = []

    def declared(model, X, y, lr=0.01, epochs=500):
        calls.append((lr, epochs))
        return ref.train_model(model, X, y, lr, epochs)

    check.train_model_defaults(declared, X, Y)
    assert calls == []  # lr=0.01, epochs=500 declared: the call without them is the same call

    def resolved_later(model, X, y, lr=None, epochs=None):
        return ref.train_model(model, X, y, lr or 0.01, epochs or 500)

    check.train_model_defaults(resolved_later, X, Y)  # judged by running it: passes

    def short_default(model, X, y, lr=0.01, epochs=100):
        return ref.train_model(model, X, y, lr, epochs)

    assert "500" in fails_with("wrong_loss_count", check.train_model_defaults, short_default, X, Y)

    def fast_default(model, X, y, lr=0.1, epochs=500):
        return ref.train_model(model, X, y, lr, epochs)

    assert "lr=0.01" in fails_with("lr_ignored", check.train_model_defaults, fast_default, X, Y)


def test_train_model_hidden_messages_show_no_hidden_input():
    case = cases.train_model(21)[1]
    message = fails_with("lr_ignored", check.train_model_hidden, _loop(fixed_lr=0.01), seeds=[21])
    assert "hidden test case" in message and str(case["lr"]) not in message and "found:    lr=0.01" in message
    message = fails_with("lr_ignored", check.train_model_hidden, _loop(fixed_lr=0.0123), seeds=[21])
    assert "0.0123" not in message and "another learning rate" in message
    message = fails_with("wrong_loss_count", check.train_model_hidden, _loop(fixed_epochs=10), seeds=[21])
    assert "epochs=30" not in message and "30 (one per epoch)" not in message


def test_exact_reference_run_follows_the_pytorch_reference():
    runs = [(bike_a(), 0.01, 500), (bike_a(), 0.04, 300)]
    for seed in range(5):
        rng = random.Random(seed)
        runs.append((fresh_bike_data(seed, n=rng.randint(5, 15)), rng.choice([0.002, 0.012]), 200))
    for (miles, minutes), lr, epochs in runs:
        start = cases.neuron_start(epochs + int(lr * 1000))
        losses, w, b = judge.exact_run(start, miles, minutes, lr, epochs)
        model = cases.line(*start)
        found = ref.train_model(model, miles, minutes, lr=lr, epochs=epochs)
        assert torch.allclose(torch.tensor(found, dtype=torch.float64), torch.tensor(losses, dtype=torch.float64),
                              rtol=1e-4, atol=1e-5)
        assert abs(model[0].weight.item() - w) < 1e-4 * abs(w) and abs(model[0].bias.item() - b) < 1e-4 * abs(b)


# ---------------------------------------------------------------- predict_minutes


def _predictor(batch=lambda m: torch.tensor([[float(m)]]), eval_mode=True, no_grad=True, finish=lambda t: t.item()):
    def predict_minutes(model, miles):
        if eval_mode:
            model.eval()
        with torch.no_grad() if no_grad else torch.enable_grad():
            return finish(model(batch(miles)))

    return predict_minutes


@pytest.mark.parametrize(("wrong", "code"), [
    (_predictor(batch=lambda m: torch.tensor([[m]])), "int64_input"),
    (_predictor(batch=lambda m: torch.tensor([[m]], dtype=torch.float64)), "float64_input"),
    (_predictor(batch=lambda m: torch.tensor(m)), "raised"),
    (lambda model, miles: 46.8, "model_not_called"),
    (_predictor(batch=lambda m: torch.tensor([float(m)])), "batch_shape"),
    (_predictor(eval_mode=False), "train_mode"),
    (_predictor(no_grad=False), "no_grad_missing"),
    (_predictor(finish=lambda t: t), "returned_tensor"),
    (_predictor(finish=lambda t: str(t.item())), "not_a_float"),
    (_predictor(finish=lambda t: float(round(t.item()))), "wrong_prediction"),
    (_predictor(finish=lambda t: t.item() + 0.01), "wrong_prediction"),
])
def test_predict_minutes_mistakes_are_named(wrong, code):
    fails_with(code, check.predict_minutes, wrong, BEST, 7)


def test_predict_minutes_in_training_mode_is_caught_on_the_dropout_model():
    fails_with("train_mode", check.predict_minutes_hidden, _predictor(eval_mode=False), seeds=[8])


def test_predict_minutes_other_styles_pass():
    def other(model, miles):
        model.train(False)
        with torch.inference_mode():
            out = model(torch.as_tensor(miles, dtype=torch.float32).reshape(1, 1))
        model.train()
        return float(out[0, 0])

    check.predict_minutes(other, BEST, 7)
    check.predict_minutes_hidden(other, seeds=[8, 808])


# ---------------------------------------------------------------- take_order


def _deciding(source: str, predict=None):
    namespace = {"torch": torch, "predict_minutes": predict or ref.predict_minutes}
    exec(source, namespace)
    return namespace["take_order"]


def test_take_order_mistakes_are_named():
    strict = _deciding("def take_order(model, miles, promise=30.0):\n"
                       "    return predict_minutes(model, miles) < promise")
    fails_with("strict_comparison", check.take_order_hidden, strict, seeds=[5])
    fixed = _deciding("def take_order(model, miles, promise=30.0):\n    return predict_minutes(model, miles) <= 30")
    assert "promise=50.0" in fails_with("promise_ignored", check.take_order, fixed, BEST, 7, promise=50.0)
    seven = _deciding("def take_order(model, miles, promise=30.0):\n    return predict_minutes(model, 7) <= promise")
    fails_with("wrong_question", check.take_order, seven, BEST, 3)
    backwards = _deciding("def take_order(model, miles, promise=30.0):\n"
                          "    return predict_minutes(model, miles) >= promise")
    fails_with("wrong_decision", check.take_order, backwards, BEST, 7)
    fails_with("wrong_decision", check.take_order, backwards, BEST, 7, promise=40.0)  # not the fixed-30 mistake
    other = _deciding("def take_order(model, miles, promise=30.0):\n"
                      "    return predict_minutes(copy.deepcopy(model), miles) <= promise")
    other.__globals__["copy"] = copy
    assert "another model" in fails_with("wrong_question", check.take_order, other, BEST, 7)
    assert "another distance" in fails_with("wrong_question", check.take_order, seven, BEST, 3)
    tensor = _deciding("def take_order(model, miles, promise=30.0):\n"
                       "    with torch.no_grad():\n"
                       "        return model(torch.tensor([[float(miles)]])) <= promise")
    fails_with("not_a_bool", check.take_order, tensor, BEST, 7)


def test_take_order_may_pass_the_distance_as_a_number_or_a_one_number_tensor():
    as_tensor = _deciding("def take_order(model, miles, promise=30.0):\n"
                          "    return predict_minutes(model, torch.tensor(float(miles))) <= promise")
    check.take_order(as_tensor, BEST, 7, promise=50.0)
    two = _deciding("def take_order(model, miles, promise=30.0):\n"
                    "    return predict_minutes(model, torch.tensor([float(miles)] * 2)) <= promise")
    fails_with("wrong_question", check.take_order, two, BEST, 7, promise=50.0)


def test_take_order_hidden_message_shows_no_expected_value():
    strict = _deciding("def take_order(model, miles, promise=30.0):\n"
                       "    return predict_minutes(model, miles) < promise")
    message = fails_with("strict_comparison", check.take_order_hidden, strict, seeds=[5])
    assert "predicted" not in message and "hidden test case" in message


def test_take_order_runs_with_a_stand_in_for_predict_minutes_and_restores_it():
    def broken_predict(model, miles):
        raise RuntimeError("the student's predict_minutes is broken")

    take_order = _deciding("def take_order(model, miles, promise=30.0):\n"
                           "    return predict_minutes(model, miles) <= promise", broken_predict)
    check.take_order(take_order, BEST, 7)
    check.take_order_hidden(take_order, seeds=[1, 2, 5])
    assert take_order.__globals__["predict_minutes"] is broken_predict


def test_take_order_computing_the_prediction_itself_passes():
    own = _deciding("def take_order(model, miles, promise=30.0):\n"
                    "    model.eval()\n"
                    "    with torch.no_grad():\n"
                    "        minutes = model(torch.full((1, 1), float(miles)))\n"
                    "    return not minutes.item() > promise")
    check.take_order(own, BEST, 3)
    check.take_order_hidden(own, seeds=[5, 55, 555, 5555])


# ---------------------------------------------------------------- build_nonlinear_model


class _OutputFirst(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.out = nn.Linear(hidden, 1)
        self.hidden = nn.Linear(1, hidden)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def test_nonlinear_class_making_the_output_layer_first_passes():
    miles, minutes = mixed.course_mixed()
    check.build_nonlinear_model(lambda hidden=16: _OutputFirst(hidden), miles, minutes)
    check.build_nonlinear_model_hidden(lambda hidden=16: _OutputFirst(hidden), seeds=[31])


def test_nonlinear_with_dropout_or_functional_relu_passes():
    def with_dropout(hidden=16):
        return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, 1))

    check.build_nonlinear_model(with_dropout, *mixed.course_mixed())


def _sequential(*layers):
    return lambda hidden=16: nn.Sequential(*[layer(hidden) for layer in layers])


_IN, _OUT, _RELU = (lambda h: nn.Linear(1, h)), (lambda h: nn.Linear(h, 1)), (lambda h: nn.ReLU())


class _Extra(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.net(x) * self.scale


_SHARED = nn.Sequential(nn.Linear(1, 6), nn.ReLU(), nn.Linear(6, 1))


@pytest.mark.parametrize(("wrong", "code"), [
    (lambda hidden=16: None, "not_a_module"),
    (_sequential(_IN, _RELU, lambda h: nn.Linear(h, h), _RELU, _OUT), "wrong_layers"),
    (lambda hidden=16: nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1)), "hidden_ignored"),
    (lambda hidden=16: nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 2)), "wrong_layer_sizes"),
    (lambda hidden=16: nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1, bias=False)),
     "bias_missing"),
    (lambda hidden=16: _Extra(hidden), "extra_parameters"),
    (lambda hidden=16: nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1)).double(), "wrong_dtype"),
    (lambda hidden=16: _SHARED, "same_model_returned"),
    (lambda hidden=16: nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Flatten(0)),
     "wrong_output_shape"),
    (_sequential(_IN, _OUT), "relu_missing"),
    (_sequential(_IN, lambda h: nn.Sigmoid(), _OUT), "wrong_function"),
    (_sequential(_IN, _RELU, _OUT, _RELU), "wrong_function"),
])
def test_nonlinear_structure_mistakes_are_named(wrong, code):
    hidden = 6
    fails_with(code, check.nonlinear_structure, wrong, hidden)


def test_nonlinear_ignoring_hidden_is_caught_by_the_hidden_tests():
    message = fails_with("hidden_ignored", check.build_nonlinear_model_hidden,
                         lambda hidden=16: nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1)), seeds=[31])
    assert "hidden test case (a narrow network)" in message and "3" not in message.replace("(1, 16)", "")
    trained = cases.build_nonlinear_model(31)[2]

    def sixteen_when_wide(hidden=16):  # right for the default and the narrow case, not for the trained one
        width = 16 if hidden == trained["hidden"] else hidden
        return nn.Sequential(nn.Linear(1, width), nn.ReLU(), nn.Linear(width, 1))

    message = fails_with("hidden_ignored", check.build_nonlinear_model_hidden, sixteen_when_wide, seeds=[31])
    assert "trained on fresh mixed" in message and str(trained["hidden"]) not in message


def test_a_network_whose_relus_never_open_is_named():
    def dead(hidden=16):  # the right function, but every hidden unit starts switched off
        model = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        with torch.no_grad():
            model[0].bias.fill_(-100.0)
        return model

    fails_with("units_switched_off", check.build_nonlinear_model, dead, *mixed.course_mixed())


def test_a_start_set_another_way_is_named():
    def xavier(hidden=16):
        model = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        nn.init.xavier_uniform_(model[0].weight)
        return model

    fails_with("start_not_default", check.build_nonlinear_model, xavier, *mixed.course_mixed())


def test_nonlinear_training_verdict_follows_the_judges_runs():
    """Pass when one of the student's starts trained well; no_bend_learned when every start stayed a line."""
    miles, minutes = mixed.course_mixed()
    case = {"hidden": 8, "seeds": [100, 101], "probe": cases.network_probe(8, 1), "X": miles, "y": minutes}
    expected = judge.build_nonlinear_model(case)
    starts = [[known[0][k] for k in ("w1", "b1", "w2", "b2")] for known in expected["starts"]]
    seen = {"network": {"is_module": True, "linears": [{"in": 1, "out": 8, "bias": True},
                                                       {"in": 8, "out": 1, "bias": True}],
                        "param_count": 25, "dtypes": ["float32"]},
            "starts": starts, "fresh": True, "out": expected["out"].clone()}
    diagnose.build_nonlinear_model(case, seen, expected, "build_nonlinear_model(8)")
    limit = diagnose.NONLINEAR_SHARE * expected["line_error"]
    stuck = copy.deepcopy(expected)
    for known in stuck["starts"]:
        for start in known:
            start["trained"] = limit * 1.01
    fails_with("no_bend_learned", diagnose.build_nonlinear_model, case, seen, stuck, "build_nonlinear_model(8)")
    stuck["starts"][1][0]["trained"] = limit * 0.99
    diagnose.build_nonlinear_model(case, seen, stuck, "build_nonlinear_model(8)")
    fails_with("malformed", diagnose.build_nonlinear_model, case, {**seen, "starts": starts[:1]}, expected, "x")
    nudged = {**seen, "starts": [[t + 1e-4 for t in start] for start in starts]}
    fails_with("start_not_default", diagnose.build_nonlinear_model, case, nudged, expected, "x")


def test_nonlinear_output_is_compared_closely():
    case = {"hidden": 5, "seeds": [0], "probe": cases.network_probe(5, 2)}
    expected = judge.build_nonlinear_model(case)
    seen = {"network": {"is_module": True, "linears": [{"in": 1, "out": 5, "bias": True},
                                                       {"in": 5, "out": 1, "bias": True}],
                        "param_count": 16, "dtypes": ["float32"]}, "starts": [None], "fresh": True}
    diagnose.build_nonlinear_model(case, {**seen, "out": expected["out"] + 5e-5}, expected, "x")
    for off in (expected["out"] + 0.01, expected["out"] * 1.001, expected["without_relu"] + 0.01,
                expected["without_relu"] * 1.05):
        fails_with("wrong_function", diagnose.build_nonlinear_model, case, {**seen, "out": off}, expected, "x")
    fails_with("relu_missing", diagnose.build_nonlinear_model, case, {**seen, "out": expected["without_relu"]},
               expected, "x")


def test_a_network_that_cannot_take_a_batch_is_named():
    class Flat(nn.Module):
        def __init__(self, hidden):
            super().__init__()
            self.hidden, self.out = nn.Linear(1, hidden), nn.Linear(hidden, 1)

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x.flatten())))

    message = fails_with("raised", check.nonlinear_structure, Flat, 4)
    assert "run on a batch of distances" in message
