"""What 02_autograd's checks watch when they run a student's function (in the student's kernel).

``derivative`` and ``partials`` get a function that writes down every call: what each
argument was (a tensor? 0-dim? float? requiring grad? at which value?). The two descent
exercises get leaf tensors, and the observation keeps what the call left in them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from coursekit.checks.autograd import functions
from coursekit.checks.engine import Case, Observation, attempt, attempt_seeding

#: Calls of f kept in an observation (a loop that calls f more often is cut short in the record).
MAX_CALLS = 64


def _argument(value: Any) -> dict[str, Any]:
    """One argument of a call of f, as plain facts."""
    if not isinstance(value, torch.Tensor):
        return {"tensor": False, "type": type(value).__name__}
    number = None
    if value.numel() == 1:
        try:
            number = float(value.detach().reshape(-1)[0])
        except Exception:  # noqa: BLE001 - a tensor that cannot be read still has its flags
            number = None
    return {"tensor": True, "shape": list(value.shape), "dtype": str(value.dtype).removeprefix("torch."),
            "floating": bool(value.is_floating_point()), "requires_grad": bool(value.requires_grad),
            "value": number}


class Watched:
    """``f`` with a record of every call: its arguments, as :func:`_argument` sees them."""

    def __init__(self, f: Callable[..., torch.Tensor]) -> None:
        self.f = f
        self.calls: list[list[dict[str, Any]]] = []
        self.count = 0

    def __call__(self, *args: Any) -> torch.Tensor:
        self.count += 1
        if len(self.calls) < MAX_CALLS:
            self.calls.append([_argument(a) for a in args])
        return self.f(*args)


def derivative(student: Callable, case: Case) -> Observation:
    """Two calls in a row (a gradient kept from one call to the next shows), each with its own f."""
    f = functions.build(case["function"])
    attempts = []
    for _ in range(2):
        watched = Watched(f)
        returned, error = attempt(student, watched, case["x"])
        attempts.append({"returned": returned, "error": error, "calls": watched.calls, "count": watched.count})
        if error is not None:
            break
    return {"attempts": attempts}


def partials(student: Callable, case: Case) -> Observation:
    watched = Watched(functions.build(case["function"]))
    returned, error = attempt(student, watched, *case["values"])
    return {"returned": returned, "error": error, "calls": watched.calls, "count": watched.count}


def _parameter(p: torch.Tensor) -> dict[str, Any]:
    """A parameter after a step: its values, whether it is still a leaf that requires grad, its .grad."""
    grad = p.grad
    return {"value": p.detach().clone(), "leaf": bool(p.is_leaf), "requires_grad": bool(p.requires_grad),
            "grad": grad.detach().clone() if isinstance(grad, torch.Tensor) else None}


def gradient_step(student: Callable, case: Case) -> Observation:
    """``steps`` calls on the same W and b (leaves that require grad); what each left behind."""
    W = case["W"].clone().requires_grad_(True)
    b = case["b"].clone().requires_grad_(True)
    X, y = case["X"].clone(), case["y"].clone()
    steps = []
    for _ in range(int(case["steps"])):
        returned, error = attempt(student, W, b, X, y, case["lr"])
        steps.append({"returned": returned, "error": error, "W": _parameter(W), "b": _parameter(b),
                      "data_unchanged": bool(torch.equal(X, case["X"]) and torch.equal(y, case["y"]))})
        if error is not None:
            break
    return {"steps": steps}


#: Added to the case's seed before a call: a function that forgets torch.manual_seed(seed) starts elsewhere.
UNSEEDED_OFFSET = 7919


def train_manual(student: Callable, case: Case) -> Observation:
    with torch.random.fork_rng(devices=[]):  # the notebook's own random stream is left as it was
        torch.manual_seed(case["seed"] + UNSEEDED_OFFSET)
        returned, error = attempt_seeding(student, case["X"].clone(), case["y"].clone(), case["lr"],
                                          case["epochs"], case["seed"])
    return {"returned": returned, "error": error}
