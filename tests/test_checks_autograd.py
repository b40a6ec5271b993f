"""The checks of 02_autograd, without nbgrader: the reference passes, and each mistake fails with its code.

The kit's checks are called in-process (the judge, ``autograder.judges.autograd``, is importable
here), on the reference and on wrong functions. Each diagnosed mistake is shown by its code;
tests named ``..._weakened`` are the ones that fail when a check is made more lenient (a
tolerance dropped, a condition inverted).
"""

from __future__ import annotations

import math

import pytest
import torch

from autograder.judges import autograd as judge
from autograder.reference import autograd as ref
from coursekit.checks import autograd as check
from coursekit.checks import engine, wire
from coursekit.checks.autograd import cases, diagnose_descent, functions
from coursekit.checks.expect import CheckFailed
from coursekit.data.delivery import bike_a, fresh_feature_data
from tests.corpus.autograd import SUBMISSIONS

MILES, MINUTES = bike_a()

#: The seeds of the notebook's hidden tests.
HIDDEN = {
    "derivative": (check.derivative_hidden, [11, 2024, 777, 40961]),
    "partials": (check.partials_hidden, [5, 909, 31337]),
    "gradient_step": (check.gradient_step_hidden, [3, 141, 5926]),
    "train_manual": (check.train_manual_hidden, [8, 1729, 4096, 65537]),
}

#: The notebook's visible tests, as functions of the student's function.
VISIBLE = {
    "derivative": lambda fn: (check.derivative(fn, "3x² - 4x", x=2.0), check.derivative(fn, "sin(x²)", x=1.5)),
    "partials": lambda fn: (check.partials(fn, "a·b + a", (2.0, 3.0)),
                            check.partials(fn, "the courier's MSE", (5.1, 11.1))),
    "gradient_step": lambda fn: check.gradient_step(fn, torch.tensor([[1.0]]), torch.tensor([0.0]), MILES, MINUTES,
                                                    lr=0.01, steps=2),
    "train_manual": lambda fn: check.train_manual(fn, MILES, MINUTES, lr=0.04, epochs=500, seed=0),
}


def _code(run, *args) -> str:
    """The mistake code of the failure ``run(*args)`` raises (it must raise)."""
    with pytest.raises(CheckFailed) as failure:
        run(*args)
    return failure.value.code


def _run(cell: str, fn) -> None:
    """The cell's visible tests, then its hidden tests, as the grade cell runs them."""
    VISIBLE[cell](fn)
    run, seeds = HIDDEN[cell]
    run(fn, seeds)


# --- the reference, and the data the checks are built on -----------------------------------------


@pytest.mark.parametrize("cell", list(HIDDEN))
def test_reference_passes_visible_and_hidden_checks(cell):
    _run(cell, getattr(ref, cell))


@pytest.mark.parametrize("seed", range(40))
def test_analytic_derivatives_agree_with_float64_autograd(seed):
    specs = [functions.fresh_function(seed, family) for family in range(7)]
    specs += [functions.fresh_multi_function(seed, n, family) for n in (1, 2, 3, 4) for family in range(3)]
    specs += [functions.example(name) for name in functions.EXAMPLES]
    for spec in specs:
        f = functions.build(spec)
        xs = [torch.tensor(0.3 * i - 0.8 + 0.01 * seed, dtype=torch.float64, requires_grad=True)
              for i in range(functions.arity(spec))]
        f(*xs).backward()
        assert judge.analytic_partials(spec, [x.item() for x in xs]) == pytest.approx(
            [x.grad.item() for x in xs], rel=1e-6, abs=1e-9), spec


def test_hidden_cases_are_the_same_for_the_same_seed_and_travel_as_json():
    for make in (cases.derivative, cases.partials, cases.gradient_step, cases.train_manual):
        assert wire.dumps(make(17)) == wire.dumps(make(17))
        assert wire.dumps(make(17)) != wire.dumps(make(18))
        assert wire.dumps(wire.roundtrip(make(17))) == wire.dumps(make(17))


