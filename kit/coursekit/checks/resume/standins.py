"""Stand-ins for save_training_state and load_training_state while train_with_resume is tested.

The student's ``train_with_resume`` calls the two functions by name; its test binds these
in their place (so a mistake in those cells costs their own points only). They answer
nothing about the exercises: the save *records* what it was handed (epoch, model state,
the generator's fingerprint) and leaves a placeholder file, and the load records its call
and puts a *scripted* state in place (the case's made-up "state after k epochs", never the
one saved), then returns the case's k. The judge knows from the reference what a correct
``train_with_resume`` does with them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from coursekit.checks.resume.setups import model_snapshot, sha

_MISSING = object()
#: What the placeholder file holds: not a checkpoint (the stand-in load never reads it).
PLACEHOLDER = b"a placeholder left by the test's stand-in save_training_state\n"


class UnexpectedLoad(RuntimeError):
    """load_training_state was called in a run that has no checkpoint of the test's to resume from."""


def _epoch(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return {"type": type(value).__name__, "repr": repr(value)[:80]}
    return value


class StandIns:
    """The two stand-ins of one run, and what they saw.

    ``resume``: the scripted state the load puts in place, or None for a run that starts
    fresh (a load then raises FileNotFoundError when no file is there, as torch.load would).
    """

    def __init__(self, path: str, model: nn.Module, optimizer: Any, resume: dict[str, Any] | None) -> None:
        self.path, self.model, self.optimizer, self.resume = path, model, optimizer, resume
        self.saves: list[dict[str, Any]] = []
        self.loads: list[dict[str, Any]] = []

    def _same_path(self, path: Any) -> bool:
        try:
            return os.path.abspath(os.fspath(path)) == os.path.abspath(self.path)
        except TypeError:
            return False

    def save_training_state(self, path: Any, model: Any, optimizer: Any, epoch: Any, generator: Any) -> None:
        """Record the call; leave a placeholder file at ``path``."""
        self.saves.append({
            "path_ok": self._same_path(path),
            "epoch": _epoch(epoch),
            "same_model": model is self.model,
            "same_optimizer": optimizer is self.optimizer,
            "generator": sha(generator.get_state()) if isinstance(generator, torch.Generator) else None,
            "state": model_snapshot(model) if isinstance(model, nn.Module) else None,
        })
        try:
            with open(os.fspath(path), "wb") as out:
                out.write(PLACEHOLDER)
        except (OSError, TypeError):
            pass

    def load_training_state(self, path: Any, model: Any, optimizer: Any, generator: Any, device: Any) -> int:
        """Record the call; put the scripted state in place and return its epoch."""
        try:
            existed = os.path.exists(os.fspath(path))
        except TypeError:
            existed = False
        self.loads.append({
            "path_ok": self._same_path(path),
            "file_existed": existed,
            "same_model": model is self.model,
            "same_optimizer": optimizer is self.optimizer,
            "generator_ok": isinstance(generator, torch.Generator),
            "device": str(device)[:40],
        })
        if not existed:
            raise FileNotFoundError(f"[Errno 2] No such file or directory: {str(path)[:200]!r}")
        if self.resume is None:
            raise UnexpectedLoad("load_training_state was called in the middle of a run that started fresh")
        if not isinstance(model, nn.Module) or not hasattr(optimizer, "load_state_dict"):
            raise TypeError("load_training_state(path, model, optimizer, generator, device): "
                            "the model and the optimizer come second and third")
        if not isinstance(generator, torch.Generator):
            raise TypeError("load_training_state(path, model, optimizer, generator, device): the fourth "
                            f"argument must be a torch.Generator, not {type(generator).__name__}")
        scripted = self.resume
        model.to(device)
        with torch.no_grad():
            for name, value in model.state_dict().items():
                value.copy_(scripted["model"][name])
        optimizer.load_state_dict(scripted["optimizer"])
        generator.set_state(scripted["generator"])
        model.train()
        return scripted["epoch"]


@contextmanager
def bound(student: Callable, **names: Any) -> Iterator[None]:
    """Bind ``names`` in the namespace ``student`` was defined in, and put it back afterwards.

    A notebook function looks its helpers up by global name when it runs, so the student's
    ``train_with_resume`` then calls the stand-ins instead of the notebook's own functions.
    """
    namespace = getattr(student, "__globals__", None)
    if not isinstance(namespace, dict):
        yield
        return
    saved = {name: namespace.get(name, _MISSING) for name in names}
    namespace.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value
