"""What 03_single_neuron's checks watch when they run a student's function (in the student's kernel).

Observations are plain facts: returned values, parameters before and after, what the
probes saw. Where a function calls another exercise's function (``take_order`` calls
``predict_minutes``), a recording stand-in with a scripted answer takes its place, so a
mistake there costs its own exercise only; the judge knows what should have been done
with the stand-in's answer.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import torch
from torch import nn

from coursekit.checks.engine import Case, Observation, attempt, call
from coursekit.checks.expect import describe
from coursekit.checks.single_neuron import cases
from coursekit.probes import ForwardRecorder, GradientWatch, RecordingOptimizer

#: Optimizers a student might reach for; each is watched while ``train_model`` runs.
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Rprop", "NAdam", "RAdam")
#: The seed set before a student's call: a ``torch.manual_seed`` inside it then shows.
_UNLIKELY_SEED = 7919_2026
#: At most this many records of repeated events (forward passes, calls) are kept.
_MAX_RECORDS = 20


@contextlib.contextmanager
def _own_random_stream(seed: int) -> Iterator[None]:
    """Seed the random generator for the call, and give the notebook its own stream back afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# ----------------------------------------------------------------------------- build_model

def _model_facts(model: Any) -> dict[str, Any]:
    """What a one-neuron model is made of: its type, its layers, its parameters."""
    if not isinstance(model, nn.Module):
        return {"is_module": False, "what": describe(model)}
    children = list(model.children())
    layer = children[0] if len(children) == 1 and isinstance(children[0], nn.Linear) else None
    return {
        "is_module": True, "type": type(model).__name__, "sequential": isinstance(model, nn.Sequential),
        "layers": [type(m).__name__ for m in children][:_MAX_RECORDS],
        "linear": None if layer is None else {"in": int(layer.in_features), "out": int(layer.out_features),
                                               "bias": layer.bias is not None},
        "params": {name: p for name, p in list(model.named_parameters())[:_MAX_RECORDS]},
    }


def _shares_parameters(a: nn.Module, b: nn.Module) -> bool:
    return bool({id(p) for p in a.parameters()} & {id(p) for p in b.parameters()})


def build_model(student: Callable, case: Case) -> Observation:
    """The model made right after ``torch.manual_seed(seed)``, and whether a second call makes another."""
    with _own_random_stream(case["seed"]):
        model = call(student)
        again = call(student)
    fresh = (isinstance(model, nn.Module) and isinstance(again, nn.Module) and again is not model
             and not _shares_parameters(model, again))
    return {"model": _model_facts(model), "fresh": fresh}


# ----------------------------------------------------------------------------- train_model

class _OptimizerSpy:
    """While active, every optimizer made through ``torch.optim`` is recorded and wrapped.

    Student code that names ``optim.SGD`` (or ``torch.optim.SGD``) at call time goes
    through here, so messages can say which optimizer, which lr, and which parameters.
    Code that bound the class earlier is not seen; the trajectory still judges it.
    """

    def __init__(self) -> None:
        self.made: list[tuple[str, RecordingOptimizer, list[torch.Tensor]]] = []
        self._patches = [mock.patch.object(torch.optim, name, self._factory(name, getattr(torch.optim, name)))
                         for name in OPTIMIZERS]

    def _factory(self, name: str, cls: type) -> Callable:
        def make(params: Any, *args: Any, **kwargs: Any) -> RecordingOptimizer:
            params = list(params)
            recording = RecordingOptimizer(cls(params, *args, **kwargs))
            flat = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
            self.made.append((name, recording, flat))
            return recording

        return make

    def __enter__(self) -> _OptimizerSpy:
        for patch in self._patches:
            patch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for patch in self._patches:
            patch.stop()


def declares_defaults(student: Callable) -> bool:
    """Whether the signature itself says lr=0.01 and epochs=500 (then a call without them is the
    same call as one with them, which the other tests run)."""
    try:
        parameters = inspect.signature(student).parameters
    except (TypeError, ValueError):
        return False
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    declared = {name: parameters[name].default for name in ("lr", "epochs")
                if name in parameters and parameters[name].kind in named}
    return (type(declared.get("lr")) is float and declared["lr"] == cases.DEFAULT_LR
            and type(declared.get("epochs")) is int and declared["epochs"] == cases.DEFAULT_EPOCHS)


def _group_facts(recording: RecordingOptimizer) -> dict[str, Any]:
    groups = list(recording.param_groups)
    group = groups[0] if groups else {}
    return {key: group.get(key) for key in ("lr", "momentum", "weight_decay", "nesterov", "dampening")}


def train_model(student: Callable, case: Case) -> Observation:
    """Losses returned, parameters after, and how the loop trained (optimizers, backward passes)."""
    if case.get("defaults") and declares_defaults(student):
        return {"declared_defaults": True}
    model = cases.line(*case["start"])
    given = {k: case[k] for k in ("lr", "epochs") if case.get(k) is not None}
    with _own_random_stream(_UNLIKELY_SEED), _OptimizerSpy() as spy, \
            GradientWatch(model.parameters()) as watch, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        returned = call(student, model, case["X"].clone(), case["y"].clone(), **given)
    ids = {id(p) for p in model.parameters()}
    return {
        "returned": returned,
        "optimizers": [{"name": name, **_group_facts(recording), "steps": recording.steps,
                        "over_model": ids <= {id(p) for p in params}}
                       for name, recording, params in spy.made[:_MAX_RECORDS]],
        "backward_passes": watch.backward_passes,
        "piled_up": watch.piled_up,
        "shape_warning": any("target size" in str(w.message) for w in caught),
        "end": {name: p.detach().clone() for name, p in model.named_parameters()},
    }