def test_hidden_functions_cover_every_family_and_arity():
    derivative_families = {c["function"]["family"] for s in HIDDEN["derivative"][1] for c in cases.derivative(s)}
    assert len(derivative_families) >= 5
    counts = {len(c["values"]) for c in cases.partials(5)}
    assert counts == {1, 2, 3, 4}
    features = {c["X"].shape[1] for s in HIDDEN["train_manual"][1] for c in cases.train_manual(s)}
    assert features == {2, 3}  # one feature: the notebook's visible test


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_hidden_learning_rates_converge(seed):
    X, y = fresh_feature_data(seed, 10, 1 + seed % 3)
    _, _, losses = ref.train_manual(X, y, cases.stable_lr(X, 0.8), 200, seed)
    assert losses[-1] < losses[0] / 10


def test_train_manual_fits_bike_data_a():
    W, b, _ = ref.train_manual(MILES, MINUTES, lr=0.04, epochs=500, seed=0)
    assert W.item() == pytest.approx(5.1, abs=1e-2) and b.item() == pytest.approx(11.1, abs=1e-2)


def test_visible_checks_run_from_the_shipped_expectations_alone(monkeypatch):
    """In a student's kernel there is no judge: the notebook's visible tests read kit/coursekit/expected."""
    monkeypatch.setattr(engine, "_instructor_judge", lambda: None)
    for cell in VISIBLE:
        VISIBLE[cell](getattr(ref, cell))
    assert _code(check.derivative, lambda f, x: 8.0, "sin(x²)", 1.5) == "f_never_called"


def test_a_visible_case_the_kit_does_not_ship_says_so(monkeypatch):
    monkeypatch.setattr(engine, "_instructor_judge", lambda: None)
    assert _code(check.derivative, ref.derivative, "sin(x²)", 0.5) == "kit_mismatch"


# --- derivative ---------------------------------------------------------------------------------


def test_derivative_mistakes_are_named():
    def no_tensor(f, x):
        return f(x).item()

    def brackets(f, x):
        t = torch.tensor([x], requires_grad=True)
        f(t).backward()
        return t.grad.item()

    def int_tensor(f, x):
        t = torch.tensor(int(x), requires_grad=True)
        f(t).backward()
        return t.grad.item()

    def no_requires_grad(f, x):
        t = torch.tensor(x)
        f(t).backward()
        return 0.0

    def wrong_tensor_read(f, x):
        t = torch.tensor(x, requires_grad=True)
        u = t * 1.0
        f(u).backward()
        return u.grad.item()

    def looked_at_only(f, x):
        f(torch.tensor(x))
        return 8.0

    def returns_value(f, x):
        t = torch.tensor(x, requires_grad=True)
        y = f(t)
        y.backward()
        return y.item()

    def returns_none(f, x):
        t = torch.tensor(x, requires_grad=True)
        f(t).backward()

    def crashes(f, x):
        raise ValueError("not yet")

    def type_error(f, x):
        raise TypeError("an error of the student's own")

    def int_call(f, x):  # at x = 2.0 an int tensor is "at x", but autograd cannot follow it
        f(torch.tensor(int(x)))
        return 8.0

    expected = {
        no_tensor: "f_not_given_a_tensor", brackets: "not_0_dim", int_tensor: "integer_tensor",
        no_requires_grad: "no_requires_grad", wrong_tensor_read: "grad_none", looked_at_only: "no_requires_grad",
        returns_value: "value_not_slope", returns_none: "not_a_number", crashes: "raised",
        type_error: "raised",
    }
    with pytest.warns(UserWarning, match="non-leaf"):  # reading .grad of a non-leaf warns, as in a notebook
        found = {fn: _code(check.derivative, fn, "sin(x²)", 1.5) for fn in expected}
    assert found == expected
    assert _code(check.derivative, int_call, "3x² - 4x", 2.0) == "integer_tensor"
    assert "read the error" in str(pytest.raises(CheckFailed, check.derivative, crashes, "sin(x²)", 1.5).value)
    assert "float tensors only" in str(pytest.raises(CheckFailed, check.derivative, int_tensor, "sin(x²)", 1.5).value)


def test_a_slope_off_by_a_tenth_of_a_percent_fails_weakened():
    def off(f, x):
        return ref.derivative(f, x) * 1.001

    assert _code(check.derivative_hidden, off, [11]) == "wrong_derivative"


