"""A ``meta`` tensor that carries values, so that predicting on ``meta`` works as on a GPU.

``meta`` tensors have shapes but no values: a model moved there computes shapes only,
and ``.cpu()`` on its output fails. In ``predict_on_device``'s run on ``meta`` the batch
handed to the student is a :class:`MetaWithValues`: moving it, slicing it, stacking it
keeps its CPU values alongside; a forward pass of the model (see
:func:`outputs_with_values`) gives an output carrying the values the same pass computes
on the CPU; and copying it to the CPU (``.cpu()``, ``.to("cpu")``, ``.item()``,
``.tolist()``, ``.numpy()``) gives those values. So a correct function works on ``meta``
as on a GPU, and a prediction left on the device stays a ``meta`` tensor that the check sees.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.utils import _pytree


def plain(t: torch.Tensor) -> torch.Tensor:
    """The same tensor as a plain ``torch.Tensor`` (no subclass)."""
    with torch._C.DisableTorchFunctionSubclass():
        return t.as_subclass(torch.Tensor)


def _device_type(t: torch.Tensor) -> str:
    with torch._C.DisableTorchFunctionSubclass():
        return t.device.type


def _copies_to_cpu(func: Callable, args: tuple, kwargs: dict) -> bool:
    """True for the calls that copy a tensor's values out to the CPU (.cpu(), .to("cpu"), ...)."""
    if func in (torch.Tensor.cpu, torch.Tensor.numpy, torch.Tensor.tolist, torch.Tensor.item):
        return True
    if func is not torch.Tensor.to:
        return False
    for arg in (*args[1:], *kwargs.values()):
        if isinstance(arg, str) and arg.split(":")[0] == "cpu":
            return True
        if isinstance(arg, torch.device) and arg.type == "cpu":
            return True
        if isinstance(arg, torch.Tensor) and _device_type(arg) == "cpu":
            return True
    return False


class MetaWithValues(torch.Tensor):
    """A tensor on ``meta`` (or on the CPU) that carries the CPU values it stands for (see the module)."""

    cpu_values: torch.Tensor | None

    @staticmethod
    def wrap(tensor: torch.Tensor, values: torch.Tensor | None) -> MetaWithValues:
        """``tensor`` (meta or cpu) carrying ``values``; a CPU tensor carries itself."""
        with torch._C.DisableTorchFunctionSubclass():
            base = tensor.detach().as_subclass(torch.Tensor)
            if base.device.type == "cpu":
                values = base
        wrapped = torch.Tensor._make_subclass(MetaWithValues, base, tensor.requires_grad)
        wrapped.cpu_values = values
        return wrapped

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        first = args[0] if args else None
        if func is torch.Tensor.__repr__:
            return repr(plain(first))
        if isinstance(first, MetaWithValues) and _device_type(first) == "meta" and _copies_to_cpu(func, args, kwargs):
            if first.cpu_values is None:
                raise NotImplementedError("the grader lost track of this tensor's values on the meta device")
            return func(first.cpu_values, *args[1:], **kwargs)
        with torch._C.DisableTorchFunctionSubclass():
            result = func(*args, **kwargs)
        if func is torch.Tensor.to:
            return _track(result, _values_of(first))  # moved: the values stay what they were
        if isinstance(result, (tuple, list)) and all(isinstance(r, torch.Tensor) for r in result):
            values = _apply_to_values(func, args, kwargs, many=True)  # unbind, split, iteration...
            parts = [_track(r, None if values is None else v) for r, v in zip(result, values or result, strict=True)]
            return type(result)(parts)
        if isinstance(result, torch.Tensor) and _device_type(result) == "meta":
            return _track(result, _apply_to_values(func, args, kwargs))
        return _track(result, None)


def _track(result: Any, values: torch.Tensor | None) -> Any:
    """``result`` as a :class:`MetaWithValues` when it is a meta or CPU tensor; anything else as it is."""
    if not isinstance(result, torch.Tensor) or isinstance(result, MetaWithValues):
        return result
    if _device_type(result) not in ("meta", "cpu"):
        return result
    return MetaWithValues.wrap(result, values)


def _values_of(value: Any) -> Any:
    """What stands for ``value`` on the CPU: its carried values, or itself."""
    return value.cpu_values if isinstance(value, MetaWithValues) else value


def _on_cpu(value: Any) -> Any:
    """``value`` as the same operation on the CPU sees it: carried values, and the CPU for ``meta``."""
    if isinstance(value, MetaWithValues):
        return value.cpu_values
    if isinstance(value, torch.device) and value.type == "meta":
        return torch.device("cpu")
    if isinstance(value, str) and value == "meta":
        return "cpu"
    return value


def _apply_to_values(func: Callable, args: tuple, kwargs: dict, many: bool = False) -> Any:
    """The operation done on the values instead of the meta tensors, or None when it cannot be."""
    try:
        inner_args, inner_kwargs = _pytree.tree_map(_on_cpu, (args, kwargs))
        with torch._C.DisableTorchFunctionSubclass():
            values = func(*inner_args, **inner_kwargs)
            if many:
                return values if all(v.device.type == "cpu" for v in values) else None
            return values if isinstance(values, torch.Tensor) and values.device.type == "cpu" else None
    except Exception:  # noqa: BLE001 - an operation the values cannot follow (a meta weight, a None)
        return None


@contextlib.contextmanager
def outputs_with_values(model: nn.Module, twin: nn.Module, given: torch.Tensor) -> Iterator[None]:
    """While active, a forward pass of ``model`` on ``meta`` returns a :class:`MetaWithValues`.

    ``twin`` is a copy of ``model`` on the CPU, taken before the student's call. The
    output's values are what the twin computes from the input's values, in the mode
    ``model`` is in at that moment: what the same forward pass gives on a real device.
    An input that reached ``meta`` by a road the values cannot follow (``torch.as_tensor(X,
    device=...)`` makes a new tensor) and has the shape and dtype of the batch ``given``
    stands for it; the run on the CPU checks the numbers anyway.
    """

    def hook(module: nn.Module, args: tuple, output: Any) -> Any:
        if not (isinstance(output, torch.Tensor) and _device_type(output) == "meta" and args):
            return output
        first = args[0]
        values = _values_of(first) if isinstance(first, MetaWithValues) else None
        if (values is None and isinstance(first, torch.Tensor) and _device_type(first) == "meta"
                and first.shape == given.shape and first.dtype == given.dtype):
            values = given
        if values is not None:
            twin.train(module.training)
            with torch.no_grad():
                values = twin(values)
        return MetaWithValues.wrap(output, values)

    handle = model.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()
