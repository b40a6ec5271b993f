"""01_tensors' checks: the reference passes every one; each mistake fails with its message and code.

The checks run as in a notebook on the instructor's machine: the kit observes, the judge
(importable here) computes the expectation in-process; visible tests read the shipped
expectations. Each test below would pass if the check it aims at were weakened (a
tolerance dropped, a condition inverted, a comparison skipped): ``benchmarks/mutation.py``
measures exactly that.
"""

from __future__ import annotations

import re

import pytest
import torch

from autograder import judges
from autograder.reference import tensors as ref
from coursekit.checks import engine, wire
from coursekit.checks import tensors as check
from coursekit.checks.expect import CheckFailed

MILES = [1, 3, 5, 7]
SEEDS = [1013, 2207]


def first_line(error: CheckFailed) -> str:
    """What the message says failed (``to_batch([1, 3]): shape``)."""
    return str(error).splitlines()[0]


def failure(call, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        call(*args, **kwargs)
    return caught.value


# --- the reference passes ------------------------------------------------------------------------

def test_reference_passes_every_visible_and_hidden_check():
    check.to_batch(ref.to_batch, MILES)
    check.stack_features(ref.stack_features, MILES, [8, 12, 17, 18], [0, 1, 0, 1])
    check.add_batch_dim(ref.add_batch_dim, torch.tensor([7.0, 18.0, 1.0]))
    X, W, b = torch.tensor([[1.0], [3.0]]), torch.tensor([[5.1]]), torch.tensor([11.1])
    check.linear_forward(ref.linear_forward, X, W, b)
    pred, target = torch.tensor([[16.2], [26.4]]), torch.tensor([[15.0], [27.0]])
    check.mse(ref.mse, pred, target)
    check.mse_rejects_mismatch(ref.mse, pred.flatten(), target)
    for hidden, fn in [(check.to_batch_hidden, ref.to_batch), (check.stack_features_hidden, ref.stack_features),
                       (check.add_batch_dim_hidden, ref.add_batch_dim),
                       (check.linear_forward_hidden, ref.linear_forward), (check.mse_hidden, ref.mse)]:
        hidden(fn, seeds=SEEDS)


# --- to_batch ------------------------------------------------------------------------------------

def test_to_batch_int64_is_caught_with_its_cause():
    error = failure(check.to_batch, lambda v: torch.tensor(v).reshape(-1, 1), MILES)
    assert error.code == "wrong_dtype" and "int64" in str(error) and "float32" in str(error)


def test_to_batch_flat_is_caught():
    error = failure(check.to_batch, lambda v: torch.tensor(v, dtype=torch.float32), MILES)
    assert error.code == "wrong_shape" and "[4, 1]" in str(error)


def test_to_batch_wrong_values_are_caught():
    error = failure(check.to_batch, lambda v: torch.tensor(v, dtype=torch.float32).reshape(-1, 1) + 1e-3, MILES)
    assert error.code == "wrong_values"


def test_to_batch_reversed_rows_are_caught():
    error = failure(check.to_batch, lambda v: torch.tensor(v[::-1], dtype=torch.float32).reshape(-1, 1), MILES)
    assert error.code == "wrong_values"


def test_to_batch_hard_coded_passes_visible_fails_hidden():
    hard = lambda v: torch.tensor([[1.0], [3.0], [5.0], [7.0]])  # noqa: E731
    check.to_batch(hard, MILES)
    error = failure(check.to_batch_hidden, hard, seeds=SEEDS)
    assert "hidden test case" in str(error)


def test_to_batch_shape_is_checked_before_dtype():
    error = failure(check.to_batch, lambda v: torch.tensor(v), MILES)
    assert error.code == "wrong_shape" and first_line(error).endswith(": shape")


def test_to_batch_returning_a_list_is_caught():
    assert failure(check.to_batch, lambda v: [[float(x)] for x in v], MILES).code == "not_a_tensor"


# --- stack_features ------------------------------------------------------------------------------

def _stack(fn):
    return lambda d, h, w: fn(*[torch.tensor(c, dtype=torch.float32) for c in (d, h, w)])


def test_stack_features_as_rows_is_named():
    error = failure(check.stack_features, _stack(lambda *c: torch.stack(c, dim=0)), MILES, [8, 12, 17, 18],
                    [0, 1, 0, 1])
    assert error.code == "features_as_rows"


def test_stack_features_transposed_with_three_samples_is_caught_by_values():
    error = failure(check.stack_features, _stack(lambda *c: torch.stack(c, dim=0)), [1, 3, 5], [8, 12, 17],
                    [0, 1, 0])
    assert error.code == "wrong_values"


def test_stack_features_wrong_order_of_columns():
    error = failure(check.stack_features, _stack(lambda d, h, w: torch.stack([h, d, w], dim=1)), MILES,
                    [8, 12, 17, 18], [0, 1, 0, 1])
    assert error.code == "wrong_values"


def test_stack_features_shape_is_checked_before_dtype():
    fn = lambda d, h, w: torch.stack([torch.tensor(c) for c in (d, h)], dim=1)  # noqa: E731
    error = failure(check.stack_features, fn, MILES, [8, 12, 17, 18], [0, 1, 0, 1])
    assert error.code == "wrong_shape" and first_line(error).endswith(": shape")


def test_stack_features_int64_is_caught():
    fn = lambda d, h, w: torch.stack([torch.tensor(c) for c in (d, h, w)], dim=1)  # noqa: E731
    assert failure(check.stack_features, fn, MILES, [8, 12, 17, 18], [0, 1, 0, 1]).code == "wrong_dtype"


# --- add_batch_dim -------------------------------------------------------------------------------

def test_add_batch_dim_last_is_named():
    error = failure(check.add_batch_dim, lambda s: s.unsqueeze(1), torch.tensor([7.0, 18.0, 1.0]))
    assert error.code == "batch_dim_last"


def test_add_batch_dim_changed_values_are_caught():
    error = failure(check.add_batch_dim, lambda s: (s * 2).unsqueeze(0), torch.tensor([7.0, 18.0, 1.0]))
    assert error.code == "wrong_values"


def test_add_batch_dim_wrong_rank():
    error = failure(check.add_batch_dim, lambda s: s.reshape(1, 1, -1), torch.tensor([7.0, 18.0, 1.0]))
    assert error.code == "wrong_shape" and first_line(error).endswith(": shape")


# --- linear_forward ------------------------------------------------------------------------------

X, W, B = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, 1.0]]), \
    torch.tensor([0.1, 0.2, 0.3])