def test_a_finite_difference_accurate_to_1e_9_still_fails_weakened():
    def central(f, x, h=1e-7):
        up, down = f(torch.tensor(x + h, dtype=torch.float64)), f(torch.tensor(x - h, dtype=torch.float64))
        return ((up - down) / (2 * h)).item()

    with pytest.raises(CheckFailed) as failure:  # h = 1e-7 is "at x" to float32: caught by requires_grad
        check.derivative_hidden(central, [1])
    assert failure.value.code == "no_requires_grad" and "finite difference" in str(failure.value)
    assert _code(check.derivative_hidden, lambda f, x: central(f, x, h=1e-4), [1]) == "finite_difference"


def test_a_tensor_returned_for_the_slope_fails_weakened():
    def grad_tensor(f, x):
        t = torch.tensor(x, requires_grad=True)
        f(t).backward()
        return t.grad

    assert _code(check.derivative, grad_tensor, "3x² - 4x", 2.0) == "grad_not_float"


def test_gradients_left_from_a_previous_call_are_noticed_weakened():
    kept = torch.tensor(0.0, requires_grad=True)

    def shared_leaf(f, x):
        with torch.no_grad():
            kept.fill_(x)
        f(kept).backward()
        return kept.grad.item()

    assert _code(check.derivative, shared_leaf, "sin(x²)", 1.5) == "gradient_kept_between_calls"


def test_answers_that_drift_from_call_to_call_fail_weakened():
    calls = []

    def drifting(f, x):
        calls.append(x)
        return ref.derivative(f, x) + 1e-5 * (len(calls) % 2 == 0)

    assert _code(check.derivative, drifting, "sin(x²)", 1.5) == "gradient_kept_between_calls"

    def drifting_at_a_flat_point(f, x):
        calls.append(x)
        return ref.derivative(f, x) + 1e-7 * (len(calls) % 2 == 0)

    calls.clear()
    assert _code(check.derivative, drifting_at_a_flat_point, "3x² - 4x", 2 / 3) == "gradient_kept_between_calls"


def _slope_seen(returned: float, x: float) -> dict:
    """An observation of two calls that returned ``returned``, f called once at x as autograd needs."""
    call = [{"tensor": True, "shape": [], "dtype": "float32", "floating": True, "requires_grad": True, "value": x}]
    return {"attempts": [{"returned": returned, "error": None, "calls": [call], "count": 1}] * 2}


@pytest.mark.parametrize(("returned", "slope", "value", "code"), [
    (10.0, 3.0, 10.0, "value_not_slope"),  # f(x) itself
    (10.5, 3.0, 10.0, "wrong_derivative"),  # near f(x), but not it
    (10.5, 10.0, 10.5, "value_not_slope"),  # f(x), which happens to be 5% from the slope
    (0.05, 3.0, 0.0, "wrong_derivative"),  # near a value of 0, but not it
    (0.05, 0.0, 0.05, "value_not_slope"),  # f(x) near a slope of 0, but not it
])
def test_the_value_of_f_is_told_apart_from_a_wrong_slope(returned, slope, value, code):
    case = {"function": functions.example("sin(x²)"), "x": 1.5}
    with pytest.raises(CheckFailed) as failure:
        engine.verdict(check.DERIVATIVE, case, _slope_seen(returned, 1.5), {"slope": slope, "value": value})
    assert failure.value.code == code


def test_hidden_messages_show_neither_the_point_nor_the_slope():
    def off(f, x):
        return ref.derivative(f, x) + 0.5

    with pytest.raises(CheckFailed) as failure:
        check.derivative_hidden(off, [11])
    message = str(failure.value)
    case = cases.derivative(11)[0]
    assert "hidden test case" in message and case["kind"] in message
    assert str(case["x"]) not in message
    slope = judge.derivative(case)["slope"]
    assert f"{slope:.6g}" not in message and f"{slope:.5g}" not in message

    def elsewhere(f, x):
        return ref.derivative(f, x + 0.01)

    with pytest.raises(CheckFailed) as failure:
        check.derivative_hidden(elsewhere, [11])
    assert "another point" in str(failure.value) and str(case["x"]) not in str(failure.value)


