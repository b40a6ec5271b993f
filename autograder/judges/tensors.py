"""Expectations of 01_tensors' checks, from the answer key."""

from __future__ import annotations

from typing import Any

from autograder.reference import tensors as ref
from coursekit.checks.engine import Case


def mse(case: Case) -> dict[str, Any]:
    pred, target = case["pred"], case["target"]
    try:
        value = ref.mse(pred, target)
    except ValueError:
        return {"raises": "ValueError"}
    return {"value": value, "grad": 2 * (pred - target) / pred.numel()}


EXPECTATIONS = {
    "to_batch": lambda case: ref.to_batch(case["values"]),
    "stack_features": lambda case: ref.stack_features(case["distances"], case["hours"], case["weather"]),
    "add_batch_dim": lambda case: ref.add_batch_dim(case["sample"]),
    "linear_forward": lambda case: ref.linear_forward(case["X"], case["W"], case["b"]),
    "mse": mse,
}
