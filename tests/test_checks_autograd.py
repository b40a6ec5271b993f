"""The checks of 02_autograd, without nbgrader: fresh functions, reference, and why each mistake fails."""

from __future__ import annotations

import pytest
import torch

from autograder.checks import autograd as check
from autograder.reference import autograd as ref
from coursekit.checks.expect import CheckFailed
from coursekit.data.delivery import fresh_feature_data
from tests.corpus.autograd import SUBMISSIONS

HIDDEN = {
    "derivative": (check.derivative_hidden, [11, 2024, 777]),
    "partials": (check.partials_hidden, [5, 909, 31337]),
    "gradient_step": (check.gradient_step_hidden, [3, 141, 5926]),
    "train_manual": (check.train_manual_hidden, [8, 1729, 4096]),
}

#: (student, cell) -> words the failure message must hold: the check fails for the intended reason.
REASONS = {
    ("hardcoded", "derivative"): "f was never called",
    ("hardcoded", "partials"): "however many",
    ("hardcoded", "train_manual"): "manual_seed(seed)",
    ("tensors_not_floats", "derivative"): "x.grad.item()",
    ("tensors_not_floats", "partials"): "x.grad.item()",
    ("tensors_not_floats", "gradient_step"): "loss.item()",
    ("tensors_not_floats", "train_manual"): "loss.item()",
    ("never_zeroed", "partials"): "piled up",
    ("never_zeroed", "gradient_step"): "pile up",
    ("never_zeroed", "train_manual"): "pile up",
    ("rebound", "gradient_step"): "W was rebound",
    ("rebound", "train_manual"): "a .grad is None",
    ("recording_update", "gradient_step"): "recorded by autograd",
    ("recording_update", "train_manual"): "recorded by autograd",
    ("flat_predictions", "gradient_step"): "[N, N]",
    ("flat_predictions", "train_manual"): "[N, N]",
    ("ignores_arguments", "gradient_step"): "use the lr you are given",
    ("ignores_arguments", "train_manual"): "the number you were given",
    ("train_manual_unseeded", "train_manual"): "manual_seed(seed)",
    ("train_manual_seed_42", "train_manual"): "manual_seed(seed)",
    ("finite_differences", "derivative"): "finite difference",
    ("finite_differences", "partials"): "finite difference",
    ("wrong_quantity", "derivative"): "not the value of f",
    ("wrong_quantity", "partials"): "reverse order",
    ("wrong_quantity", "gradient_step"): "loss after the update",
    ("wrong_quantity", "train_manual"): "after its update",
    ("not_general", "derivative"): "0-dim",
    ("not_general", "partials"): "any number of values",
}


def _functions(submission) -> dict:
    """The submission's functions: the reference's, with its edited cells run over them in notebook order."""
    namespace = {"torch": torch, **{name: getattr(ref, name) for name in HIDDEN}}
    for cell in HIDDEN:
        if cell in submission.edits:
            exec(submission.edits[cell], namespace)  # noqa: S102 - corpus code, written here
    return namespace


@pytest.mark.parametrize("cell", list(HIDDEN))
def test_reference_passes_hidden_checks(cell):
    run, seeds = HIDDEN[cell]
    run(getattr(ref, cell), seeds)


@pytest.mark.parametrize("seed", range(40))
def test_analytic_derivatives_agree_with_float64_autograd(seed):
    for family in range(7):
        fn = check.fresh_function(seed, family)
        x = torch.tensor(0.37 * (seed % 7) - 1.1, dtype=torch.float64, requires_grad=True)
        fn.f(x).backward()
        assert fn.partials(x.item())[0] == pytest.approx(x.grad.item(), rel=1e-9, abs=1e-9), fn.text
    for arity in (1, 2, 3, 4):
        for family in range(3):
            fn = check.fresh_multi_function(seed, arity, family)
            xs = [torch.tensor(0.3 * i - 0.8 + 0.01 * seed, dtype=torch.float64, requires_grad=True)
                  for i in range(arity)]
            fn.f(*xs).backward()
            assert fn.partials(*[x.item() for x in xs]) == pytest.approx([x.grad.item() for x in xs],
                                                                         rel=1e-9, abs=1e-9), fn.text