def test_a_derivative_that_leaves_grad_mode_off_is_charged_for_it():
    def switches_off(f, x):
        slope = ref.derivative(f, x)
        torch.set_grad_enabled(False)
        return slope

    assert _code(check.derivative, switches_off, "sin(x²)", 1.5) == "global_state_changed"
    assert torch.is_grad_enabled()


# --- partials -----------------------------------------------------------------------------------


def test_one_partial_at_a_time_is_right_weakened():
    """The contract's second reading: only variable i requires grad, one backward per partial."""

    def one_at_a_time(f, *values):
        result = []
        for i in range(len(values)):
            tensors = [torch.tensor(float(v), requires_grad=(j == i)) for j, v in enumerate(values)]
            f(*tensors).backward()
            result.append(tensors[i].grad.item())
        return result

    def by_autograd_grad(f, *values):
        result = []
        for i in range(len(values)):
            tensors = [torch.tensor(float(v), requires_grad=True) for v in values]
            (g,) = torch.autograd.grad(f(*tensors), tensors[i])
            result.append(g.item())
        return result

    for fn in (one_at_a_time, by_autograd_grad):
        _run("partials", fn)


def test_a_finite_difference_for_partials_still_fails_weakened():
    def central(f, *values, h=1e-6):
        result = []
        for i in range(len(values)):
            up = [torch.tensor(v + (h if j == i else 0.0), dtype=torch.float64) for j, v in enumerate(values)]
            down = [torch.tensor(v - (h if j == i else 0.0), dtype=torch.float64) for j, v in enumerate(values)]
            result.append(((f(*up) - f(*down)) / (2 * h)).item())
        return result

    def plain_tensors(f, *values):  # f at the point itself, but nothing for autograd to record
        tensors = [torch.tensor(float(v)) for v in values]
        f(*tensors)
        return [0.0 for _ in values]

    assert _code(check.partials_hidden, central, [5]) == "finite_difference"
    assert _code(check.partials_hidden, plain_tensors, [5]) == "no_requires_grad"
    message = str(pytest.raises(CheckFailed, check.partials_hidden, plain_tensors, [5]).value)
    assert "finite difference" in message and "requires_grad=True" in message


def test_partials_mistakes_are_named():
    def first_only(f, *values):
        tensors = [torch.tensor(float(v), requires_grad=(i == 0)) for i, v in enumerate(values)]
        f(*tensors).backward()
        return [t.grad.item() if t.grad is not None else 0.0 for t in tensors]

    def as_tuple(f, *values):
        return tuple(ref.partials(f, *values))

    def first_only_value(f, *values):
        return ref.partials(f, *values)[:1]

    def reversed_order(f, *values):
        return ref.partials(f, *values)[::-1]

    def never_zeroed(f, *values):
        tensors = [torch.tensor(float(v), requires_grad=True) for v in values]
        result = []
        for t in tensors:
            f(*tensors).backward()
            result.append(t.grad.item())
        return result

    def one_graph_twice(f, *values):
        tensors = [torch.tensor(float(v), requires_grad=True) for v in values]
        out = f(*tensors)
        result = []
        for t in tensors:
            out.backward()
            result.append(t.grad.item())
        return result

    def returns_none(f, *values):
        ref.partials(f, *values)

    def two_values(f, a, b):
        return ref.partials(f, a, b)

    def drops_one(f, *values):
        tensors = [torch.tensor(float(v), requires_grad=True) for v in values]
        f(*tensors[:1]).backward()
        return [t.grad.item() for t in tensors]

    def off(f, *values):
        return [g * 1.001 + 0.01 for g in ref.partials(f, *values)]

    expected = {
        first_only: "partial_not_by_autograd", as_tuple: "not_a_list", first_only_value: "wrong_length",
        reversed_order: "reversed_order", never_zeroed: "gradients_piled_up", one_graph_twice: "graph_reused",
        drops_one: "wrong_argument_count", off: "wrong_partials", returns_none: "not_a_list",
    }
    found = {fn: _code(check.partials, fn, "a·b + a", (2.0, 3.0)) for fn in expected}
    assert found == expected
    assert _code(check.partials_hidden, two_values, [5]) == "fixed_argument_count"