# ----------------------------------------------------------------------------- predict_minutes

def predict_minutes(student: Callable, case: Case) -> Observation:
    """The value returned (or the error raised) and the conditions of every forward pass."""
    model = cases.line(case["weight"], case["bias"], case.get("dropout", 0.0))
    with _own_random_stream(0), ForwardRecorder(model) as recorder:
        returned, error = attempt(student, model, case["miles"])
    forwards = [{"grad_enabled": f.grad_enabled, "training": f.training,
                 "shapes": [list(s) for s in f.batch_shapes]} for f in recorder.calls[:_MAX_RECORDS]]
    return {"returned": returned, "error": error, "forwards": forwards}


# ----------------------------------------------------------------------------- take_order

@contextlib.contextmanager
def _stand_in(student: Callable, name: str, replacement: Callable) -> Iterator[None]:
    """``name`` in the student's globals is ``replacement`` while the student's function runs."""
    space = getattr(student, "__globals__", None)
    missing = object()
    saved = space.get(name, missing) if isinstance(space, dict) else missing
    if saved is not missing:
        space[name] = replacement
    try:
        yield
    finally:
        if saved is not missing:
            space[name] = saved


def take_order(student: Callable, case: Case) -> Observation:
    """The decision, with a recording stand-in for ``predict_minutes`` that answers the case's minutes."""
    model = cases.line(case["weight"], case["bias"])
    asked: list[dict[str, Any]] = []

    def predict_minutes(*args: Any, **kwargs: Any) -> float:
        given = args[0] if args else kwargs.get("model")
        miles = args[1] if len(args) > 1 else kwargs.get("miles")
        if len(asked) < _MAX_RECORDS:
            asked.append({"model_given": given is model, "miles": miles})
        return case["minutes"]

    options = {} if case.get("promise") is None else {"promise": case["promise"]}
    with _stand_in(student, "predict_minutes", predict_minutes):
        returned = call(student, model, case["miles"], **options)
    return {"returned": returned, "predict_calls": asked}


# ----------------------------------------------------------------------------- build_nonlinear_model

def linears(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers, the one taking the distance first (a class may create them in any order)."""
    return sorted((m for m in model.modules() if isinstance(m, nn.Linear)), key=lambda m: m.in_features != 1)


def _network_facts(model: Any) -> dict[str, Any]:
    if not isinstance(model, nn.Module):
        return {"is_module": False, "what": describe(model)}
    layers = linears(model)
    params = list(model.parameters())
    return {
        "is_module": True,
        "linears": [{"in": int(m.in_features), "out": int(m.out_features), "bias": m.bias is not None}
                    for m in layers[:_MAX_RECORDS]],
        "param_count": sum(int(p.numel()) for p in params),
        "dtypes": sorted({str(p.dtype).removeprefix("torch.") for p in params}),
    }


def _start(model: Any) -> list[Any] | None:
    """The two layers' starting weights and biases, or None when the network is not two layers."""
    if not isinstance(model, nn.Module):
        return None
    layers = linears(model)
    if len(layers) != 2:
        return None
    first, second = layers
    return [None if t is None else t.detach().clone()
            for t in (first.weight, first.bias, second.weight, second.bias)]


def build_nonlinear_model(student: Callable, case: Case) -> Observation:
    """The network's layers, its starts under each seed, and its outputs with the case's weights loaded."""
    hidden = case.get("hidden")
    size = 16 if hidden is None else hidden
    args = () if hidden is None else (hidden,)
    models = []
    for seed in case["seeds"]:
        with _own_random_stream(seed):
            models.append(call(student, *args))
    with _own_random_stream(case["seeds"][0]):
        again = call(student, *args)
    model = models[0]
    facts = _network_facts(model)
    others = [*models[1:], again]
    observation: dict[str, Any] = {
        "network": facts,
        "starts": [_start(m) for m in models],
        "fresh": all(m is not model and not (isinstance(m, nn.Module) and isinstance(model, nn.Module)
                                             and _shares_parameters(m, model)) for m in others),
    }
    shapes = [(m["in"], m["out"]) for m in facts.get("linears", [])]
    if shapes == [(1, size), (size, 1)] and all(m["bias"] for m in facts["linears"]):
        first, second = linears(model)
        probe = case["probe"]
        with torch.no_grad():
            for layer, w, b in ((first, probe["w1"], probe["b1"]), (second, probe["w2"], probe["b2"])):
                layer.weight.copy_(w)
                layer.bias.copy_(b)
        model.eval()
        with torch.no_grad():
            observation["out"], observation["out_error"] = attempt(model, cases.probe_miles())
    return observation
