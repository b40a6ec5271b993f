"""Checks of 03_single_neuron: one neuron trained, asked, and outgrown, on fresh data.

Every check runs the student's function on models and data the reference builds,
watches it with the probes and compares it with the reference run from the same
start. Messages name the mistake the evidence points to.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import random
import warnings
from collections.abc import Callable, Iterable, Iterator
from unittest import mock

import torch
from torch import nn

from autograder.reference import single_neuron as ref
from coursekit.checks.expect import describe, expect, expect_close, fail
from coursekit.data.delivery import bike_a, fresh_bike_data, least_squares_line
from coursekit.data.mixed import mixed_deliveries
from coursekit.probes import ForwardRecorder, GradientWatch, RecordingOptimizer

#: Optimizers a student might reach for; each is watched while ``train_model`` runs.
_OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Rprop", "NAdam", "RAdam")
#: Loss and weight tolerances: float32 rounding of any correct way to write the loop
#: stays below 1e-5 relative over 500 epochs (measured); every mistake moves far more.
_RTOL, _ATOL = 1e-3, 1e-4
#: A ReLU network, trained by the reference loop, must end below this share of the best
#: straight line's error. With 16 to 64 hidden units it reaches at most 0.21 (240 starts on
#: 5 data sets, measured; median 0.13); a network without a bend stays at 1.
NONLINEAR_SHARE = 0.5
#: Starts the nonlinear check tries before it fails a model: a correct network whose start
#: has no bend inside the data stays a line (measured: 5 in 60 starts at 8 units, none in 240
#: at 16 to 64), so a further start is allowed.
NONLINEAR_SEEDS = (100, 101, 102)


# ----------------------------------------------------------------------------- build_model

def build_model(student: Callable, seed: int = 0) -> None:
    """``student()`` is ``nn.Sequential(nn.Linear(1, 1))`` with PyTorch's own random start."""
    torch.manual_seed(seed)
    model = student()
    torch.manual_seed(seed)
    expected = ref.build_model()
    what = "build_model()"
    expect(isinstance(model, nn.Module), what, "an nn.Module", describe(model),
           "return the model itself: did you forget `return`?")
    expect(isinstance(model, nn.Sequential), what, "nn.Sequential(nn.Linear(1, 1))", type(model).__name__,
           "the exercise asks for nn.Sequential holding one nn.Linear(1, 1); its weights are then "
           "named '0.weight' and '0.bias', as the rest of the course expects")
    layers = list(model.children())
    expect(len(layers) == 1 and isinstance(layers[0], nn.Linear), f"{what}: layers",
           "one layer, nn.Linear(1, 1)", ", ".join(type(m).__name__ for m in layers) or "no layer",
           "one neuron is one nn.Linear: one distance in, one time out")
    linear = layers[0]
    expect((linear.in_features, linear.out_features) == (1, 1), f"{what}: layer size", "nn.Linear(1, 1)",
           f"nn.Linear({linear.in_features}, {linear.out_features})", "one feature (miles) in, one number out")
    expect(linear.bias is not None, f"{what}: bias", "a bias (the pick-up time)", "bias=False",
           "keep the bias: without it the line must pass through 0 minutes at 0 miles")
    for (name, p), e in zip(model.named_parameters(), expected.parameters(), strict=True):
        expect(p.dtype == torch.float32, f"{what}: {name}", "float32 parameters", p.dtype,
               "leave the layer in float32 (no .double())")
        expect(p.requires_grad, f"{what}: {name}", "a parameter that requires grad", "requires_grad=False",
               "training needs gradients: do not freeze the layer")
        expect_close(p, e, f"{what}: starting value of {name} after torch.manual_seed({seed})",
                     cause="the weights must be nn.Linear's own random start: do not set them by hand "
                           "(a line fitted to the notebook's data is a hard-coded answer) and do not "
                           "call torch.manual_seed inside build_model")
    again = student()
    expect(again is not model and all(a is not b for a, b in zip(again.parameters(), model.parameters(), strict=False)),
           f"{what} called twice", "two separate models", "the same model (or the same parameters) twice",
           "create the model inside build_model, so each call starts fresh")