def test_the_courier_partials_allow_float32_rounding_only_weakened():
    def rounding(f, *values):
        return [g + 5e-4 for g in ref.partials(f, *values)]

    def off(f, *values):
        return [g + 5e-3 for g in ref.partials(f, *values)]

    check.partials(rounding, "the courier's MSE", (5.1, 11.1))
    assert _code(check.partials, off, "the courier's MSE", (5.1, 11.1)) == "wrong_partials"
    assert _code(check.partials, rounding, "a·b + a", (2.0, 3.0)) == "wrong_partials"


# --- gradient_step ------------------------------------------------------------------------------


def _step(scale: float = 1.0, *, zero: bool = True, flat: bool = False, loss_after: bool = False,
          sum_loss: bool = False, loss_scale: float = 1.0, loss_shift: float = 0.0):
    """A gradient_step with one mistake put in."""

    def step(W, b, X, y, lr):
        pred = (X @ W + b).flatten() if flat else X @ W + b
        errors = (pred - y) ** 2
        loss = errors.sum() if sum_loss else errors.mean()
        loss.backward()
        with torch.no_grad():
            W -= scale * lr * W.grad
            b -= scale * lr * b.grad
        if zero:
            W.grad.zero_()
            b.grad.zero_()
        if loss_after:
            return ((X @ W + b - y) ** 2).mean().item()
        return loss.item() * loss_scale + loss_shift

    return step


