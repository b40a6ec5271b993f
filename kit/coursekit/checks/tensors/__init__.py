"""Checks of 01_tensors, as grade cells call them: shapes, dtypes and values of five small functions.

Each exercise's :class:`~coursekit.checks.engine.Check` joins its ``cases`` (hidden
inputs), ``observe`` (what running the student's function shows) and ``diagnose``
(the verdict and its message); expectations come from the instructor's judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from coursekit.checks import engine
from coursekit.checks.engine import Check
from coursekit.checks.tensors import cases, diagnose, observe

TO_BATCH = Check("tensors.to_batch", observe.to_batch, diagnose.to_batch, cases.to_batch,
                 diagnose.describe_to_batch)
STACK_FEATURES = Check("tensors.stack_features", observe.stack_features, diagnose.stack_features,
                       cases.stack_features, diagnose.describe_stack_features)
ADD_BATCH_DIM = Check("tensors.add_batch_dim", observe.add_batch_dim, diagnose.add_batch_dim, cases.add_batch_dim,
                      diagnose.describe_add_batch_dim)
LINEAR_FORWARD = Check("tensors.linear_forward", observe.linear_forward, diagnose.linear_forward,
                       cases.linear_forward, diagnose.describe_linear_forward)
MSE = Check("tensors.mse", observe.mse, diagnose.mse, cases.mse, diagnose.describe_mse)

#: hidden call name -> its check (the judge reads this).
HIDDEN = {"to_batch_hidden": TO_BATCH, "stack_features_hidden": STACK_FEATURES,
          "add_batch_dim_hidden": ADD_BATCH_DIM, "linear_forward_hidden": LINEAR_FORWARD, "mse_hidden": MSE}


def to_batch(student: Callable, values: list) -> None:
    """``student(values)``: float32, [N, 1], row i holding values[i]."""
    engine.visible(TO_BATCH, student, {"values": list(values)})


def stack_features(student: Callable, distances: list, hours: list, weather: list) -> None:
    """``student(distances, hours, weather)``: float32 [N, 3], one row a delivery."""
    engine.visible(STACK_FEATURES, student,
                   {"distances": list(distances), "hours": list(hours), "weather": list(weather)})


def add_batch_dim(student: Callable, sample: torch.Tensor) -> None:
    """``student(sample)`` gives [1, F] holding the sample."""
    engine.visible(ADD_BATCH_DIM, student, {"sample": sample})


def linear_forward(student: Callable, X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> None:
    """``student(X, W, b)`` equals X @ W + b, shape [N, O]."""
    engine.visible(LINEAR_FORWARD, student, {"X": X, "W": W, "b": b})


def mse(student: Callable, pred: torch.Tensor, target: torch.Tensor) -> None:
    """``student(pred, target)``: the 0-dim mean squared error, differentiable, built by hand."""
    engine.visible(MSE, student, {"pred": pred, "target": target})


def mse_rejects_mismatch(student: Callable, pred: torch.Tensor, target: torch.Tensor) -> None:
    """``student`` raises ValueError when the shapes differ (e.g. [N] against [N, 1])."""
    engine.visible(MSE, student, {"pred": pred, "target": target})


def to_batch_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(TO_BATCH, "tensors.to_batch_hidden", student, list(seeds))


def stack_features_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(STACK_FEATURES, "tensors.stack_features_hidden", student, list(seeds))


def add_batch_dim_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(ADD_BATCH_DIM, "tensors.add_batch_dim_hidden", student, list(seeds))


def linear_forward_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(LINEAR_FORWARD, "tensors.linear_forward_hidden", student, list(seeds))


def mse_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(MSE, "tensors.mse_hidden", student, list(seeds))
