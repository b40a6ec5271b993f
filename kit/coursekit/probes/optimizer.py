"""An optimizer wrapper that records the calls made on it."""

from __future__ import annotations

from typing import Any

import torch


class RecordingOptimizer:
    """Wraps a real optimizer; every ``zero_grad`` and ``step`` is appended to ``events``.

    It behaves like the optimizer it wraps (``param_groups``, ``state_dict``...)
    so student code cannot tell the difference, and ``events`` lets a check
    ask "was zero_grad called before every step?" without reading source code.
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self._optimizer = optimizer
        self.events: list[str] = []

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.events.append("zero_grad")
        self._optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure: Any = None) -> Any:
        self.events.append("step")
        return self._optimizer.step(closure)

    @property
    def steps(self) -> int:
        """How many times ``step`` was called."""
        return self.events.count("step")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._optimizer, name)
