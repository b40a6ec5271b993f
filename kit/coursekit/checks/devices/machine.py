"""What the device checks make a machine look like: its accelerators, real or pretended.

The checks pass on a grader without a GPU and use one when there is one:

- :func:`pretend` patches ``torch.cuda.is_available`` and ``torch.backends.mps.is_available``
  (and what honest code may ask about a GPU it believes in), restored on exit whatever happens;
- the ``meta`` device has shapes and dtypes but no values: moving something there costs
  nothing and shows, on any machine, whether it really moved;
- :func:`write_checkpoint` can stamp a checkpoint with a device this machine lacks, so that a
  load without ``map_location`` fails here as it would on a laptop;
- :func:`meta_loads` lets a checkpoint read onto ``meta`` be copied into a model on the CPU,
  as a checkpoint read onto a GPU would be (see there);
- :func:`accelerators` adds a real GPU to the devices the checks use, when there is one.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator, Mapping
from typing import Any
from unittest import mock

import torch
from torch import nn

META = torch.device("meta")
CPU = torch.device("cpu")


def accelerators() -> list[torch.device]:
    """The real GPUs the checks use besides ``meta`` and the CPU: cuda when this machine has it."""
    return [torch.device("cuda")] if torch.cuda.is_available() else []


def devices_here() -> list[torch.device]:
    """Where the checks move things on this machine: meta, the CPU, and a GPU when there is one."""
    return [META, CPU, *accelerators()]


def missing_device() -> str:
    """A device this machine does not have, to stamp a checkpoint as if written there.

    ``cuda:0`` without a GPU; with GPUs, the index after the last one (``cuda:1`` on a one-GPU machine).
    """
    return f"cuda:{torch.cuda.device_count() if torch.cuda.is_available() else 0}"


def same_place(found: str, wanted: str) -> bool:
    """True when the device named ``found`` is ``wanted`` (cuda and cuda:0 count as the same place)."""
    try:
        f, w = torch.device(found), torch.device(wanted)
    except (RuntimeError, TypeError, ValueError):
        return False
    return f.type == w.type and (w.index is None or f.index in (None, w.index))


@contextlib.contextmanager
def pretend(cuda: bool, mps: bool) -> Iterator[None]:
    """torch reports the given accelerators while active; leaving restores it.

    Besides the two ``is_available`` functions, what honest code may ask about a GPU it
    believes in (its name, its count, the current index) answers without touching CUDA.
    """
    accelerator = torch.device("cuda") if cuda else torch.device("mps") if mps else None
    patches = [
        mock.patch("torch.cuda.is_available", return_value=cuda),
        mock.patch("torch.backends.mps.is_available", return_value=mps),
        mock.patch("torch.backends.mps.is_built", return_value=True),
        mock.patch("torch.cuda.device_count", return_value=int(cuda)),
        mock.patch("torch.cuda.current_device", return_value=0),
        mock.patch("torch.cuda.get_device_name", return_value="the grader's pretend GPU"),
    ]
    if hasattr(torch, "accelerator"):
        patches += [
            mock.patch("torch.accelerator.is_available", return_value=accelerator is not None),
            mock.patch("torch.accelerator.current_accelerator", return_value=accelerator),
        ]
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


def write_checkpoint(state: Mapping[str, torch.Tensor], path: str, written_on: str = "cpu") -> None:
    """A checkpoint file of ``state`` (names -> tensors) whose tensors were on ``written_on``.

    A device this machine has gets the tensors moved there first; any other (see
    :func:`missing_device`) is stamped into the file, which then loads only with ``map_location``.
    """
    here = {str(d) for d in (CPU, *accelerators())}
    if written_on in here:
        torch.save({name: t.detach().clone().to(written_on) for name, t in state.items()}, path)
        return
    with mock.patch("torch.serialization.location_tag", return_value=written_on):
        torch.save({name: t.detach().cpu().clone() for name, t in state.items()}, path)


@contextlib.contextmanager
def meta_loads(values: Mapping[str, torch.Tensor]) -> Iterator[None]:
    """While active, a ``meta`` tensor loaded into a model that is *not* on meta copies ``values``.

    A checkpoint read with ``map_location="meta"`` has no numbers. Loading it into a
    model on the CPU (``model.load_state_dict(state)``, then ``model.to(device)``) is
    right on a real GPU, where the copy brings the numbers back; on ``meta`` PyTorch
    refuses it ("Cannot copy out of meta tensor"). Here such a copy gets the numbers
    the checkpoint was written with, so every correct order of the steps works on
    ``meta``, and where the model ends up is what the check reads.
    """
    original = nn.Module.load_state_dict

    def load_state_dict(self: nn.Module, state_dict: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        assign = kwargs.get("assign", args[1] if len(args) > 1 else False)
        if not assign and isinstance(state_dict, dict):
            own = self.state_dict(keep_vars=True)
            changed = copy.copy(state_dict)
            for name, t in state_dict.items():
                target, known = own.get(name), values.get(name)
                if (isinstance(t, torch.Tensor) and t.is_meta and isinstance(target, torch.Tensor)
                        and not target.is_meta and isinstance(known, torch.Tensor) and known.shape == t.shape):
                    changed[name] = known.to(t.dtype)
            state_dict = changed
        return original(self, state_dict, *args, **kwargs)

    with mock.patch.object(nn.Module, "load_state_dict", load_state_dict), warnings.catch_warnings():
        # Numbers copied into a model already on meta go nowhere; on a real device they arrive.
        warnings.filterwarnings("ignore", message=".*copying from a non-meta parameter.*")
        yield
