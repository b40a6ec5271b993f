"""Checks of 06_resume, as grade cells call them: a checkpoint that holds a whole run, and a run that resumes.

- ``save_training_state``: the file is read back in the kernel with
  ``torch.load(path, weights_only=True)`` and reported as plain data;
- ``load_training_state``: a checkpoint written by the test (on the CPU, or as if on a GPU
  this machine lacks) is loaded into fresh objects, whose states are then reported, with
  the next shuffle of the generator and one more optimizer step;
- ``train_with_resume``: a fresh run, then a run that finds a checkpoint and resumes, with
  stand-ins for the notebook's save and load (see ``standins``); and a fresh run with the
  model on the ``meta`` device (shapes, no values), where a batch left behind shows.

Expectations are the same observations of the reference functions, made by the judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from coursekit.checks import engine
from coursekit.checks.engine import Check
from coursekit.checks.resume import cases, diagnose, diagnose_training, observe

SAVE_TRAINING_STATE = Check("resume.save_training_state", observe.save_training_state, diagnose.save_training_state,
                            cases.save_training_state, diagnose.describe_save)
LOAD_TRAINING_STATE = Check("resume.load_training_state", observe.load_training_state, diagnose.load_training_state,
                            cases.load_training_state, diagnose.describe_load)
TRAIN_WITH_RESUME = Check("resume.train_with_resume", observe.train_with_resume, diagnose_training.train_with_resume,
                          cases.train_with_resume, diagnose.describe_training)

#: hidden call name -> its check (the judge reads this).
HIDDEN = {"save_training_state_hidden": SAVE_TRAINING_STATE, "load_training_state_hidden": LOAD_TRAINING_STATE,
          "train_with_resume_hidden": TRAIN_WITH_RESUME}


def save_training_state(student: Callable, optimizer: str = "sgd", epoch: int = 3, seed: int = 0,
                        device: str = "cpu") -> None:
    """``student(path, model, optimizer, epoch, generator)`` writes the four parts, readable with weights_only=True."""
    engine.visible(SAVE_TRAINING_STATE, student, cases.saving(seed, optimizer, epoch, device=device))


def load_training_state(student: Callable, optimizer: str = "sgd", epoch: int = 3, seed: int = 0,
                        written_on: str | None = None, device: str = "cpu") -> None:
    """``student(path, model, optimizer, generator, device)`` restores all four parts and returns the epoch.

    ``written_on`` stamps the checkpoint's tensors with another device (a GPU this machine lacks).
    """
    engine.visible(LOAD_TRAINING_STATE, student,
                   cases.loading(seed, optimizer, epoch, written_on=written_on, device=device))


def train_with_resume(student: Callable, optimizer: str = "sgd", epochs: int = 5, resume_at: int = 2,
                      seed: int = 0, n: int = 32, batch_size: int = 8, device: str = "cpu") -> None:
    """A fresh run of ``epochs`` epochs, and a run stopped after ``resume_at`` epochs then resumed.

    With ``device="meta"``, one fresh run with the model on the meta device.
    """
    engine.visible(TRAIN_WITH_RESUME, student,
                   cases.training(seed, optimizer, epochs, resume_at, n, batch_size, device=device))


def save_training_state_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(SAVE_TRAINING_STATE, "resume.save_training_state_hidden", student, list(seeds))


def load_training_state_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(LOAD_TRAINING_STATE, "resume.load_training_state_hidden", student, list(seeds))


def train_with_resume_hidden(student: Callable, seeds: Iterable[int]) -> None:
    engine.hidden(TRAIN_WITH_RESUME, "resume.train_with_resume_hidden", student, list(seeds))