def build_model_hidden(student: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        build_model(student, seed)


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
                         for name in _OPTIMIZERS]

    def _factory(self, name: str, cls: type) -> Callable:
        def make(params, *args, **kwargs):
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


def _simulate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, *,
              adam: bool = False, zero: bool = True, flat_target: bool = False) -> list[float]:
    """Losses of a known mistake, from the same start: evidence for the message."""
    model = copy.deepcopy(model)
    optimizer = (torch.optim.Adam if adam else torch.optim.SGD)(model.parameters(), lr=lr)
    target = y.flatten() if flat_target else y
    losses = []
    for _ in range(epochs):
        if zero:
            optimizer.zero_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = nn.functional.mse_loss(model(X), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _reference_run(start: nn.Module, X: torch.Tensor, y: torch.Tensor, lr: float,
                   epochs: int) -> tuple[list[float], float, float]:
    """The reference loop's losses and final (w, b), computed exactly in float64.

    Full-batch SGD on a line's MSE only needs five sums of the data, so the reference
    trajectory costs microseconds an epoch instead of a PyTorch step; it agrees with
    ``ref.train_model`` in float32 far within ``_RTOL`` (tested).
    """
    x, t = X.double().flatten(), y.double().flatten()
    n = float(len(x))
    sx, sxx, st, sxt, stt = (float(v) for v in (x.sum(), (x * x).sum(), t.sum(), (x * t).sum(), (t * t).sum()))
    w, b = start[0].weight.detach().item(), start[0].bias.detach().item()
    losses = []
    for _ in range(epochs):
        losses.append((w * w * sxx + 2 * w * b * sx + n * b * b - 2 * w * sxt - 2 * b * st + stt) / n)
        grad_w = 2 / n * (w * sxx + b * sx - sxt)
        grad_b = 2 / n * (w * sx + n * b - st)
        w, b = w - lr * grad_w, b - lr * grad_b
    return losses, w, b


def _close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and bool(torch.allclose(torch.tensor(a, dtype=torch.float64),
                                                   torch.tensor(b, dtype=torch.float64), rtol=_RTOL, atol=_ATOL))


def train_model(student: Callable, X: torch.Tensor, y: torch.Tensor, lr: float | None = None,
                epochs: int | None = None, seed: int = 0) -> None:
    """``student(model, X, y, lr, epochs)`` follows the reference run from the same start.

    ``lr`` and ``epochs`` of None mean "call with the defaults" (0.01 and 500).
    """
    given = {k: v for k, v in (("lr", lr), ("epochs", epochs)) if v is not None}
    lr_used, epochs_used = given.get("lr", 0.01), given.get("epochs", 500)
    call = "train_model(model, X, y" + "".join(f", {k}={v}" for k, v in given.items()) + ")"
    torch.manual_seed(seed)
    model = ref.build_model()
    start = copy.deepcopy(model)
    expected, w_end, b_end = _reference_run(start, X, y, lr_used, epochs_used)

    torch.manual_seed(seed + 7919)
    torch.rand(5)
    rng_before = torch.get_rng_state()
    with _OptimizerSpy() as spy, GradientWatch(model.parameters()) as watch, \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = student(model, X.clone(), y.clone(), **given)
    rng_changed = not torch.equal(rng_before, torch.get_rng_state())

    # What came back: one plain float per epoch.
    if isinstance(found, torch.Tensor):
        fail(call, "a list of floats", describe(found),
             "collect loss.item() of each epoch in a Python list and return the list")
    expect(isinstance(found, list), call, f"a list of {epochs_used} floats", describe(found),
           "collect each epoch's loss in a list and return it: did you forget `return`?")
    expect(len(found) == epochs_used, f"{call}: number of losses", f"{epochs_used} (one per epoch)",
           len(found), f"the loop must run `epochs` times: you were given epochs={epochs_used}, "
           "so loop with `for epoch in range(epochs)` and do not fix the number")
    for i, value in enumerate(found):
        if isinstance(value, torch.Tensor):
            fail(f"{call}: loss of epoch {i}", "a Python float", describe(value),
                 "a loss kept as a tensor holds on to its whole autograd graph; store loss.item()")
        expect(isinstance(value, float), f"{call}: loss of epoch {i}", "a Python float", describe(value),
               "store loss.item(), a plain float")

    # How it trained: the optimizer, the gradients, the random state.
    names = sorted({name for name, _, _ in spy.made})
    expect(all(name == "SGD" for name in names), f"{call}: optimizer", "optim.SGD",
           ", ".join(f"optim.{n}" for n in names),
           "the exercise asks for plain SGD: another optimizer takes other steps and lands elsewhere")
    for _, recording, params in spy.made:
        group = recording.param_groups[0]
        expect(group["lr"] == lr_used, f"{call}: learning rate", f"lr={lr_used}", f"lr={group['lr']}",
               f"you were given lr={lr_used}: create the optimizer with lr=lr, not a fixed number")
        expect({id(p) for p in model.parameters()} <= {id(p) for p in params}, f"{call}: optimizer",
               "an optimizer over model.parameters()", "an optimizer over other tensors",
               "create it as optim.SGD(model.parameters(), lr=lr), from the model you were given")
    expect(watch.always_cleared, f"{call}: gradients", "gradients cleared before every backward()",
           ".grad still held an earlier epoch's gradient when backward() ran again",
           "the gradients piled up from one epoch to the next: did you forget optimizer.zero_grad()?")
    expect(watch.backward_passes == epochs_used, f"{call}: backward passes", f"{epochs_used} (one per epoch)",
           watch.backward_passes, "call loss.backward() once in every epoch")
    shape_warnings = [w for w in caught if "target size" in str(w.message)]
    broadcast = _simulate(start, X, y, lr_used, 1, flat_target=True)[0]
    if shape_warnings or (len(y) > 1 and abs(found[0] - broadcast) <= _RTOL * abs(broadcast)
                          and abs(found[0] - expected[0]) > _RTOL * abs(expected[0])):
        fail(f"{call}: loss", f"{expected[0]:.6g} at epoch 0", f"{found[0]:.6g}",
             "predictions and targets have different shapes ([N] against [N, 1]) and broadcast "
             "into an [N, N] grid: keep both [N, 1] (no .squeeze() or .flatten())")
    expect(not rng_changed, f"{call}: random state", "PyTorch's random state left alone",
           "train_model reseeded or drew random numbers",
           "do not call torch.manual_seed inside train_model: training continues from the model it is given")
    steps = [r.steps for _, r, _ in spy.made]
    if steps:
        expect(sum(steps) == epochs_used, f"{call}: optimizer steps", f"{epochs_used} (one per epoch)",
               sum(steps), "call optimizer.step() once in every epoch, after loss.backward()")

    # Where it went: the losses and the weights, against the reference run.
    if not _close(found, expected):
        _explain_trajectory(call, found, expected, start, X, y, lr_used, epochs_used)
    ends = {"0.weight": torch.tensor([[w_end]]), "0.bias": torch.tensor([b_end])}
    for name, p in model.named_parameters():
        e = ends[name]
        if torch.equal(p, dict(start.named_parameters())[name]):
            fail(f"{call}: {name}", "the model you were given, trained", "its parameters unchanged",
                 "train the model passed in as an argument, not a new one")
        expect_close(p.detach(), e, f"{call}: {name} after training", rtol=_RTOL, atol=_ATOL,
                     cause="the weights must end where the reference loop puts them from the same start")


def _explain_trajectory(call: str, found: list[float], expected: list[float], start: nn.Module,
                        X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int) -> None:
    """Fail with the mistake whose simulated losses match the student's, else the first gap."""
    first = next(i for i, (f, e) in enumerate(zip(found, expected, strict=True))
                 if abs(f - e) > _ATOL + _RTOL * abs(e))
    what = f"{call}: loss of epoch {first}"
    shown = (f"{expected[first]:.6g}", f"{found[first]:.6g}")
    if epochs > 1 and _close(found[:-1], expected[1:]):
        fail(what, *shown, "each loss must be the one computed before that epoch's step "
                           "(append loss.item() of the loss you called backward() on)")
    suspects = [
        (dict(adam=True), "these are Adam's steps: the exercise asks for optim.SGD"),
        (dict(zero=False), "the gradients piled up from one epoch to the next: did you forget "
                           "optimizer.zero_grad()?"),
    ]
    if lr != 0.01:
        suspects.append((dict(lr=0.01), f"these are the steps of lr=0.01: you were given lr={lr}, "
                                         "pass lr=lr to the optimizer"))
    for changes, cause in suspects:
        options = {"lr": lr, **changes}
        lr_try = options.pop("lr")
        if _close(found, _simulate(start, X, y, lr_try, epochs, **options)):
            fail(what, *shown, cause)
    fail(what, *shown, "each epoch must run zero_grad, forward, nn.MSELoss, backward and "
                       "optim.SGD(model.parameters(), lr=lr).step() on the whole batch")


def train_model_defaults(student: Callable, X: torch.Tensor, y: torch.Tensor, seed: int = 0) -> None:
    """``student(model, X, y)`` trains with lr=0.01 for 500 epochs.

    When the signature declares ``lr=0.01`` and ``epochs=500``, Python binds the call
    without them exactly as the call with them, and the runs with given arguments show
    that both are used; the 500 epochs need not be run. Any other signature (defaults of
    None, ``**kwargs``, other numbers) is judged by running the call with the defaults.
    """
    try:
        parameters = inspect.signature(student).parameters
    except (TypeError, ValueError):
        parameters = {}
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    declared = {name: parameters[name].default for name in ("lr", "epochs")
                if name in parameters and parameters[name].kind in named}
    if (type(declared.get("lr")) is float and declared["lr"] == 0.01
            and type(declared.get("epochs")) is int and declared["epochs"] == 500):
        return
    train_model(student, X, y, seed=seed)


def train_model_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh data sets, learning rates, epoch counts and starts; plus the defaults once."""
    X, y = bike_a()
    train_model(student, X, y, lr=0.02, epochs=30, seed=11)
    for seed in seeds:
        rng = random.Random(seed)
        X, y = fresh_bike_data(seed, n=rng.randint(5, 15))
        lr = rng.choice([0.002, 0.004, 0.006, 0.012])
        train_model(student, X, y, lr=lr, epochs=rng.randint(20, 60), seed=seed)


# ----------------------------------------------------------------------------- predict_minutes

def predict_minutes(student: Callable, model: nn.Module, miles: float) -> None:
    """``student(model, miles)`` is a float from one forward pass of a [1, 1] batch, eval mode, no grad."""
    twin = copy.deepcopy(model)
    twin.eval()
    with torch.no_grad():
        expected = twin(torch.tensor([[float(miles)]])).item()
    call = f"predict_minutes(model, {miles!r})"
    with ForwardRecorder(model) as recorder:
        try:
            found = student(model, miles)
        except RuntimeError as error:
            if "dtype" in str(error) or "Long" in str(error):
                fail(call, "a prediction", f"RuntimeError: {str(error)[:120]}",
                     f"a tensor built from the whole number {miles!r} is int64, and the model computes in "
                     "float32: ask for dtype=torch.float32 (or write float(miles))")
            raise
    expect(len(recorder.calls) >= 1, call, "a forward pass of the model", "the model was never called",
           "compute the prediction with model(x)")
    for forward in recorder.calls:
        expect(forward.batch_shapes[:1] == ((1, 1),), f"{call}: input of the model",
               "a batch of one sample, shape [1, 1]",
               f"shape {list(forward.batch_shapes[0]) if forward.batch_shapes else 'none'}",
               "the model takes a batch: wrap the distance as torch.tensor([[miles]])")
        expect(not forward.training, f"{call}: model mode", "eval mode during the forward pass", "training mode",
               "call model.eval() before predicting: layers such as dropout behave differently in training")
        expect(not forward.grad_enabled, f"{call}: autograd", "the forward pass under torch.no_grad()",
               "autograd recording a graph nobody will use",
               "wrap the prediction in `with torch.no_grad():`")
    if isinstance(found, torch.Tensor):
        fail(call, "a Python float", describe(found), "turn the one-number tensor into a float with .item()")
    expect(isinstance(found, float), call, "a Python float", describe(found), "return prediction.item()")
    expect_close(found, expected, call, rtol=1e-5, atol=1e-4,
                 cause="return the model's own prediction for this distance, nothing added or rounded")


def _line(w: float, b: float) -> nn.Module:
    return ref.line_model(w, b)


def _with_dropout(w: float, b: float) -> nn.Module:
    """A line followed by dropout: in training mode its answer changes from call to call."""
    model = nn.Sequential(nn.Linear(1, 1), nn.Dropout(0.5))
    with torch.no_grad():
        model[0].weight.fill_(w)
        model[0].bias.fill_(b)
    return model


def predict_minutes_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh lines, a model with dropout, distances as floats and as whole numbers."""
    for seed in seeds:
        rng = random.Random(seed)
        w, b = rng.uniform(2.0, 7.0), rng.uniform(3.0, 15.0)
        predict_minutes(student, _line(w, b), round(rng.uniform(0.5, 12.0), 2))
        predict_minutes(student, _line(w, b), rng.randint(1, 12))
        torch.manual_seed(seed)
        predict_minutes(student, _with_dropout(w, b), round(rng.uniform(0.5, 12.0), 2))


# ----------------------------------------------------------------------------- take_order

@contextlib.contextmanager
def _reference_predict(student: Callable) -> Iterator[None]:
    """``take_order`` calls the reference ``predict_minutes`` while it is tested, so a
    mistake in the student's ``predict_minutes`` costs that exercise only."""
    space = getattr(student, "__globals__", {})
    missing = object()
    saved = space.get("predict_minutes", missing)
    if saved is not missing:
        space["predict_minutes"] = ref.predict_minutes
    try:
        yield
    finally:
        if saved is not missing:
            space["predict_minutes"] = saved


def take_order(student: Callable, model: nn.Module, miles: float, promise: float | None = None) -> None:
    """``student(model, miles[, promise])`` is True exactly when the prediction is within the promise."""
    predicted = ref.predict_minutes(copy.deepcopy(model), miles)
    limit = 30.0 if promise is None else promise
    expected = predicted <= limit
    call = f"take_order(model, {miles!r}" + ("" if promise is None else f", promise={promise!r}") + ")"
    with _reference_predict(student):
        found = student(model, miles) if promise is None else student(model, miles, promise=promise)
    expect(isinstance(found, bool), call, "True or False (a Python bool)", describe(found),
           "compare two floats, for example `return predict_minutes(model, miles) <= promise`")
    if found == expected:
        return
    if predicted == limit:
        cause = "a delivery that takes exactly the promised time keeps the promise: use <=, not <"
    elif promise is not None and found == (predicted <= 30.0):
        cause = f"you were given promise={promise!r}: compare with the promise argument, not a fixed 30"
    else:
        cause = "take the order (True) when the predicted minutes are at most the promise, refuse it otherwise"
    fail(call, f"{expected} (predicted {predicted:.4g} minutes against a promise of {limit:g})", found, cause)


def take_order_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Whole-number lines, so that a prediction can equal the promise exactly; promises on both sides of 30."""
    for seed in seeds:
        rng = random.Random(seed)
        w, b = rng.randint(2, 6), rng.randint(4, 12)
        miles = rng.randint(2, 9)
        model = _line(w, b)
        predicted = w * miles + b
        take_order(student, model, miles)
        take_order(student, model, miles, promise=float(predicted))
        take_order(student, model, miles, promise=predicted - 0.5)
        take_order(student, model, miles, promise=predicted + 3.0)
        far = _line(w, b)  # a long trip: over 30 minutes, yet within a generous promise
        long_trip = (40 - b) // w + 1
        take_order(student, far, long_trip, promise=float(w * long_trip + b + 1))
        near = _line(w, b)  # a short trip: under 30 minutes, yet over a strict promise
        take_order(student, near, 1, promise=float(w + b - 1))


# ----------------------------------------------------------------------------- build_nonlinear_model

def _layers_of(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers, the one taking the distance first (a class may create them in any order)."""
    return sorted((m for m in model.modules() if isinstance(m, nn.Linear)), key=lambda m: m.in_features != 1)


def nonlinear_structure(student: Callable, hidden: int | None = None, seed: int = 0) -> nn.Module:
    """``student(hidden)`` computes Linear(1, hidden) → ReLU → Linear(hidden, 1); returns the model."""
    size = 16 if hidden is None else hidden
    call = "build_nonlinear_model()" if hidden is None else f"build_nonlinear_model({hidden})"
    torch.manual_seed(seed)
    model = student() if hidden is None else student(hidden)
    expect(isinstance(model, nn.Module), call, "an nn.Module", describe(model),
           "return the model itself: did you forget `return`?")
    linears = _layers_of(model)
    shapes = [(m.in_features, m.out_features) for m in linears]
    expect(len(linears) == 2, f"{call}: layers", "two nn.Linear layers: Linear(1, hidden) and Linear(hidden, 1)",
           f"{len(linears)} nn.Linear layers {shapes}", "one hidden layer between the input and the output")
    cause = (f"hidden={size} was asked for: use the hidden argument as the width of the hidden layer"
             if shapes[0][0] == 1 and shapes[1][1] == 1 and shapes[0][1] == shapes[1][0]
             else "one distance in, `hidden` units in the middle, one time out")
    expect(shapes == [(1, size), (size, 1)], f"{call}: layer sizes", f"[(1, {size}), ({size}, 1)]", shapes, cause)
    first, second = linears
    expect(first.bias is not None and second.bias is not None, f"{call}: biases", "both layers with a bias",
           "a layer with bias=False", "keep the biases: they put the bends where the data needs them")
    expect(sum(p.numel() for p in model.parameters()) == 3 * size + 1, f"{call}: parameters",
           f"{3 * size + 1} numbers", sum(p.numel() for p in model.parameters()),
           "the model holds the two Linear layers and nothing else with weights")
    x = torch.linspace(-3.0, 15.0, 61).reshape(-1, 1)
    model.eval()
    with torch.no_grad():
        out = model(x)
        hidden_in = first(x)
        want = second(torch.relu(hidden_in))
        without_relu = second(hidden_in)
    expect(isinstance(out, torch.Tensor) and out.shape == (61, 1), f"{call}: output", "shape [61, 1] for 61 inputs",
           describe(out), "the model maps a batch [N, 1] to predictions [N, 1]")
    if not torch.allclose(out, want, atol=1e-5, rtol=1e-4):
        cause = ("the ReLU is missing: two Linear layers in a row still draw one straight line"
                 if torch.allclose(out, without_relu, atol=1e-5, rtol=1e-4)
                 else "the model must compute Linear → ReLU → Linear, with nn.ReLU and in that order")
        fail(f"{call}: what the model computes", "Linear(1, hidden) → ReLU → Linear(hidden, 1)",
             "another function of the input", cause)
    return model


def build_nonlinear_model(student: Callable, X: torch.Tensor, y: torch.Tensor, hidden: int | None = None,
                          seeds: tuple[int, ...] = NONLINEAR_SEEDS) -> None:
    """Structure, then training by the reference loop: it must beat the best line by a wide margin.

    A network can start badly (all its bends outside the data); further starts are
    allowed, as one correct model may draw another start than the reference's.
    """
    w, b = least_squares_line(X, y)
    line_error = float(((w * X.double() + b - y.double()) ** 2).mean())
    results = []
    for seed in seeds:
        model = nonlinear_structure(student, hidden, seed)
        model.train()
        ref.train_nonlinear(model, X, y)
        results.append(ref.mse_of(model, X, y))
        if results[-1] < NONLINEAR_SHARE * line_error:
            return
    call = "build_nonlinear_model()" if hidden is None else f"build_nonlinear_model({hidden})"
    fail(f"{call}, trained by the reference loop on mixed bike + car data",
         f"a loss below {NONLINEAR_SHARE * line_error:.3g} ({NONLINEAR_SHARE:g} x the best straight line's "
         f"{line_error:.3g})", ", ".join(f"{r:.3g}" for r in results),
         "the network cannot bend where the vehicle changes: check the ReLU between the layers")


def build_nonlinear_model_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """A fresh mixed data set and a fresh hidden size (one training per seed); the default
    size and a small one are checked by structure."""
    nonlinear_structure(student, None)
    nonlinear_structure(student, 3)
    for seed, hidden in zip(seeds, (24, 32, 20, 28), strict=False):
        X, y = mixed_deliveries(seed)
        build_nonlinear_model(student, X, y, hidden=hidden)
