"""Checks of 05_devices_checkpoints: devices chosen, batches and models moved, checkpoints saved and loaded.

They pass on a grader without a GPU and run on a GPU too when there is one:

- ``pick_device`` runs under every combination of a patched ``torch.cuda.is_available``
  and ``torch.backends.mps.is_available`` (restored afterwards, whatever happens);
- ``to_device`` and ``predict_on_device`` move to the ``meta`` device, which has
  shapes but no values, so a tensor left behind on the CPU shows; for predictions
  on ``meta`` the batch carries its CPU values along (:class:`MetaWithValues`), so
  that ``.cpu()`` works as it would on a GPU;
- checkpoints are also written as if on a GPU this machine lacks, so that a load
  without ``map_location`` fails here as it would on a laptop;
- every check also runs on CUDA when ``torch.cuda.is_available()``.
"""

from __future__ import annotations

import contextlib
import copy
import os
import random
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from unittest import mock

import torch
from torch import nn
from torch.utils import _pytree

from autograder.reference import devices as ref
from coursekit.checks.expect import CheckFailed, describe, expect, expect_close, expect_tensor, fail
from coursekit.data.delivery import fresh_bike_data
from coursekit.probes import ForwardRecorder

META = torch.device("meta")
CPU = torch.device("cpu")


def gpu_devices() -> list[torch.device]:
    """The real accelerators this machine has (cuda when available), for the checks to use too."""
    return [torch.device("cuda")] if torch.cuda.is_available() else []


def devices_here() -> list[torch.device]:
    """The devices the checks move things to on this machine: meta, the CPU, and a GPU when there is one."""
    return [META, CPU, *gpu_devices()]


def _same_place(found: torch.device, wanted: torch.device) -> bool:
    """True when ``found`` is ``wanted`` (cuda and cuda:0 count as the same place)."""
    return found.type == wanted.type and (wanted.index is None or found.index in (None, wanted.index))


def _call(student: Callable, call: str, *args: Any, cause: str | None = None) -> Any:
    """``student(*args)``; an error becomes a failure that says which call raised what."""
    try:
        return student(*args)
    except CheckFailed:
        raise
    except Exception as error:  # noqa: BLE001 - shown to the student
        fail(call, "no error", f"{type(error).__name__}: {str(error)[:300]}",
             cause or "read the error above: it names the line of your function that failed")


# ---------------------------------------------------------------- pick_device

def _pretend(cuda: bool, mps: bool) -> contextlib.ExitStack:
    """Patches that make torch report the given accelerators; leaving the stack restores them.

    Besides the two ``is_available`` functions, what honest code may ask about a GPU it
    believes in (its name, its count, the current index) answers without touching CUDA.
    """
    stack = contextlib.ExitStack()
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
    for patch in patches:
        stack.enter_context(patch)
    return stack


def _expected_device_type(cuda: bool, mps: bool) -> str:
    return "cuda" if cuda else "mps" if mps else "cpu"


def _pick_device_cause(found: str, cuda: bool, mps: bool) -> str:
    if cuda and found == "mps":
        return "the order matters: test torch.cuda.is_available() first, then mps, then fall back to cpu"
    if cuda:
        return "cuda was never considered: test torch.cuda.is_available() first"
    if mps and found == "cpu":
        return "mps (Apple silicon) was never considered: test torch.backends.mps.is_available() before cpu"
    if found in ("cuda", "mps"):
        return (f"{found} is not available here, yet it was picked: call the test with () "
                "(a function without () is always true), and pick a device only when its test says True")
    return "cuda when torch.cuda.is_available(), else mps when torch.backends.mps.is_available(), else cpu"


def _call_under(student: Callable, cuda: bool, mps: bool) -> tuple[str, Any]:
    call = f"pick_device() when cuda is {'' if cuda else 'not '}available and mps is {'' if mps else 'not '}available"
    with _pretend(cuda, mps):
        return call, _call(student, call)


def _judge(call: str, found: Any, cuda: bool, mps: bool) -> None:
    expect(isinstance(found, torch.device), call, "a torch.device", describe(found),
           "return torch.device('cuda'), torch.device('mps') or torch.device('cpu'), not a string or None")
    wanted = _expected_device_type(cuda, mps)
    expect(found.type == wanted, call, f"torch.device('{wanted}')", f"torch.device('{found}')",
           _pick_device_cause(found.type, cuda, mps))


