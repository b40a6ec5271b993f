"""Notice gradients that pile up because nobody zeroed them."""

from __future__ import annotations

from collections.abc import Iterable

import torch


class GradientWatch:
    """Hooks on parameters that look at ``.grad`` just before each backward pass adds to it.

    A backward pass that finds a non-zero ``.grad`` waiting means the previous
    gradient was never cleared (no ``zero_grad()``, no ``grad = None``, no
    ``grad.zero_()``): the new gradient will be added to the old one. Any way
    of clearing counts, so the check does not depend on the student's style.
    Use as a context manager; the hooks are removed on exit.
    """

    def __init__(self, parameters: Iterable[torch.Tensor]) -> None:
        self.parameters = [p for p in parameters if p.requires_grad]
        self.backward_passes = 0
        self.piled_up = 0
        self._handles: list = []
        self._seen_in_pass: set[int] = set()

    def __enter__(self) -> GradientWatch:
        for index, parameter in enumerate(self.parameters):
            self._handles.append(parameter.register_hook(self._hook(index, parameter)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, index: int, parameter: torch.Tensor):
        def look(grad: torch.Tensor) -> None:
            # The first parameter hook of a backward pass counts the pass.
            if index in self._seen_in_pass or not self._seen_in_pass:
                self._seen_in_pass = set()
                self.backward_passes += 1
            self._seen_in_pass.add(index)
            old = parameter.grad
            if old is not None and bool(old.detach().abs().sum() != 0):
                self.piled_up += 1
            return None

        return look

    @property
    def always_cleared(self) -> bool:
        """True when every backward pass started from cleared gradients."""
        return self.piled_up == 0