def test_linear_forward_without_bias():
    assert failure(check.linear_forward, lambda X, W, b: X @ W, X, W, B).code == "wrong_values"


def test_linear_forward_wrong_output_shape():
    error = failure(check.linear_forward, lambda X, W, b: X @ W[:, :1] + b[:1], X, W, B)
    assert error.code == "wrong_shape" and "matrix product X @ W" in str(error)


def test_linear_forward_small_error_is_caught():
    assert failure(check.linear_forward, lambda X, W, b: X @ W + b + 1e-3, X, W, B).code == "wrong_values"


# --- mse -----------------------------------------------------------------------------------------

PRED, TARGET = torch.tensor([[16.2], [26.4], [36.6]]), torch.tensor([[15.0], [27.0], [39.0]])


def test_mse_without_shape_guard_is_caught():
    error = failure(check.mse_rejects_mismatch, lambda p, t: ((p - t) ** 2).mean(), PRED.flatten(), TARGET)
    assert error.code == "shape_mismatch_not_refused"


def test_mse_raising_the_wrong_error_is_caught():
    def wrong_error(p, t):
        if p.shape != t.shape:
            raise TypeError("shapes")
        return ((p - t) ** 2).mean()
    assert failure(check.mse_rejects_mismatch, wrong_error, PRED.flatten(), TARGET).code == "wrong_error_type"


def test_mse_builtin_loss_is_refused():
    error = failure(check.mse, lambda p, t: torch.nn.functional.mse_loss(p, t), PRED, TARGET)
    assert error.code == "builtin_loss"


def test_mse_as_float_is_caught():
    error = failure(check.mse, lambda p, t: float(((p - t) ** 2).mean()), PRED, TARGET)
    assert error.code == "not_a_tensor"


def test_mse_sum_instead_of_mean():
    assert failure(check.mse, lambda p, t: ((p - t) ** 2).sum(), PRED, TARGET).code == "wrong_values"


def test_mse_cut_from_the_graph():
    error = failure(check.mse, lambda p, t: torch.tensor(((p - t) ** 2).mean().item()), PRED, TARGET)
    assert error.code == "graph_cut" and first_line(error).endswith(": autograd")


def test_mse_raising_on_good_shapes_shows_the_error():
    def always(p, t):
        raise ValueError("nope")
    error = failure(check.mse, always, PRED, TARGET)
    assert error.code == "raised" and "ValueError: nope" in str(error)