def pick_device_under(student: Callable, cuda: bool, mps: bool) -> None:
    """``student()`` on a machine that reports cuda and mps as given."""
    _judge(*_call_under(student, cuda, mps), cuda, mps)


#: The order failures are reported in: the one that names the mistake best comes first.
_DIAGNOSIS_ORDER = [(True, False), (True, True), (False, True), (False, False)]


def pick_device(student: Callable) -> None:
    """``student()`` picks the device the reference picks on this machine."""
    found = _call(student, "pick_device()")
    wanted = ref.pick_device()
    expect(isinstance(found, torch.device), "pick_device()", "a torch.device", describe(found),
           "return torch.device(...), not a string or None")
    expect(found.type == wanted.type, "pick_device() on this machine", f"torch.device('{wanted}')",
           f"torch.device('{found}')",
           _pick_device_cause(found.type, torch.cuda.is_available(), torch.backends.mps.is_available()))


def pick_device_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Every combination of cuda and mps, in an order drawn from each seed (a cached answer fails)."""
    combinations = [(cuda, mps) for cuda in (False, True) for mps in (False, True)]
    for seed in seeds:
        order = list(combinations)
        random.Random(seed).shuffle(order)
        answers = {(cuda, mps): _call_under(student, cuda, mps) for cuda, mps in order}
        kinds = {found.type if isinstance(found, torch.device) else None for _, found in answers.values()}
        if len(kinds) == 1 and None not in kinds:
            call, found = answers[(False, False) if kinds == {"cuda"} else (True, False)]
            fail(call, "a device that depends on what the machine has",
                 f"torch.device('{found}') whatever the machine reports",
                 "decide inside pick_device, each time it is called, from torch.cuda.is_available() "
                 "and torch.backends.mps.is_available(); call them with () (a function without () is always true)")
        for cuda, mps in _DIAGNOSIS_ORDER:
            _judge(*answers[cuda, mps], cuda, mps)
    pick_device(student)


# ---------------------------------------------------------------- to_device

def nested_batches(seed: int) -> list[Any]:
    """Batches of the courier's kind built from ``seed``: a tensor, pairs, and nested containers."""
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    n = rng.randint(2, 9)

    def tensor() -> torch.Tensor:
        if rng.random() < 0.25:
            return torch.randint(0, 24, (n,), generator=g)  # hours of the day: int64
        return 10 * torch.rand(n, rng.randint(1, 3), generator=g)

    def tree(depth: int) -> Any:
        if depth == 0 or rng.random() < 0.2:
            return tensor()
        kind = rng.choice(("tuple", "list", "dict"))
        items = [tree(depth - 1) for _ in range(rng.randint(1, 3))]
        if kind == "dict":
            return {f"{rng.choice(('miles', 'hour', 'rain', 'minutes'))}_{i}": item for i, item in enumerate(items)}
        return tuple(items) if kind == "tuple" else items

    return [
        tensor(),
        (tensor(), tensor()),
        [(tensor(), tensor()), {"miles": tensor(), "extras": [tensor(), tensor()]}],
        {"features": {"miles": tensor(), "hour": tensor()}, "minutes": tensor(), "pair": (tensor(), tensor())},
        [tree(3), tree(3)],
    ]


def _snapshot(batch: Any) -> Any:
    """A copy of the batch with cloned tensors, kept apart from whatever the student does to it."""
    return _pytree.tree_map(lambda t: t.detach().clone() if isinstance(t, torch.Tensor) else t, batch)


