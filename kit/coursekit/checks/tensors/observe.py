"""What 01_tensors' checks watch when they run a student's function (in the student's kernel)."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import torch

from coursekit.checks.engine import Case, Observation, attempt, call


def to_batch(student: Callable, case: Case) -> Observation:
    return {"returned": call(student, list(case["values"]))}


def stack_features(student: Callable, case: Case) -> Observation:
    return {"returned": call(student, list(case["distances"]), list(case["hours"]), list(case["weather"]))}


def add_batch_dim(student: Callable, case: Case) -> Observation:
    return {"returned": call(student, case["sample"].clone())}


def linear_forward(student: Callable, case: Case) -> Observation:
    return {"returned": call(student, case["X"].clone(), case["W"].clone(), case["b"].clone())}


class _BuiltinLoss(Exception):
    """Raised in place of F.mse_loss: the exercise is to write the loss by hand."""


def mse(student: Callable, case: Case) -> Observation:
    """The value, the error raised (if any), and the gradient the result gives ``pred``."""
    leaf = case["pred"].clone().requires_grad_(True)
    used: list[bool] = []

    def builtin(*args: object, **kwargs: object) -> None:
        used.append(True)
        raise _BuiltinLoss("mse must be written with tensor operations, not nn.MSELoss / F.mse_loss")

    with mock.patch("torch.nn.functional.mse_loss", side_effect=builtin):
        returned, error = attempt(student, leaf, case["target"].clone())
    grad = None
    if isinstance(returned, torch.Tensor) and returned.requires_grad and returned.numel() == 1:
        try:
            returned.backward()
            grad = leaf.grad
        except RuntimeError:
            grad = None
    return {"returned": returned, "error": error, "grad": grad, "used_builtin": bool(used)}
