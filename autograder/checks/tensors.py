"""Checks of 01_tensors: shapes, dtypes and values against the reference, on fresh data."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from unittest import mock

import torch

from autograder.checks.expect import (
    describe,
    expect,
    expect_close,
    expect_dtype,
    expect_raises,
    expect_shape,
    expect_tensor,
    fail,
)
from autograder.reference import tensors as ref


def _numbers(rng: random.Random, n: int) -> list[float]:
    """A mix of ints and floats, as a student's data might come."""
    return [rng.randint(0, 20) if rng.random() < 0.5 else round(rng.uniform(0, 20), 2) for _ in range(n)]


def to_batch(student: Callable, values: list) -> None:
    """``student(values)`` matches the reference: float32, [N, 1], same numbers."""
    expected = ref.to_batch(values)
    found = expect_tensor(student(values), f"to_batch({values})")
    expect_shape(found, list(expected.shape), f"to_batch({values}): shape")
    expect_dtype(found, torch.float32, f"to_batch({values}): dtype")
    expect_close(found, expected, f"to_batch({values}): values", cause="row i must hold values[i]")


def to_batch_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """``to_batch`` on fresh lists of ints, floats and mixtures, of fresh lengths."""
    for seed in seeds:
        rng = random.Random(seed)
        n = rng.randint(1, 15)
        to_batch(student, _numbers(rng, n))
        to_batch(student, [rng.randint(1, 30) for _ in range(n)])  # whole numbers only


def stack_features(student: Callable, distances: list, hours: list, weather: list) -> None:
    """``student(distances, hours, weather)`` matches the reference: float32 [N, 3], one row a sample."""
    expected = ref.stack_features(distances, hours, weather)
    call = f"stack_features({distances}, {hours}, {weather})"
    found = expect_tensor(student(distances, hours, weather), call)
    if list(found.shape) == [3, len(distances)] and len(distances) != 3:
        fail(f"{call}: shape", f"shape {list(expected.shape)}", f"shape {list(found.shape)}",
             "the features ended up as rows: each *row* must be one delivery; stack along dim=1 (or transpose)")
    expect_shape(found, list(expected.shape), f"{call}: shape")
    expect_dtype(found, torch.float32, f"{call}: dtype")
    expect_close(found, expected, f"{call}: values",
                 cause="row i must be [distances[i], hours[i], weather[i]], in that order")


def stack_features_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """``stack_features`` on fresh columns, including N = 3 where a transpose is invisible by shape."""
    for seed in seeds:
        rng = random.Random(seed)
        for n in (rng.randint(1, 12), 3):
            stack_features(student, _numbers(rng, n), [rng.randint(0, 23) for _ in range(n)],
                           [rng.randint(0, 1) for _ in range(n)])


def add_batch_dim(student: Callable, sample: torch.Tensor) -> None:
    """``student(sample)`` gives [1, F] holding the sample."""
    expected = ref.add_batch_dim(sample)
    call = f"add_batch_dim(<{describe(sample)}>)"
    found = expect_tensor(student(sample.clone()), call)
    if list(found.shape) == [sample.shape[0], 1] and sample.shape[0] != 1:
        fail(f"{call}: shape", f"shape {list(expected.shape)}", f"shape {list(found.shape)}",
             "the new dimension went last: the batch dimension comes first, unsqueeze(0)")
    expect_shape(found, list(expected.shape), f"{call}: shape")
    expect_close(found, expected, f"{call}: values", cause="the sample's numbers must not change")


def add_batch_dim_hidden(student: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        features = int(torch.randint(2, 9, (1,), generator=g))
        add_batch_dim(student, torch.randn(features, generator=g))


def linear_forward(student: Callable, X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> None:
    """``student(X, W, b)`` equals X @ W + b, shape [N, O]."""
    expected = ref.linear_forward(X, W, b)
    call = f"linear_forward(X {list(X.shape)}, W {list(W.shape)}, b {list(b.shape)})"
    found = expect_tensor(student(X.clone(), W.clone(), b.clone()), call)
    expect_shape(found, list(expected.shape), f"{call}: shape",
                 "multiply with the matrix product X @ W (not *), then add b")
    expect_close(found, expected, f"{call}: values", rtol=1e-4, atol=1e-5,
                 cause="the answer is X @ W + b: is the bias added, and X on the left?")


def linear_forward_hidden(student: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        n, f, o = (int(v) for v in torch.randint(2, 7, (3,), generator=g))
        if f == o:
            o += 1  # a non-square W shows a transposed product
        linear_forward(student, torch.randn(n, f, generator=g), torch.randn(f, o, generator=g),
                       torch.randn(o, generator=g))


def mse(student: Callable, pred: torch.Tensor, target: torch.Tensor) -> None:
    """``student(pred, target)`` is the 0-dim mean squared error, differentiable, built by hand."""
    expected = ref.mse(pred, target)
    call = f"mse(pred {list(pred.shape)}, target {list(target.shape)})"
    leaf = pred.clone().requires_grad_(True)
    with mock.patch("torch.nn.functional.mse_loss", side_effect=_no_builtin_loss):
        found = expect_tensor(student(leaf, target.clone()), call,
                              "return the mean as a tensor, not a float: keep it differentiable")
    expect_shape(found, [], f"{call}: shape", "the mean of all squared errors is one number: a 0-dim tensor")
    expect_close(found, expected, f"{call}: value", rtol=1e-4, atol=1e-5,
                 cause="square each difference (pred - target) ** 2, then take the mean")
    expect(found.requires_grad, f"{call}: autograd", "a result that autograd can differentiate",
           "a tensor cut off from pred's graph",
           "do not rebuild the result with torch.tensor(...) or .item(): use tensor operations only")
    found.backward()
    expect_close(leaf.grad, 2 * (pred - target) / pred.numel(), f"{call}: gradient", rtol=1e-4, atol=1e-6)


def _no_builtin_loss(*args, **kwargs):
    raise AssertionError(
        "mse must be written with tensor operations\n"
        "  expected: (pred - target) squared, then averaged\n"
        "  found:    a call to nn.MSELoss / F.mse_loss\n"
        "  likely cause: this exercise is about building the loss yourself"
    )


def mse_rejects_mismatch(student: Callable, pred: torch.Tensor, target: torch.Tensor) -> None:
    """``student`` raises ValueError when the shapes differ (e.g. [N] against [N, 1])."""
    expect_raises(
        ValueError,
        lambda: student(pred, target),
        f"mse(pred {list(pred.shape)}, target {list(target.shape)})",
        "shapes [N] and [N, 1] silently broadcast into an [N, N] grid of differences: "
        "compare pred.shape with target.shape and raise ValueError when they differ",
    )


def mse_hidden(student: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        n = int(torch.randint(2, 12, (1,), generator=g))
        pred, target = 30 * torch.rand(n, 1, generator=g), 30 * torch.rand(n, 1, generator=g)
        mse(student, pred, target)
        mse(student, pred.flatten(), target.flatten())
        mse_rejects_mismatch(student, pred.flatten(), target)
        mse_rejects_mismatch(student, pred, target.flatten())
        mse_rejects_mismatch(student, pred, target.T)