def _compare(found: Any, original: Any, device: torch.device, where: str, depth: int) -> None:
    """``found`` has the structure of ``original`` and every tensor on ``device``, values unchanged."""
    what = f"to_device(batch, {str(device)!r}): {where}"
    if isinstance(original, torch.Tensor):
        found = expect_tensor(found, what, "a tensor of the batch came back as something else")
        if not _same_place(found.device, device):
            cause = ("tensor.to(device) returns a moved copy and leaves the original where it was: "
                     "return (or store) what .to(device) gives back")
            if depth > 0:
                cause = ("a tensor inside a container was left behind: call to_device again on every item "
                         "of a tuple, list or dict, so that nested ones are moved too")
            fail(what, f"a tensor on {device}", f"a tensor on {found.device}", cause)
        expect(list(found.shape) == list(original.shape) and found.dtype == original.dtype, what,
               describe(original).rsplit(", on", 1)[0], describe(found).rsplit(", on", 1)[0],
               "move the tensor with .to(device) and change nothing else")
        if device.type != "meta":
            expect_close(found, original, what, rtol=0, atol=0, cause="moving a tensor must not change its values")
        return
    kind = type(original).__name__
    if type(found) is not type(original):
        cause = f"a {kind} must come back as a {kind}: rebuild the same kind of container around the moved items"
        if isinstance(found, torch.Tensor):
            cause = f"a {kind} is not a tensor: move each of its items instead"
        fail(what, f"a {kind}", describe(found), cause)
    if isinstance(original, dict):
        expect(list(found) == list(original), what, f"the keys {list(original)}", f"the keys {list(found)}",
               "keep every key of the dict, each with its own moved value")
        for key in original:
            _compare(found[key], original[key], device, f"{where}[{key!r}]", depth + 1)
        return
    expect(len(found) == len(original), what, f"{len(original)} items", f"{len(found)} items",
           "keep every item of the container, in order")
    for i, (f, o) in enumerate(zip(found, original, strict=True)):
        _compare(f, o, device, f"{where}[{i}]", depth + 1)


def to_device(student: Callable, batch: Any, device: torch.device) -> None:
    """``student(batch, device)``: the same structure, every tensor on ``device``."""
    original = _snapshot(batch)
    found = _call(student, f"to_device(<{describe(batch)}>, {str(device)!r})", batch, device,
                  cause="a container inside the batch may have been treated as a tensor: handle tensors, "
                        "tuples, lists and dicts, and call to_device again on each item so that nested ones move too")
    _compare(found, original, device, "batch", 0)


