"""The checks and data of 03_single_neuron, run directly (no nbgrader): fast."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import SGD as BoundSGD  # bound at import: the optimizer spy cannot see these
from torch.optim import Adam as BoundAdam

from autograder.checks import single_neuron as check
from autograder.reference import single_neuron as ref
from coursekit.checks.expect import CheckFailed
from coursekit.data import mixed
from coursekit.data.delivery import bike_a, least_squares_line

X, Y = bike_a()


def _fails(match: str, call, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed, match=match) as info:
        call(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------- data


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


def test_reference_network_beats_the_line_on_the_course_data():
    miles, minutes = mixed.course_mixed()
    torch.manual_seed(0)
    net = ref.build_nonlinear_model()
    ref.train_nonlinear(net, miles, minutes)
    w, b = least_squares_line(miles, minutes)
    line_error = float(((w * miles + b - minutes) ** 2).mean())
    assert ref.mse_of(net, miles, minutes) < 0.25 * line_error


# ---------------------------------------------------------------- the reference passes


def test_reference_passes_every_check():
    check.build_model_hidden(ref.build_model, seeds=[1, 2])
    check.train_model(ref.train_model, X, Y, lr=0.005, epochs=30)
    check.predict_minutes_hidden(ref.predict_minutes, seeds=[1, 2])
    check.take_order_hidden(ref.take_order, seeds=[1, 2, 3])
    check.nonlinear_structure(ref.build_nonlinear_model, 5)


# ---------------------------------------------------------------- build_model


def test_build_model_returning_one_shared_model_fails():
    shared = nn.Sequential(nn.Linear(1, 1))
    torch.manual_seed(0)
    shared[0].reset_parameters()
    _fails("called twice", check.build_model, lambda: shared, 0)


def test_build_model_without_bias_fails():
    _fails("bias", check.build_model, lambda: nn.Sequential(nn.Linear(1, 1, bias=False)))


# ---------------------------------------------------------------- train_model (trajectory evidence)


def _loop(optimizer_of, *, zero=True, after_step=False, fixed_lr=None):
    def train_model(model, X, y, lr=0.01, epochs=500):
        optimizer = optimizer_of(model.parameters(), lr=fixed_lr or lr)
        losses = []
        for _ in range(epochs):
            if zero:
                optimizer.zero_grad()
            loss = F.mse_loss(model(X), y)
            loss.backward()
            optimizer.step()
            if after_step:
                with torch.no_grad():
                    loss = F.mse_loss(model(X), y)
            losses.append(loss.item())
        return losses

    return train_model


def test_train_model_with_a_hidden_adam_is_named_by_its_trajectory():
    _fails("Adam's steps", check.train_model, _loop(BoundAdam), X, Y, lr=0.005, epochs=30)


def test_train_model_with_a_hidden_fixed_lr_is_named_by_its_trajectory():
    _fails("lr=0.01", check.train_model, _loop(BoundSGD, fixed_lr=0.01), X, Y, lr=0.005, epochs=30)


def test_train_model_without_zero_grad_is_caught_by_the_gradient_watch():
    _fails(r"zero_grad\(\)\?", check.train_model, _loop(BoundSGD, zero=False), X, Y, lr=0.005, epochs=30)


def test_train_model_recording_the_loss_after_the_step_fails():
    _fails("before that epoch's step", check.train_model, _loop(BoundSGD, after_step=True), X, Y,
           lr=0.005, epochs=30)


def test_train_model_returning_a_tensor_fails():
    def stacked(model, X, y, lr=0.01, epochs=500):
        return torch.tensor(ref.train_model(model, X, y, lr, epochs))

    _fails("list", check.train_model, stacked, X, Y, lr=0.005, epochs=10)


def test_train_model_training_a_new_model_fails():
    def new_model(model, X, y, lr=0.01, epochs=500):
        return ref.train_model(ref.build_model(), X, y, lr, epochs)

    _fails("model you were given", check.train_model, new_model, X, Y, lr=0.005, epochs=10)


def test_train_model_in_another_correct_style_passes():
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

    check.train_model(by_hand, X, Y, lr=0.005, epochs=60)
    check.train_model(by_hand, X, Y)


# ---------------------------------------------------------------- predict_minutes and take_order


def test_predict_minutes_returning_a_tensor_fails():
    def as_tensor(model, miles):
        model.eval()
        with torch.no_grad():
            return model(torch.tensor([[float(miles)]]))

    _fails(r"\.item\(\)", check.predict_minutes, as_tensor, ref.line_model(5.1, 11.1), 7)


def test_predict_minutes_without_batch_dimension_fails():
    def flat(model, miles):
        model.eval()
        with torch.no_grad():
            return model(torch.tensor([float(miles)])).item()

    _fails(r"\[1, 1\]", check.predict_minutes, flat, ref.line_model(5.1, 11.1), 7)


def test_take_order_returning_a_tensor_fails():
    def tensor_answer(model, miles, promise=30.0):
        with torch.no_grad():
            return model(torch.tensor([[float(miles)]])) <= promise

    _fails("bool", check.take_order, tensor_answer, ref.line_model(5.1, 11.1), 7)


def test_take_order_uses_the_reference_predict_minutes_and_restores_it():
    def broken_predict(model, miles):
        raise RuntimeError("the student's predict_minutes is broken")

    namespace = {"predict_minutes": broken_predict}
    exec("def take_order(model, miles, promise=30.0):\n"
         "    return predict_minutes(model, miles) <= promise", namespace)
    check.take_order_hidden(namespace["take_order"], seeds=[1, 2])
    assert namespace["predict_minutes"] is broken_predict


# ---------------------------------------------------------------- build_nonlinear_model


def test_nonlinear_with_another_activation_fails():
    _fails("ReLU", check.nonlinear_structure,
           lambda hidden=16: nn.Sequential(nn.Linear(1, hidden), nn.Sigmoid(), nn.Linear(hidden, 1)), 6)


def test_nonlinear_with_an_extra_layer_fails():
    def deeper(hidden=16):
        return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                             nn.Linear(hidden, 1))

    _fails("two nn.Linear", check.nonlinear_structure, deeper, 6)


def test_a_network_whose_relus_never_open_cannot_beat_the_line():
    miles, minutes = mixed.course_mixed()

    def dead(hidden=16):  # the right function, but every hidden unit starts switched off
        model = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        with torch.no_grad():
            model[0].bias.fill_(-100.0)
        return model

    _fails("cannot bend", check.build_nonlinear_model, dead, miles, minutes, hidden=16)


def test_exact_reference_run_follows_the_pytorch_reference():
    import copy
    import random

    from coursekit.data.delivery import fresh_bike_data

    cases = [(bike_a(), 0.01, 500), (bike_a(), 0.04, 300)]
    for seed in range(5):
        rng = random.Random(seed)
        cases.append((fresh_bike_data(seed, n=rng.randint(5, 15)), rng.choice([0.002, 0.012]), 200))
    for (miles, minutes), lr, epochs in cases:
        torch.manual_seed(0)
        model = ref.build_model()
        losses, w, b = check._reference_run(copy.deepcopy(model), miles, minutes, lr, epochs)
        found = ref.train_model(model, miles, minutes, lr=lr, epochs=epochs)
        assert torch.allclose(torch.tensor(found, dtype=torch.float64), torch.tensor(losses, dtype=torch.float64),
                              rtol=1e-4, atol=1e-5)
        assert abs(model[0].weight.item() - w) < 1e-4 * abs(w) and abs(model[0].bias.item() - b) < 1e-4 * abs(b)


def test_nonlinear_class_making_the_output_layer_first_passes():
    class OutputFirst(nn.Module):
        def __init__(self, hidden):
            super().__init__()
            self.out = nn.Linear(hidden, 1)
            self.hidden = nn.Linear(1, hidden)

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x)))

    miles, minutes = mixed.course_mixed()
    check.build_nonlinear_model(lambda hidden=16: OutputFirst(hidden), miles, minutes)
    check.build_nonlinear_model_hidden(lambda hidden=16: OutputFirst(hidden), seeds=[31])


def test_nonlinear_without_relu_or_with_a_fixed_width_fails():
    miles, minutes = mixed.course_mixed()
    _fails("ReLU is missing", check.build_nonlinear_model,
           lambda hidden=16: nn.Sequential(nn.Linear(1, hidden), nn.Linear(hidden, 1)), miles, minutes)
    _fails("hidden argument", check.build_nonlinear_model_hidden,
           lambda hidden=16: nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1)), seeds=[31])


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

    _fails("500", check.train_model_defaults, short_default, X, Y)

    def fast_default(model, X, y, lr=0.1, epochs=500):
        return ref.train_model(model, X, y, lr, epochs)

    _fails("lr=0.01", check.train_model_defaults, fast_default, X, Y)
