"""01_tensors' verdicts: an observation against its expectation, with messages for beginners."""

from __future__ import annotations

from typing import Any

import torch

from coursekit.checks.engine import Case, Observation, raised_message
from coursekit.checks.expect import (
    describe,
    expect,
    expect_close,
    expect_dtype,
    expect_shape,
    expect_tensor,
    fail,
)
from coursekit.checks.wire import seen


def describe_to_batch(case: Case) -> str:
    return f"to_batch({case['values']})"


def describe_stack_features(case: Case) -> str:
    return f"stack_features({case['distances']}, {case['hours']}, {case['weather']})"


def describe_add_batch_dim(case: Case) -> str:
    return f"add_batch_dim(<{describe(case['sample'])}>)"


def describe_linear_forward(case: Case) -> str:
    X, W, b = case["X"], case["W"], case["b"]
    return f"linear_forward(X {list(X.shape)}, W {list(W.shape)}, b {list(b.shape)})"


def describe_mse(case: Case) -> str:
    return f"mse(pred {list(case['pred'].shape)}, target {list(case['target'].shape)})"


def to_batch(case: Case, seen_: Observation, expected: torch.Tensor, call: str) -> None:
    found = expect_tensor(seen_["returned"], call)
    expect_shape(found, list(expected.shape), f"{call}: shape")
    expect_dtype(found, torch.float32, f"{call}: dtype")
    expect_close(found, expected, f"{call}: values", cause="row i must hold values[i]")


def stack_features(case: Case, seen_: Observation, expected: torch.Tensor, call: str) -> None:
    distances = case["distances"]
    found = expect_tensor(seen_["returned"], call)
    if list(found.shape) == [3, len(distances)] and len(distances) != 3:
        fail(f"{call}: shape", f"shape {list(expected.shape)}", f"shape {list(found.shape)}",
             "the features ended up as rows: each *row* must be one delivery; stack along dim=1 (or transpose)",
             code="features_as_rows")
    expect_shape(found, list(expected.shape), f"{call}: shape")
    expect_dtype(found, torch.float32, f"{call}: dtype")
    expect_close(found, expected, f"{call}: values",
                 cause="row i must be [distances[i], hours[i], weather[i]], in that order")


def add_batch_dim(case: Case, seen_: Observation, expected: torch.Tensor, call: str) -> None:
    sample = case["sample"]
    found = expect_tensor(seen_["returned"], call)
    if list(found.shape) == [sample.shape[0], 1] and sample.shape[0] != 1:
        fail(f"{call}: shape", f"shape {list(expected.shape)}", f"shape {list(found.shape)}",
             "the new dimension went last: the batch dimension comes first, unsqueeze(0)", code="batch_dim_last")
    expect_shape(found, list(expected.shape), f"{call}: shape")
    expect_close(found, expected, f"{call}: values", cause="the sample's numbers must not change")


def linear_forward(case: Case, seen_: Observation, expected: torch.Tensor, call: str) -> None:
    found = expect_tensor(seen_["returned"], call)
    expect_shape(found, list(expected.shape), f"{call}: shape",
                 "multiply with the matrix product X @ W (not *), then add b")
    expect_close(found, expected, f"{call}: values", rtol=1e-4, atol=1e-5,
                 cause="the answer is X @ W + b: is the bias added, and X on the left?")


def mse(case: Case, seen_: Observation, expected: dict[str, Any], call: str) -> None:
    error = seen_.get("error")
    if expected.get("raises"):
        if error is None:
            fail(call, "ValueError raised", f"no error; it returned {describe(seen_.get('returned'))}",
                 "shapes [N] and [N, 1] silently broadcast into an [N, N] grid of differences: "
                 "compare pred.shape with target.shape and raise ValueError when they differ",
                 code="shape_mismatch_not_refused")
        expect(error.get("type") == "ValueError", call, "ValueError raised",
               f"{error.get('type')}: {error.get('message')}",
               "raise ValueError (not another error) when pred.shape != target.shape", code="wrong_error_type")
        return
    if seen_.get("used_builtin"):
        fail(call, "(pred - target) squared, then averaged", "a call to nn.MSELoss / F.mse_loss",
             "this exercise is about building the loss yourself", code="builtin_loss")
    if error is not None:
        raised_message(call, error)
    found = expect_tensor(seen_["returned"], call, "return the mean as a tensor, not a float: keep it differentiable")
    expect_shape(found, [], f"{call}: shape", "the mean of all squared errors is one number: a 0-dim tensor")
    expect_close(found, expected["value"], f"{call}: value", rtol=1e-4, atol=1e-5,
                 cause="square each difference (pred - target) ** 2, then take the mean")
    expect(seen(found).grad_fn, f"{call}: autograd", "a result that autograd can differentiate",
           "a tensor cut off from pred's graph",
           "do not rebuild the result with torch.tensor(...) or .item(): use tensor operations only",
           code="graph_cut")
    grad = seen_.get("grad")
    expect(isinstance(grad, torch.Tensor), f"{call}: gradient", "a gradient for pred",
           "none (backward did not reach pred)", "use tensor operations on pred only", code="no_gradient")
    expect_close(grad, expected["grad"], f"{call}: gradient", rtol=1e-4, atol=1e-6,
                 cause="the gradient of a mean squared error is 2 (pred - target) / N: average, do not sum")