def to_device_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh nested batches moved to ``meta`` and the CPU (and between the CPU and a GPU when there is one)."""
    for seed in seeds:
        for batch in nested_batches(seed):
            for device in devices_here():
                to_device(student, batch, device)
            for gpu in gpu_devices():
                to_device(student, ref.to_device(batch, gpu), CPU)


# ---------------------------------------------------------------- predict_on_device

def _plain(t: torch.Tensor) -> torch.Tensor:
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
    """A tensor on ``meta`` (or on the CPU) that carries the CPU values it stands for.

    ``meta`` tensors have shapes but no values, so ``.cpu()`` on them fails. In the
    run on ``meta``, the batch handed to the student is of this class: moving it,
    slicing it, stacking it keeps its values alongside, the model's output gets the
    values the model computes from them, and copying to the CPU gives the values.
    So a correct ``predict_on_device`` works on ``meta`` as on a GPU, while a
    prediction left on the device stays a ``meta`` tensor that the check sees.
    """

    cpu_values: torch.Tensor | None

    @staticmethod
    def wrap(tensor: torch.Tensor, values: torch.Tensor | None) -> MetaWithValues:
        """``tensor`` (meta or cpu) carrying ``values``; a CPU tensor carries itself."""
        with torch._C.DisableTorchFunctionSubclass():
            plain = tensor.detach().as_subclass(torch.Tensor)
            if plain.device.type == "cpu":
                values = plain
        wrapped = torch.Tensor._make_subclass(MetaWithValues, plain, tensor.requires_grad)
        wrapped.cpu_values = values
        return wrapped

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        first = args[0] if args else None
        if func is torch.Tensor.__repr__:
            return repr(_plain(first))
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


def _apply_to_values(func: Callable, args: tuple, kwargs: dict, many: bool = False) -> Any:
    """The operation done on the values instead of the meta tensors, or None when it cannot be."""
    try:
        inner_args, inner_kwargs = _pytree.tree_map(_values_of, (args, kwargs))
        with torch._C.DisableTorchFunctionSubclass():
            values = func(*inner_args, **inner_kwargs)
            if many:
                return values if all(v.device.type == "cpu" for v in values) else None
            return values if isinstance(values, torch.Tensor) and values.device.type == "cpu" else None
    except Exception:  # noqa: BLE001 - an operation the values cannot follow (a meta weight, a None)
        return None


@contextlib.contextmanager
def _outputs_with_values(model: nn.Module) -> Iterator[None]:
    """While active, a forward pass of ``model`` on ``meta`` returns :class:`MetaWithValues`.

    Its values are what an eval-mode copy of the model computes on the CPU from the
    input's values: the run on ``meta`` checks where things are; another run, on the
    CPU, checks the numbers the student's own code computes.
    """
    twin = copy.deepcopy(model).cpu().eval()

    def hook(module: nn.Module, args: tuple, output: Any) -> Any:
        if not (isinstance(output, torch.Tensor) and _device_type(output) == "meta" and args):
            return output
        values = _values_of(args[0]) if isinstance(args[0], MetaWithValues) else None
        if values is not None:
            with torch.no_grad():
                values = twin(values)
        return MetaWithValues.wrap(output, values)

    handle = model.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _check_forward_calls(recorder: ForwardRecorder, call: str, device: torch.device,
                         error: BaseException | None) -> None:
    """Every forward pass ran on ``device`` (model and batch), in eval mode, without autograd."""
    if not recorder.calls:
        if error is not None:
            fail(call, "no error", f"{type(error).__name__}: {str(error)[:300]}",
                 "read the error above: it names the line of your function that failed")
        fail(call, "one call of the model on X", "the model was never called",
             "compute the predictions with model(X) on the device")
    for forward in recorder.calls:
        model_here = all(_same_place(torch.device(d), device) for d in forward.parameter_devices)
        batch_here = all(_same_place(torch.device(d), device) for d in forward.input_devices)
        if not model_here and batch_here:
            fail(f"{call}: where the model was", f"the model's weights on {device}",
                 f"weights on {', '.join(forward.parameter_devices)}",
                 "the batch was moved but not the model: model and data must share a device, "
                 "call model.to(device) too")
        if model_here and not batch_here:
            fail(f"{call}: where the batch was", f"X on {device}", f"X on {', '.join(forward.input_devices)}",
                 "the model was moved but not the batch: model and data must share a device, use X.to(device)")
        if not (model_here and batch_here):
            fail(f"{call}: where the work ran", f"model and X on {device}",
                 f"weights on {', '.join(forward.parameter_devices)}, X on {', '.join(forward.input_devices)}",
                 "the device argument was ignored: move both the model and X to the `device` you were given")
        expect(not forward.training, f"{call}: the model's mode", "eval mode (model.training is False)",
               "training mode", "call model.eval() before predicting: dropout stays on in training mode")
        expect(not forward.grad_enabled, f"{call}: autograd", "the forward pass under torch.no_grad()",
               "autograd recording a graph",
               "wrap the prediction in `with torch.no_grad():` so that autograd records nothing")
    if error is not None:
        fail(call, "no error", f"{type(error).__name__}: {str(error)[:300]}",
             "read the error above: it names the line of your function that failed")


def predict_on_device(student: Callable, model: nn.Module, X: torch.Tensor, device: torch.device) -> None:
    """``student(model, X, device)``: computed on ``device``, eval mode, no autograd; answers on the CPU."""
    call = f"predict_on_device(model, X {list(X.shape)}, {str(device)!r})"
    model = copy.deepcopy(model)  # the caller's model stays where it is
    twin = copy.deepcopy(model).cpu().eval()
    with torch.no_grad():
        expected = twin(X.cpu())
    found, error = None, None
    given = MetaWithValues.wrap(X, None) if device.type == "meta" and X.device.type == "cpu" else X
    with ForwardRecorder(model) as recorder, _outputs_with_values(model):
        try:
            found = student(model, given, device)
        except CheckFailed:
            raise
        except Exception as e:  # noqa: BLE001 - reported after the forward passes are read
            error = e
    _check_forward_calls(recorder, call, device, error)
    found = expect_tensor(found, call, "return the predictions as a tensor: did you forget `return`?")
    found = _plain(found)
    expect(found.device.type == "cpu", f"{call}: where the predictions are", "a tensor on cpu",
           f"a tensor on {found.device}",
           "bring the predictions back with .cpu() before returning them: plotting, NumPy and printing "
           "need them on the CPU")
    expect(not found.requires_grad, f"{call}: autograd", "predictions that need no gradient",
           "predictions still attached to an autograd graph",
           "wrap the prediction in `with torch.no_grad():`")
    expect_close(found, expected, f"{call}: values", rtol=1e-4, atol=1e-4,
                 cause="the predictions are model(X) in eval mode: is model.eval() called before predicting?")


def predict_on_device_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh networks with dropout, left in training mode, predicting on ``meta``, the CPU and any GPU."""
    for seed in seeds:
        X, _ = fresh_bike_data(seed, n=random.Random(seed).randint(3, 12))
        hidden = random.Random(seed + 1).randint(4, 16)
        for device in devices_here():
            model = ref.seeded_courier_net(seed, hidden).train()
            predict_on_device(student, model, X, device)
        for gpu in gpu_devices():  # model and batch already on the GPU, answers wanted on the CPU
            model = ref.seeded_courier_net(seed, hidden).to(gpu).train()
            predict_on_device(student, model, X.to(gpu), gpu)


