"""Record the conditions of every forward pass of a module."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ForwardCall:
    """What was true when the module's ``forward`` ran."""

    grad_enabled: bool
    training: bool
    input_devices: tuple[str, ...]
    parameter_devices: tuple[str, ...]
    batch_shapes: tuple[tuple[int, ...], ...]


class ForwardRecorder:
    """A forward pre-hook on ``module`` that appends a :class:`ForwardCall` per call.

    Checks then ask "did prediction run under torch.no_grad()?", "was the model
    in eval mode?", "were the inputs on the same device as the weights?".
    Use as a context manager; the hook is removed on exit.
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.calls: list[ForwardCall] = []
        self._handle = None

    def __enter__(self) -> ForwardRecorder:
        self._handle = self.module.register_forward_pre_hook(self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _record(self, module: nn.Module, args: tuple) -> None:
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        self.calls.append(
            ForwardCall(
                grad_enabled=torch.is_grad_enabled(),
                training=module.training,
                input_devices=tuple(str(t.device) for t in tensors),
                parameter_devices=tuple(sorted({str(p.device) for p in module.parameters()})),
                batch_shapes=tuple(tuple(t.shape) for t in tensors),
            )
        )