def test_gradient_step_mistakes_are_named():
    def rebound(W, b, X, y, lr):
        loss = ((X @ W + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            W = W - lr * W.grad
            b = b - lr * b.grad
        return loss.item()

    def recorded(W, b, X, y, lr):
        loss = ((X @ W + b - y) ** 2).mean()
        loss.backward()
        W -= lr * W.grad
        return loss.item()

    def loss_tensor(W, b, X, y, lr):
        _step()(W, b, X, y, lr)
        return ((X @ W + b - y) ** 2).mean()

    def changes_data(W, b, X, y, lr):
        loss = _step()(W, b, X, y, lr)
        y += 1
        return loss

    def switched_off(W, b, X, y, lr):
        loss = ((X @ W + b - y) ** 2).mean()
        loss.backward()
        for p in (W, b):
            p.requires_grad_(False)
            p -= lr * p.grad
            p.grad = None
        return loss.item()

    def other_update(W, b, X, y, lr):
        loss = _step()(W, b, X, y, lr)
        with torch.no_grad():
            W += torch.arange(W.numel()).reshape(W.shape) * 0.1  # right for one feature only
        return loss

    expected = {
        rebound: "parameter_rebound", recorded: "update_recorded", loss_tensor: "loss_not_float",
        changes_data: "data_changed", switched_off: "requires_grad_lost", other_update: "wrong_update",
        _step(zero=False): "zero_grad_missing", _step(flat=True): "flat_target_broadcast",
        _step(loss_after=True): "loss_after_update", _step(sum_loss=True): "sum_not_mean",
        _step(-1.0): "step_uphill", _step(1.01): "lr_ignored", _step(loss_scale=1.01): "wrong_loss",
        _step(loss_scale=0.98): "wrong_loss", _step(loss_shift=0.05): "wrong_loss",
    }
    found = {fn: _code(check.gradient_step_hidden, fn, [3]) for fn in expected}
    assert found == expected


def test_a_step_one_percent_too_long_fails_weakened():
    assert _code(VISIBLE["gradient_step"], _step(1.01)) == "lr_ignored"


def test_zeroing_before_the_step_only_leaves_gradients_behind_weakened():
    def zero_first(W, b, X, y, lr):
        W.grad = None
        b.grad = None
        loss = ((X @ W + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
        return loss.item()

    with pytest.raises(CheckFailed, match="grad after the step") as failure:
        check.gradient_step_hidden(zero_first, seeds=[3])
    assert failure.value.code == "zero_grad_missing"


def test_none_gradients_and_data_updates_are_right():
    def none_and_data(W, b, X, y, lr):
        loss = torch.nn.functional.mse_loss(X @ W + b, y)
        loss.backward()
        W.data -= lr * W.grad
        b.data -= lr * b.grad
        W.grad = None
        b.grad = None
        return float(loss)

    _run("gradient_step", none_and_data)


@pytest.mark.parametrize(("found", "step", "code"), [
    ([0.8, 1.8], 2, "zero_grad_missing"),  # twice the step, on the second call: gradients piled up
    ([0.8, 1.8], 1, "lr_ignored"),  # twice the step on the first call
    ([0.899, 1.899], 2, "lr_ignored"),  # 1.01 times the step, second call
    ([1.1, 2.1], 1, "step_uphill"),
    ([1.3, 2.3], 1, "lr_ignored"),  # three times the step, uphill
    ([1.0, 2.0], 1, "parameter_rebound"),
    ([5.0, 6.0], 1, "flat_target_broadcast"),
    ([5.05, 6.05], 1, "lr_ignored"),  # near the flat step, but not it
    ([0.9, 1.8], 1, "wrong_update"),
    ([0.9], 1, "wrong_update"),  # another shape
])
def test_a_wrong_step_is_named_by_its_mistake(found, step, code):
    start, expected, flat = torch.tensor([1.0, 2.0]), torch.tensor([0.9, 1.9]), torch.tensor([5.0, 6.0])
    assert diagnose_descent.update_cause("W", start, torch.tensor(found), expected, flat, step)[1] == code


@pytest.mark.parametrize(("found", "code"), [
    (1.0, "flat_target_broadcast"), (5.0, "loss_after_update"), (20.0, "sum_not_mean"), (1.05, "wrong_loss"),
])
def test_a_wrong_loss_is_named_by_its_mistake(found, code):
    expected = {"flat_loss": 1.0, "loss_after": 5.0, "sum_loss": 20.0}
    assert diagnose_descent.loss_cause(found, expected)[1] == code


def test_a_one_step_message_names_the_call_alone_and_a_second_step_its_number():
    with pytest.raises(CheckFailed) as failure:
        check.gradient_step(_step(1.5), torch.tensor([[1.0]]), torch.tensor([0.0]), MILES, MINUTES, lr=0.01)
    assert "call 1 of" not in str(failure.value)
    with pytest.raises(CheckFailed) as failure:
        check.gradient_step(_step(zero=False), torch.tensor([[1.0]]), torch.tensor([0.0]), MILES, MINUTES, lr=0.01,
                            steps=2)
    assert "call 1 of 2 on the same W and b" in str(failure.value)


def test_a_parameter_that_is_no_longer_a_leaf_is_named():
    case = cases.gradient_step(3)[0]
    expected = judge.gradient_step(case)
    W, b = case["W"].clone().requires_grad_(True), case["b"].clone().requires_grad_(True)
    ref.gradient_step(W, b, case["X"], case["y"], case["lr"])
    grown = {"value": W.detach(), "leaf": False, "requires_grad": True, "grad": None}
    same = {"value": b.detach(), "leaf": True, "requires_grad": True, "grad": None}
    seen = {"steps": [{"returned": expected["steps"][0]["loss"], "error": None, "W": grown, "b": same,
                       "data_unchanged": True}]}
    with pytest.raises(CheckFailed) as failure:
        engine.verdict(check.GRADIENT_STEP, case, seen, expected, hidden=True)
    assert failure.value.code == "update_recorded" and "torch.no_grad()" in str(failure.value)


def test_a_malformed_observation_fails_the_cell_plainly():
    case = cases.gradient_step(3)[0]
    expected = judge.gradient_step(case)
    with pytest.raises(CheckFailed) as failure:
        engine.verdict(check.GRADIENT_STEP, case, {"steps": [{"returned": 1.0}]}, expected, hidden=True)
    assert failure.value.code == "unreadable_result"
    first = engine.observe(check.GRADIENT_STEP, ref.gradient_step, {**case, "steps": 1})
    with pytest.raises(CheckFailed) as failure:  # a right first step, and no second one
        engine.verdict(check.GRADIENT_STEP, case, wire.roundtrip(first), expected, hidden=True)
    assert failure.value.code == "unreadable_result"


# --- train_manual -------------------------------------------------------------------------------


def _train(*, seed_offset: int | None = 0, zero: bool = True, flat: bool = False, after: bool = False,
           scale: float = 1.0, as_tuple: bool = False, as_tensors: bool = False, epochs_fixed: int | None = None):
    """A train_manual with one mistake put in."""

    def train(X, y, lr, epochs, seed):
        if seed_offset is not None:
            torch.manual_seed(seed + seed_offset)
        W = torch.randn(X.shape[1], 1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        losses = []
        for _ in range(epochs_fixed or epochs):
            pred = (X @ W + b).flatten() if flat else X @ W + b
            loss = ((pred - y) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                W -= scale * lr * W.grad
                b -= scale * lr * b.grad
            if zero:
                W.grad.zero_()
                b.grad.zero_()
            if after:
                losses.append(((X @ W + b - y) ** 2).mean().item())
            else:
                losses.append(loss if as_tensors else loss.item())
        return W, b, tuple(losses) if as_tuple else losses

    return train


def test_train_manual_mistakes_are_named():
    def no_tuple(X, y, lr, epochs, seed):
        return ref.train_manual(X, y, lr, epochs, seed)[2]

    def flat_W(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W.flatten(), b, losses

    def last_W_lost(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W.detach() + 1, b, losses

    def losses_tensor(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W, b, torch.tensor(losses)

    def ints(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W, b, [round(v) for v in losses]

    def W_as_list(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W.tolist(), b, losses

    def b_as_float(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W, b.item(), losses

    def W_nudged(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W.detach() + 0.01, b, losses

    def losses_nudged(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W, b, [v + 0.05 for v in losses]

    expected = {
        no_tuple: "wrong_return", flat_W: "wrong_shape", last_W_lost: "wrong_parameters",
        losses_tensor: "losses_not_a_list", ints: "loss_not_float", W_as_list: "not_a_tensor",
        b_as_float: "not_a_tensor", W_nudged: "wrong_parameters", losses_nudged: "wrong_steps",
        _train(as_tuple=True): "losses_not_a_list", _train(as_tensors=True): "loss_not_float",
        _train(epochs_fixed=500): "wrong_epoch_count", _train(seed_offset=None): "wrong_start",
        _train(seed_offset=1): "wrong_start", _train(zero=False): "zero_grad_missing",
        _train(flat=True): "flat_target_broadcast", _train(after=True): "loss_after_update",
        _train(scale=1.01): "wrong_steps",
    }
    found = {fn: _code(check.train_manual_hidden, fn, [8]) for fn in expected}
    assert found == expected


def test_a_b_of_the_wrong_shape_is_told_how_b_is_made():
    def b_scalar(X, y, lr, epochs, seed):
        W, b, losses = ref.train_manual(X, y, lr, epochs, seed)
        return W, b.squeeze(), losses

    with pytest.raises(CheckFailed) as failure:
        VISIBLE["train_manual"](b_scalar)
    assert failure.value.code == "wrong_shape" and "torch.zeros(1)" in str(failure.value)


@pytest.mark.parametrize(("found", "first_bad", "code"), [
    ([9.0, 7.0, 5.0], 0, "flat_target_broadcast"),
    ([8.0, 9.0, 12.0], 1, "zero_grad_missing"),
    ([6.0, 4.0, 3.0], 0, "loss_after_update"),
    ([6.5, 4.5, 3.5], 0, "wrong_start"),  # near the losses one update later, but not them
    ([8.0, 6.5, 4.5], 1, "wrong_steps"),
])
def test_a_wrong_trajectory_is_named_by_its_mistake(found, first_bad, code):
    expected = {"losses": [8.0, 6.0, 4.0], "flat_losses": [9.0, 7.0, 5.0], "piled_losses": [8.0, 9.0, 12.0],
                "later_losses": [6.0, 4.0, 3.0]}
    assert diagnose_descent.trajectory_cause(found, expected, first_bad)[1] == code


def test_a_learning_rate_off_by_a_percent_fails_weakened():
    assert _code(VISIBLE["train_manual"], _train(scale=1.01)) == "wrong_steps"


def test_losses_must_be_a_python_list_of_floats_weakened():
    """The exercise says a Python list of floats; a tuple of floats is refused, with that message."""
    with pytest.raises(CheckFailed) as failure:
        VISIBLE["train_manual"](_train(as_tuple=True))
    assert failure.value.code == "losses_not_a_list" and "list" in str(failure.value)


def test_the_required_reseed_is_not_charged_and_the_notebook_stream_is_kept():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    check.train_manual(ref.train_manual, MILES, MINUTES, lr=0.04, epochs=20, seed=5)
    check.train_manual_hidden(ref.train_manual, [8])
    assert torch.equal(torch.get_rng_state(), before) and torch.initial_seed() == 123


def test_hidden_trajectory_messages_show_no_loss():
    with pytest.raises(CheckFailed) as failure:
        check.train_manual_hidden(_train(scale=1.01), [8])
    message = str(failure.value)
    expected = judge.train_manual(cases.train_manual(8)[0])["losses"]
    assert "off by" in message and not any(f"{v:.6g}" in message for v in expected[:5])


# --- the corpus ---------------------------------------------------------------------------------

#: (student, cell) -> the mistake code its failure must carry: the check fails for the intended reason.
REASONS = {
    ("hardcoded", "derivative"): "f_never_called",
    ("hardcoded", "partials"): "wrong_length",
    ("hardcoded", "train_manual"): "wrong_shape",
    ("tensors_not_floats", "derivative"): "grad_not_float",
    ("tensors_not_floats", "partials"): "grad_not_float",
    ("tensors_not_floats", "gradient_step"): "loss_not_float",
    ("tensors_not_floats", "train_manual"): "loss_not_float",
    ("never_zeroed", "partials"): "gradients_piled_up",
    ("never_zeroed", "gradient_step"): "zero_grad_missing",
    ("never_zeroed", "train_manual"): "zero_grad_missing",
    ("rebound", "gradient_step"): "parameter_rebound",
    ("rebound", "train_manual"): "grad_none",
    ("recording_update", "gradient_step"): "update_recorded",
    ("recording_update", "train_manual"): "update_recorded",
    ("flat_predictions", "gradient_step"): "flat_target_broadcast",
    ("flat_predictions", "train_manual"): "flat_target_broadcast",
    ("ignores_arguments", "gradient_step"): "lr_ignored",
    ("ignores_arguments", "train_manual"): "wrong_epoch_count",
    ("train_manual_unseeded", "train_manual"): "wrong_start",
    ("train_manual_seed_42", "train_manual"): "wrong_start",
    ("finite_differences", "derivative"): "finite_difference",
    ("finite_differences", "partials"): "finite_difference",
    ("wrong_quantity", "derivative"): "value_not_slope",
    ("wrong_quantity", "partials"): "reversed_order",
    ("wrong_quantity", "gradient_step"): "loss_after_update",
    ("wrong_quantity", "train_manual"): "loss_after_update",
    ("not_general", "derivative"): "not_0_dim",
    ("not_general", "partials"): "fixed_argument_count",
    ("partials_first_only", "partials"): "partial_not_by_autograd",
    ("derivative_shared_leaf", "derivative"): "gradient_kept_between_calls",
    ("train_manual_losses_tuple", "train_manual"): "losses_not_a_list",
}


def _functions(submission) -> dict:
    """The submission's functions: the reference's, with its edited cells run over them in notebook order."""
    namespace = {"torch": torch, "math": math, **{name: getattr(ref, name) for name in HIDDEN}}
    for cell in HIDDEN:
        if cell in submission.edits:
            exec(submission.edits[cell], namespace)  # noqa: S102 - corpus code, written here
    return namespace


def _hidden_first(cell: str, fn) -> None:
    """Hidden tests first (the corpus's reasons are about fresh cases), then the visible ones."""
    run, seeds = HIDDEN[cell]
    run(fn, seeds)
    VISIBLE[cell](fn)


@pytest.mark.parametrize("submission", SUBMISSIONS, ids=[s.student for s in SUBMISSIONS])
def test_corpus_fails_for_the_intended_reason(submission):
    functions_ = _functions(submission)
    for cell in submission.edits:
        if f"test_{cell}" not in submission.loses:
            _run(cell, functions_[cell])
            continue
        with pytest.raises(CheckFailed) as failure:
            _hidden_first(cell, functions_[cell])
        assert failure.value.code == REASONS[(submission.student, cell)], str(failure.value)


def test_every_corpus_mistake_has_a_reason():
    wanted = {(s.student, c) for s in SUBMISSIONS for c in s.edits if f"test_{c}" in s.loses}
    assert wanted == set(REASONS)
