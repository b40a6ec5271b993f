"""Stand-ins that 04_training_loop's checks put where a student's function expects other code.

None of them computes an answer: the fit stand-ins record how they are called and return
losses scripted by the case; the device loss records devices and returns a constant.
The judge uses the same stand-ins with the answer key, so it knows what a correct
function does with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

_MISSING = object()
#: Most calls a log keeps (a loop that never ends is stopped by the cell's time limit).
MAX_CALLS = 200


@contextmanager
def names_bound(student: Callable, **names: Any) -> Iterator[None]:
    """Bind ``names`` in the namespace ``student`` was defined in while the block runs, then put it back.

    A notebook function looks its helpers up by global name when it runs, so this makes
    the student's ``fit`` call the stand-ins instead of the student's own ``train_one_epoch``
    and ``evaluate``: a mistake in those cells then costs their own points, not ``fit``'s.
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


def device_name(device: Any) -> str:
    """``"cpu"``, ``"cuda:0"``...: how a device argument reads, whatever form it was given in."""
    try:
        return str(torch.device(device))
    except (TypeError, RuntimeError, ValueError):
        return f"<{type(device).__name__}>"[:60]


class FitHelpers:
    """Recording stand-ins of ``train_one_epoch`` and ``evaluate`` for fit's test.

    Each call is logged as plain data (which helper; whether it got the model, loss and
    optimizer that fit was given; which loader; which device), and returns the next loss
    of its script.
    """

    def __init__(self, model: Any, train_loader: Any, val_loader: Any, loss_fn: Any, optimizer: Any,
                 train_script: list[float], val_script: list[float]) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.train_loader, self.val_loader = train_loader, val_loader
        self.train_script, self.val_script = list(train_script), list(val_script)
        self.calls: list[dict[str, Any]] = []

    def _loader(self, loader: Any) -> str:
        if loader is self.train_loader:
            return "train"
        if loader is self.val_loader:
            return "val"
        return f"<{type(loader).__name__}>"[:60]

    def _log(self, helper: str, model: Any, loader: Any, loss_fn: Any, optimizer: Any, device: Any) -> int:
        done = sum(1 for c in self.calls if c["helper"] == helper)
        if len(self.calls) < MAX_CALLS:
            entry = {"helper": helper, "model": model is self.model, "loader": self._loader(loader),
                     "loss_fn": loss_fn is self.loss_fn, "device": device_name(device)}
            if optimizer is not _MISSING:
                entry["optimizer"] = optimizer is self.optimizer
            self.calls.append(entry)
        return done

    @staticmethod
    def _next(script: list[float], done: int) -> float:
        return script[done] if done < len(script) else 1000.0 + done

    def train_one_epoch(self, model: Any, loader: Any, loss_fn: Any, optimizer: Any, device: Any) -> float:
        """A stand-in: records the call, returns the next scripted training loss."""
        return self._next(self.train_script, self._log("train_one_epoch", model, loader, loss_fn, optimizer, device))

    def evaluate(self, model: Any, loader: Any, loss_fn: Any, device: Any) -> float:
        """A stand-in: records the call, returns the next scripted validation loss."""
        return self._next(self.val_script, self._log("evaluate", model, loader, loss_fn, _MISSING, device))


class DeviceLoss:
    """A loss for a model on a device without values: notes the devices it gets, returns a CPU number.

    Tensors on that device have shapes but no values, so a real loss on them could not
    become a float. This one lets a correct loop run to the end while it records whether
    the predictions and the targets both reached the device.
    """

    def __init__(self) -> None:
        self.devices: list[tuple[str, str]] = []

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if len(self.devices) < MAX_CALLS:
            self.devices.append((str(getattr(pred, "device", "?")), str(getattr(target, "device", "?"))))
        return torch.ones((), requires_grad=True) * 1.0