@pytest.mark.parametrize("submission", SUBMISSIONS, ids=[s.student for s in SUBMISSIONS])
def test_corpus_fails_for_the_intended_reason(submission):
    functions = _functions(submission)
    for cell in submission.edits:
        run, seeds = HIDDEN[cell]
        if f"test_{cell}" not in submission.loses:
            run(functions[cell], seeds)
            continue
        with pytest.raises(CheckFailed) as failure:
            run(functions[cell], seeds)
        assert REASONS[(submission.student, cell)] in str(failure.value), str(failure.value)


def test_every_corpus_mistake_has_a_reason():
    wanted = {(s.student, c) for s in SUBMISSIONS for c in s.edits if f"test_{c}" in s.loses}
    assert wanted == set(REASONS)


def test_a_finite_difference_accurate_to_1e_9_still_fails():
    def central(f, x, h=1e-7):
        up, down = f(torch.tensor(x + h, dtype=torch.float64)), f(torch.tensor(x - h, dtype=torch.float64))
        return ((up - down) / (2 * h)).item()

    with pytest.raises(CheckFailed, match="finite difference"):
        check.derivative_hidden(central, seeds=[1])


def test_gradients_left_from_a_previous_call_are_noticed():
    kept = torch.tensor(0.0, requires_grad=True)

    def shared_leaf(f, x):
        with torch.no_grad():
            kept.fill_(x)
        f(kept).backward()
        return kept.grad.item()

    with pytest.raises(CheckFailed, match="same call twice"):
        check.derivative(shared_leaf, lambda t: t**2, 1.5, expected=3.0)


def test_zeroing_before_the_step_only_leaves_gradients_behind():
    def zero_first(W, b, X, y, lr):
        W.grad = None
        b.grad = None
        loss = ((X @ W + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
        return loss.item()

    with pytest.raises(CheckFailed, match="grad after the step"):
        check.gradient_step_hidden(zero_first, seeds=[3])


def test_a_piled_up_second_step_is_named():
    cause = check._update_cause("W", torch.tensor([1.0]), torch.tensor([0.8]), torch.tensor([0.9]),
                                torch.tensor([5.0]), step=2)
    assert "pile up" in cause


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_hidden_learning_rates_converge(seed):
    X, y = fresh_feature_data(seed, 10, 1 + seed % 3)
    _, _, losses = ref.train_manual(X, y, check.stable_lr(X, 0.8), 200, seed)
    assert losses[-1] < losses[0] / 10


def test_fresh_feature_data_is_seeded():
    X, y = fresh_feature_data(5, 7, 3)
    assert X.shape == (7, 3) and y.shape == (7, 1) and X.dtype == torch.float32
    assert torch.equal(X, fresh_feature_data(5, 7, 3)[0])
    assert not torch.equal(X, fresh_feature_data(6, 7, 3)[0])


def test_train_manual_fits_bike_data_a():
    from coursekit.data.delivery import bike_a

    W, b, _ = ref.train_manual(*bike_a(), lr=0.04, epochs=500, seed=0)
    assert W.item() == pytest.approx(5.1, abs=1e-2) and b.item() == pytest.approx(11.1, abs=1e-2)


def test_parameters_that_stop_requiring_grad_fail():
    def switched_off(W, b, X, y, lr):
        loss = ((X @ W + b - y) ** 2).mean()
        loss.backward()
        for p in (W, b):
            p.requires_grad_(False)
            p -= lr * p.grad
            p.grad = None
        return loss.item()

    with pytest.raises(CheckFailed, match="requires_grad=False"):
        check.gradient_step_hidden(switched_off, seeds=[3])
