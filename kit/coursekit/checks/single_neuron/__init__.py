"""Checks of 03_single_neuron, as grade cells call them: one neuron built, trained, asked, and outgrown.

Each exercise's :class:`~coursekit.checks.engine.Check` joins its ``cases`` (hidden
inputs), ``observe`` (what running the student's function shows) and ``diagnose``
(the verdict and its message); expectations (the reference run from the same start,
and the runs of known mistakes) come from the instructor's judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from coursekit.checks import engine
from coursekit.checks.engine import Check
from coursekit.checks.single_neuron import cases, diagnose, diagnose_training, observe

BUILD_MODEL = Check("single_neuron.build_model", observe.build_model, diagnose.build_model, cases.build_model,
                    diagnose.describe_build_model)
TRAIN_MODEL = Check("single_neuron.train_model", observe.train_model, diagnose_training.train_model, cases.train_model,
                    diagnose.describe_train_model)
PREDICT_MINUTES = Check("single_neuron.predict_minutes", observe.predict_minutes, diagnose.predict_minutes,
                        cases.predict_minutes, diagnose.describe_predict_minutes)
TAKE_ORDER = Check("single_neuron.take_order", observe.take_order, diagnose.take_order, cases.take_order,
                   diagnose.describe_take_order)
BUILD_NONLINEAR_MODEL = Check("single_neuron.build_nonlinear_model", observe.build_nonlinear_model,
                              diagnose.build_nonlinear_model, cases.build_nonlinear_model,
                              diagnose.describe_build_nonlinear_model)

#: hidden call name -> its check (the judge reads this).
HIDDEN = {"build_model_hidden": BUILD_MODEL, "train_model_hidden": TRAIN_MODEL,
          "predict_minutes_hidden": PREDICT_MINUTES, "take_order_hidden": TAKE_ORDER,
          "build_nonlinear_model_hidden": BUILD_NONLINEAR_MODEL}

#: The probe weights of the visible nonlinear tests come from this seed.
_VISIBLE_PROBE_SEED = 2024


def build_model(student: Callable, seed: int = 0) -> None:
    """``student()`` is ``nn.Sequential(nn.Linear(1, 1))`` with PyTorch's own random start, new at each call."""
    engine.visible(BUILD_MODEL, student, {"seed": int(seed)})


def train_model(student: Callable, X: torch.Tensor, y: torch.Tensor, lr: float | None = None,
                epochs: int | None = None, seed: int = 0) -> None:
    """``student(model, X, y, lr, epochs)`` follows the reference run from the same start.

    The model is one neuron whose start is drawn from ``seed``; ``lr`` and ``epochs`` of
    None mean "call with the defaults" (0.01 and 500).
    """
    engine.visible(TRAIN_MODEL, student, {"X": X, "y": y, "lr": lr, "epochs": epochs,
                                          "start": cases.neuron_start(seed)})


def train_model_defaults(student: Callable, X: torch.Tensor, y: torch.Tensor, seed: int = 0) -> None:
    """``student(model, X, y)`` trains with lr=0.01 for 500 epochs.

    When the signature declares ``lr=0.01`` and ``epochs=500``, Python binds the call
    without them exactly as the call with them, and the runs with given arguments show
    that both are used; the 500 epochs need not be run. Any other signature (defaults of
    None, ``**kwargs``, other numbers) is judged by running the call with the defaults.
    """
    engine.visible(TRAIN_MODEL, student, {"X": X, "y": y, "lr": None, "epochs": None,
                                          "start": cases.neuron_start(seed), "defaults": True})


def _line_case(model: nn.Module | tuple[float, float]) -> dict[str, float]:
    weight, bias = model if isinstance(model, tuple) else cases.line_of(model)
    return {"weight": weight, "bias": bias}


def predict_minutes(student: Callable, model: nn.Module, miles: float) -> None:
    """``student(model, miles)``: a float from one forward pass of a [1, 1] batch, eval mode, no grad.

    ``model`` is a one-neuron line (such as ``line_model(5.1, 11.1)``): the test gives the
    student a copy of it.
    """
    engine.visible(PREDICT_MINUTES, student, {**_line_case(model), "dropout": 0.0, "miles": miles})


def take_order(student: Callable, model: nn.Module, miles: float, promise: float | None = None) -> None:
    """``student(model, miles[, promise])`` is True exactly when the prediction is within the promise.

    ``predict_minutes`` is replaced, while the test runs, by a stand-in that answers the
    line's minutes for ``miles``: a mistake in ``predict_minutes`` costs that exercise only.
    """
    line = _line_case(model)
    minutes = line["weight"] * float(miles) + line["bias"]
    engine.visible(TAKE_ORDER, student, {**line, "miles": miles, "promise": promise, "minutes": minutes})


def nonlinear_structure(student: Callable, hidden: int | None = None) -> None:
    """``student(hidden)`` computes Linear(1, hidden) → ReLU → Linear(hidden, 1)."""
    size = 16 if hidden is None else hidden
    engine.visible(BUILD_NONLINEAR_MODEL, student, {"hidden": hidden, "seeds": [0],
                                                    "probe": cases.network_probe(size, _VISIBLE_PROBE_SEED)})


def build_nonlinear_model(student: Callable, X: torch.Tensor, y: torch.Tensor, hidden: int | None = None) -> None:
    """Structure, then training by the course's recipe from the network's own starts: it must beat the
    best straight line by a wide margin (a further start is tried when one stays a line)."""
    size = 16 if hidden is None else hidden
    engine.visible(BUILD_NONLINEAR_MODEL, student, {"hidden": hidden, "seeds": list(cases.NONLINEAR_SEEDS),
                                                    "probe": cases.network_probe(size, _VISIBLE_PROBE_SEED),
                                                    "X": X, "y": y})


def build_model_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(BUILD_MODEL, "single_neuron.build_model_hidden", student, list(seeds))


def train_model_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(TRAIN_MODEL, "single_neuron.train_model_hidden", student, list(seeds))


def predict_minutes_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(PREDICT_MINUTES, "single_neuron.predict_minutes_hidden", student, list(seeds))


def take_order_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(TAKE_ORDER, "single_neuron.take_order_hidden", student, list(seeds))


def build_nonlinear_model_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(BUILD_NONLINEAR_MODEL, "single_neuron.build_nonlinear_model_hidden", student, list(seeds))