# ---------------------------------------------------------------- save_checkpoint

def _predictions(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    device = next(model.parameters()).device
    with torch.no_grad():
        return model.eval()(X.to(device)).cpu()


def _read_saved(path: str, call: str) -> Any:
    """The saved file as ``torch.load(path, weights_only=True)`` reads it (tensors mapped to the CPU)."""
    expect(os.path.isfile(path), call, f"a checkpoint file at {path}", "no file there",
           "save to the path you were given: torch.save(..., path)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - shown to the student
        fail(f"{call}: torch.load(path, weights_only=True)", "a mapping of parameter names to tensors",
             f"{type(error).__name__}: {str(error).splitlines()[0][:200]}",
             "the whole model was pickled with torch.save(model): save model.state_dict() instead, "
             "a plain mapping of names to tensors that loads safely on any machine")


def save_checkpoint(student: Callable, model: nn.Module, X: torch.Tensor, build_fn: Callable[[], nn.Module]) -> None:
    """``student(model, path)`` writes the state_dict alone; the reference load gives the same model back."""
    device = next(model.parameters()).device
    call = f"save_checkpoint(model on {device}, path)"
    model = copy.deepcopy(model)  # the caller's model stays as it is
    wanted = {name: t.detach().cpu().clone() for name, t in model.state_dict().items()}
    expected = _predictions(copy.deepcopy(model), X)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "courier_checkpoint.pt")
        _call(student, call, model, path)
        saved = _read_saved(path, call)
        expect(isinstance(saved, Mapping), f"{call}: the saved object", "a mapping of parameter names to tensors",
               describe(saved), "save model.state_dict(), the dict of the model's parameters")
        if set(saved) != set(wanted):
            cause = "save model.state_dict() itself: every parameter name with its tensor, nothing else"
            if any(isinstance(v, Mapping) for v in saved.values()):
                cause = ("the state_dict was wrapped in another dict: save model.state_dict() alone, so that "
                         "torch.load gives the parameter names directly")
            fail(f"{call}: the saved names", f"the parameter names {sorted(wanted)}", f"the names {sorted(saved)}",
                 cause)
        for name, tensor in wanted.items():
            expect_close(expect_tensor(saved[name], f"{call}: saved[{name!r}]"), tensor, f"{call}: saved[{name!r}]",
                         rtol=0, atol=0, cause="save the model's own parameters, unchanged")
        loaded = ref.load_checkpoint(path, build_fn, CPU)
    expect_close(_predictions(loaded, X), expected, f"{call}: predictions of the model loaded back",
                 rtol=1e-5, atol=1e-5, cause="save the trained model's state_dict, not a fresh model's")


def save_checkpoint_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh networks of fresh sizes, saved from the CPU (and from a GPU when there is one)."""
    for seed in seeds:
        hidden = random.Random(seed).randint(4, 16)
        X, _ = fresh_bike_data(seed, n=6)
        for device in (CPU, *gpu_devices()):
            model = ref.seeded_courier_net(seed, hidden).to(device).train()
            save_checkpoint(student, model, X, lambda hidden=hidden: ref.courier_net(hidden))


# ---------------------------------------------------------------- load_checkpoint

def missing_device() -> str | None:
    """A device this machine does not have (cuda, else mps), to stamp checkpoints as if written there."""
    if not torch.cuda.is_available():
        return "cuda:0"
    if not torch.backends.mps.is_available():
        return "mps"
    return None


def write_checkpoint(model: nn.Module, path: str, written_on: str | None = None) -> None:
    """The reference save; with ``written_on``, the file says its tensors were on that device."""
    if written_on is None:
        ref.save_checkpoint(model, path)
        return
    with mock.patch("torch.serialization.location_tag", return_value=written_on):
        ref.save_checkpoint(model, path)


class _CountingBuilder:
    """``build_fn`` for the student: builds a fresh model and counts the calls."""

    def __init__(self, build: Callable[[], nn.Module]) -> None:
        self.build = build
        self.calls = 0

    def __call__(self) -> nn.Module:
        self.calls += 1
        return self.build()


def load_checkpoint(student: Callable, saved: nn.Module, build_fn: Callable[[], nn.Module], X: torch.Tensor,
                    device: torch.device, written_on: str | None = None) -> None:
    """``student(path, build_fn, device)`` on a reference checkpoint of ``saved``: same predictions, eval, on device.

    ``written_on`` stamps the checkpoint with another device; ``None`` keeps the device ``saved`` lives on.
    """
    origin = written_on or str(next(saved.parameters()).device)
    call = f"load_checkpoint(path, build_fn, {str(device)!r}) of a checkpoint written on {origin}"
    expected = _predictions(copy.deepcopy(saved), X)
    builder = _CountingBuilder(build_fn)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "courier_checkpoint.pt")
        write_checkpoint(saved, path, written_on)
        cause = None
        if written_on is not None:
            cause = (f"the checkpoint was written on {written_on}, which this machine does not have: "
                     "load it with torch.load(path, map_location=device) so that its tensors land on `device`")
        if cause is None:
            cause = "read the error above: it names the line of your function that failed"
        try:
            model = student(path, builder, device)
        except CheckFailed:
            raise
        except Exception as error:  # noqa: BLE001 - shown to the student
            if builder.calls == 0:
                cause = ("build_fn was never called: build the model with build_fn(), the kind of model the "
                         "checkpoint was saved from")
            fail(call, "no error", f"{type(error).__name__}: {str(error)[:300]}", cause)
    if isinstance(model, Mapping):
        fail(call, "a model (an nn.Module)", "a state_dict (a dict of tensors)",
             "load the state_dict into the fresh model with model.load_state_dict(...), then return the model")
    expect(isinstance(model, nn.Module), call, "a model (an nn.Module)", describe(model),
           "return the model built by build_fn(), with the checkpoint loaded into it")
    expect(builder.calls >= 1, f"{call}: build_fn", "a fresh model made by build_fn()", "build_fn never called",
           "build_fn was never called: build the model with build_fn(), "
           "the checkpoint holds numbers only, not the model's layers")
    training = [name or "the model" for name, m in model.named_modules() if m.training]
    expect(not training, f"{call}: mode", "eval mode", f"training mode ({', '.join(training[:3])})",
           "call model.eval() before returning it: a model in training mode keeps dropout on")
    places = sorted({str(p.device) for p in model.parameters()})
    expect(all(_same_place(torch.device(p), device) for p in places), f"{call}: where the model is",
           f"every parameter on {device}", f"parameters on {', '.join(places)}",
           "put the loaded model on the device with model.to(device)")
    expect_close(_predictions(model, X), expected, f"{call}: predictions", rtol=1e-4, atol=1e-4,
                 cause="load the saved state_dict into the model (model.load_state_dict): "
                       "a fresh model from build_fn() alone predicts with random weights")


def load_checkpoint_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh networks, written on the CPU, on a device this machine lacks, and on a GPU, loaded everywhere."""
    gpus = gpu_devices()
    for seed in seeds:
        hidden = random.Random(seed).randint(4, 16)
        X, _ = fresh_bike_data(seed, n=6)

        def build(hidden: int = hidden) -> nn.Module:
            return ref.courier_net(hidden)

        for target in (CPU, *gpus):
            for source in (CPU, *gpus):
                load_checkpoint(student, ref.seeded_courier_net(seed, hidden).to(source), build, X, target)
            written_on = missing_device()
            if written_on is not None:
                load_checkpoint(student, ref.seeded_courier_net(seed, hidden), build, X, target, written_on)