def test_mse_not_reduced_to_one_number():
    error = failure(check.mse, lambda p, t: (p - t) ** 2, PRED, TARGET)
    assert error.code == "wrong_shape" and "0-dim" in str(error)


def test_mse_value_off_with_the_right_gradient():
    error = failure(check.mse, lambda p, t: ((p - t) ** 2).mean() + 0.001, PRED, TARGET)
    assert error.code == "wrong_values" and first_line(error).endswith(": value")


def test_mse_gradient_slightly_off_with_the_right_value():
    error = failure(check.mse, lambda p, t: ((p - t) ** 2).mean() + 1e-3 * (p - p.detach()).sum(), PRED, TARGET)
    assert error.code == "wrong_values" and first_line(error).endswith(": gradient")


def test_mse_with_a_wrong_gradient_but_right_value():
    def detached_half(p, t):  # right value, half the gradient
        d = p - t
        return (d * d.detach()).mean()
    assert failure(check.mse, detached_half, PRED, TARGET).code == "wrong_values"


def test_mse_value_tolerance_is_tight():
    assert failure(check.mse, lambda p, t: ((p - t) ** 2).mean() * 1.001, PRED, TARGET).code == "wrong_values"


# --- the engine's shared verdicts ----------------------------------------------------------------

def test_global_state_left_changed_is_charged_to_its_own_call():
    def no_grad_left_on(v):
        torch.set_grad_enabled(False)
        return ref.to_batch(v)
    error = failure(check.to_batch, no_grad_left_on, MILES)
    assert error.code == "global_state_changed" and "grad mode" in str(error)
    assert torch.is_grad_enabled()  # put back for the next cell


def test_dtype_left_changed_is_named_and_put_back():
    def float64_default(v):
        torch.set_default_dtype(torch.float64)
        return ref.to_batch(v)
    error = failure(check.to_batch, float64_default, MILES)
    assert "default dtype" in str(error) and torch.get_default_dtype() == torch.float32


def test_an_exception_shows_the_students_line():
    def broken(values):
        return values.reshape(-1, 1)  # a list has no reshape
    error = failure(check.to_batch, broken, MILES)
    assert error.code == "raised" and "AttributeError" in str(error) and "values.reshape(-1, 1)" in str(error)


def test_hidden_messages_show_no_hidden_values():
    error = failure(check.to_batch_hidden, lambda v: torch.tensor(v, dtype=torch.float32).reshape(-1, 1) * 2,
                    seeds=[1013])
    cases = check.TO_BATCH.cases(1013)
    shown = str(error).split("likely cause")[0]
    for value in cases[0]["values"]:
        if abs(value) >= 2:  # small whole numbers also appear in the message's counts
            for text in {str(value), f"{float(value):.5g}"}:
                assert not re.search(rf"(?<![\d.]){re.escape(text)}(?![\d.%])", shown), (value, shown)
    assert "hidden test case" in str(error)


def test_judge_rejects_missing_forged_and_malformed_records():
    source = "from coursekit.checks import tensors as check\ncheck.to_batch_hidden(to_batch, seeds=[5, 6])"
    assert judges.hidden_calls(source) == [("tensors.to_batch_hidden", 5), ("tensors.to_batch_hidden", 6)]
    records = []
    engine.set_sink(records.append)
    try:
        check.to_batch_hidden(ref.to_batch, seeds=[5, 6])
    finally:
        engine.set_sink(None)
    assert judges.judge_cell(source, records) is None
    assert judges.judge_cell(source, records[:1]).code == "incomplete"
    assert judges.judge_cell(source, [*records, records[0]]).code == "forged"
    bad = [{**records[0], "observations": [{"returned": {"__pickle__": "..."}}] * 2}, records[1]]
    assert judges.judge_cell(source, bad).code == "malformed"
    short = [{**records[0], "observations": records[0]["observations"][:1]}, records[1]]
    assert judges.judge_cell(source, short).code == "incomplete"


def test_observations_are_plain_json():
    records = []
    engine.set_sink(records.append)
    try:
        check.mse_hidden(ref.mse, seeds=[12])
    finally:
        engine.set_sink(None)
    import json
    assert json.loads(json.dumps(records)) == records
    with pytest.raises(wire.WireError):
        wire.loads('{"__tensor__": {"dtype": "float32", "shape": [2], "data": [1.0]}}')
