"""Checks of 02_autograd, as grade cells call them: slopes by autograd, and gradient descent by hand.

``derivative`` and ``partials`` are given functions the tests build themselves (named
examples in visible tests, fresh ones in hidden tests) and are watched as they call
them: the slope must come from autograd at the point itself. ``gradient_step`` and
``train_manual`` are followed step by step against the reference from the same start;
a wrong step is named by the known mistake it matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from coursekit.checks import engine
from coursekit.checks.autograd import cases, diagnose, diagnose_descent, functions, observe
from coursekit.checks.engine import Check

DERIVATIVE = Check("autograd.derivative", observe.derivative, diagnose.derivative, cases.derivative,
                   diagnose.describe_derivative)
PARTIALS = Check("autograd.partials", observe.partials, diagnose.partials, cases.partials,
                 diagnose.describe_partials)
GRADIENT_STEP = Check("autograd.gradient_step", observe.gradient_step, diagnose_descent.gradient_step,
                      cases.gradient_step, diagnose_descent.describe_gradient_step)
TRAIN_MANUAL = Check("autograd.train_manual", observe.train_manual, diagnose_descent.train_manual,
                     cases.train_manual, diagnose_descent.describe_train_manual)

#: hidden call name -> its check (the judge reads this).
HIDDEN = {"derivative_hidden": DERIVATIVE, "partials_hidden": PARTIALS,
          "gradient_step_hidden": GRADIENT_STEP, "train_manual_hidden": TRAIN_MANUAL}

#: The example functions visible tests can name (see ``functions.EXAMPLES``).
EXAMPLES = tuple(functions.EXAMPLES)


def derivative(student: Callable, f: str, x: float) -> None:
    """``student(f, x)`` for the example function named ``f``: its slope at x, by autograd, as a float."""
    engine.visible(DERIVATIVE, student, {"function": functions.example(f), "x": float(x)})


def partials(student: Callable, f: str, values: Iterable[float]) -> None:
    """``student(f, *values)`` for the example function named ``f``: a list of its partials, by autograd."""
    engine.visible(PARTIALS, student, {"function": functions.example(f), "values": [float(v) for v in values]})


def gradient_step(student: Callable, W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
                  lr: float, steps: int = 1) -> None:
    """``steps`` calls of ``student(W, b, X, y, lr)`` on the same W and b follow the reference's steps."""
    engine.visible(GRADIENT_STEP, student, {"W": W.detach().clone(), "b": b.detach().clone(), "X": X.clone(),
                                            "y": y.clone(), "lr": float(lr), "steps": int(steps)})


def train_manual(student: Callable, X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, seed: int) -> None:
    """``student(X, y, lr, epochs, seed)`` follows the reference's trajectory: same losses, same W and b."""
    engine.visible(TRAIN_MANUAL, student, {"X": X.clone(), "y": y.clone(), "lr": float(lr), "epochs": int(epochs),
                                           "seed": int(seed)})


def derivative_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(DERIVATIVE, "autograd.derivative_hidden", student, list(seeds))


def partials_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(PARTIALS, "autograd.partials_hidden", student, list(seeds))


def gradient_step_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(GRADIENT_STEP, "autograd.gradient_step_hidden", student, list(seeds))


def train_manual_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(TRAIN_MANUAL, "autograd.train_manual_hidden", student, list(seeds))
