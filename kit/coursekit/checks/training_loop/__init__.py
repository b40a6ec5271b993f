"""Checks of 04_training_loop, as grade cells call them: datasets, loaders and the training loop.

Each exercise's :class:`~coursekit.checks.engine.Check` joins its ``cases`` (hidden inputs),
``observe`` (what running the student's function shows, in the kernel) and a verdict
(``diagnose`` for the data exercises, ``loop`` for the loop); expectations come from the
instructor's judge. The only student code a check runs is the function under test: where
that function calls another exercise's function by name, the check puts a stand-in there
(``standins``), so one mistake costs one cell:

- ``make_loaders`` gets PyTorch's ``TensorDataset`` as ``DeliveryDataset`` (a library class
  that serves the same pairs (X[i], y[i])),
- ``fit`` gets recording stand-ins of ``train_one_epoch`` and ``evaluate`` that return
  losses scripted by the case; the judge knows what a correct ``fit`` does with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from coursekit.checks import engine
from coursekit.checks.engine import Check
from coursekit.checks.training_loop import cases, diagnose, loop, observe

DELIVERY_DATASET = Check("training_loop.delivery_dataset", observe.dataset, diagnose.dataset,
                         cases.delivery_dataset, diagnose.describe_case)
MAKE_LOADERS = Check("training_loop.make_loaders", observe.loaders, diagnose.loaders, cases.make_loaders,
                     diagnose.describe_case)
TRAIN_ONE_EPOCH = Check("training_loop.train_one_epoch", observe.train_one_epoch, loop.train_one_epoch,
                        cases.train_one_epoch, diagnose.describe_case)
EVALUATE = Check("training_loop.evaluate", observe.evaluate, loop.evaluate, cases.evaluate, diagnose.describe_case)
FIT = Check("training_loop.fit", observe.fit, loop.fit, cases.fit, diagnose.describe_case)

#: hidden call name -> its check (the judge reads this).
HIDDEN = {"delivery_dataset_hidden": DELIVERY_DATASET, "make_loaders_hidden": MAKE_LOADERS,
          "train_one_epoch_hidden": TRAIN_ONE_EPOCH, "evaluate_hidden": EVALUATE, "fit_hidden": FIT}


def delivery_dataset(student_cls: Callable, X: torch.Tensor, y: torch.Tensor) -> None:
    """``student_cls(X, y)`` has N items; item i is (X[i], y[i]); a DataLoader batches it as [B, F], [B, 1]."""
    engine.visible(DELIVERY_DATASET, student_cls, cases.dataset_case(X, y))


def make_loaders(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32,
                 val_fraction: float = 0.2, seed: int = 0) -> None:
    """A disjoint, complete, seeded split of the asked size; training shuffles, validation does not."""
    engine.visible(MAKE_LOADERS, student, cases.loaders_case(X, y, batch_size, val_fraction, seed))


def train_one_epoch(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32,
                    lr: float = 0.001, seed: int = 0, hidden: int = 0) -> None:
    """One epoch from a fixed start and batch order matches the reference epoch, step for step."""
    engine.visible(TRAIN_ONE_EPOCH, student, cases.epoch_case(X, y, batch_size, lr, seed, hidden))


def train_one_epoch_moves_batches(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32) -> None:
    """With the model on another device than the CPU, every batch must be moved to ``device``."""
    engine.visible(TRAIN_ONE_EPOCH, student, cases.device_case(X, y, batch_size, "train_one_epoch"))


def evaluate(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32, seed: int = 0) -> None:
    """Eval mode, no autograd, no change to the model, the reference's mean batch loss, twice over."""
    engine.visible(EVALUATE, student, cases.evaluate_case(X, y, batch_size, seed))


def evaluate_moves_batches(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32) -> None:
    """With the model on another device than the CPU, every batch must be moved to ``device``."""
    engine.visible(EVALUATE, student, cases.device_case(X, y, batch_size, "evaluate"))


def fit(student: Callable, X: torch.Tensor, y: torch.Tensor, epochs: int = 5, batch_size: int = 32,
        seed: int = 0) -> None:
    """``epochs`` rounds of train_one_epoch then evaluate (stand-ins), arguments passed on, losses kept."""
    engine.visible(FIT, student, cases.fit_case(X, y, epochs, batch_size, seed, "cpu"))


def fit_uses_device(student: Callable, X: torch.Tensor, y: torch.Tensor, epochs: int = 2,
                    batch_size: int = 32) -> None:
    """``fit`` hands its ``device`` on to both helpers."""
    engine.visible(FIT, student, cases.fit_case(X, y, epochs, batch_size, 1, cases.OTHER_DEVICE))


def delivery_dataset_hidden(student_cls: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(DELIVERY_DATASET, "training_loop.delivery_dataset_hidden", student_cls, list(seeds))


def make_loaders_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(MAKE_LOADERS, "training_loop.make_loaders_hidden", student, list(seeds))


def train_one_epoch_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(TRAIN_ONE_EPOCH, "training_loop.train_one_epoch_hidden", student, list(seeds))


def evaluate_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(EVALUATE, "training_loop.evaluate_hidden", student, list(seeds))


def fit_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(FIT, "training_loop.fit_hidden", student, list(seeds))
