"""Checks of 02_autograd: derivatives by autograd, and gradient descent written by hand.

Every check runs the student's function on fresh functions or fresh data and
compares it with the analytic answer or with ``autograder.reference.autograd``
from the same start. When a result is wrong, the check re-runs the known
mistakes (gradients never zeroed, [N] against [N, 1], a step of the wrong size)
to name the likely cause.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from autograder.reference import autograd as ref
from coursekit.checks.expect import (
    CheckFailed,
    describe,
    expect,
    expect_close,
    expect_float_list,
    expect_shape,
    expect_tensor,
    fail,
)
from coursekit.data.delivery import fresh_feature_data

#: Tolerances measured on the reference: float32 autograd agrees with the float64 analytic
#: answers to about 1e-6 relative; other correct styles agree with the reference to 1e-6.
DERIVATIVE_RTOL, DERIVATIVE_ATOL = 1e-4, 1e-4
STEP_RTOL, STEP_ATOL = 1e-4, 1e-4

NO_GRAD_CAUSE = (
    "the update W -= lr * W.grad was recorded by autograd: "
    "put the update inside `with torch.no_grad():`"
)
REBOUND_CAUSE = (
    "W was rebound (W = W - lr * W.grad): the new W is a different tensor, and the caller's W "
    "is left unchanged; update in place with W -= lr * W.grad inside `with torch.no_grad():`"
)
PILED_UP_CAUSE = (
    "the gradients were never zeroed, so each backward() adds to the old ones and they pile up: "
    "after the update call W.grad.zero_() and b.grad.zero_() (or set W.grad = None)"
)
FLAT_CAUSE = (
    "predictions of shape [N] met y of shape [N, 1] and broadcast silently into an [N, N] grid: "
    "keep X @ W + b as [N, 1], like y (do not flatten or squeeze only one of them)"
)


# --- fresh functions with analytic derivatives ---------------------------------------------------


@dataclass(frozen=True)
class ScalarFunction:
    """A scalar function of ``arity`` 0-dim tensors, with its analytic partials at plain floats."""

    text: str
    f: Callable[..., torch.Tensor]
    partials: Callable[..., list[float]]
    arity: int


def _coef(rng: random.Random, low: float, high: float) -> float:
    value = round(rng.uniform(low, high), 1)
    return value if value != 0 else 0.5


def fresh_function(seed: int, family: int | None = None) -> ScalarFunction:
    """A fresh function of one variable: a polynomial, sin/exp, or a composition (chain rule)."""
    rng = random.Random(seed)
    family = rng.randrange(7) if family is None else family % 7
    a, b, c, d = (_coef(rng, -2, 2) for _ in range(4))
    if family == 0:
        return ScalarFunction(
            f"f(x) = {a}·x³ + {b}·x² + {c}·x + {d}",
            lambda x: a * x**3 + b * x**2 + c * x + d,
            lambda x: [3 * a * x**2 + 2 * b * x + c], 1)
    if family == 1:
        return ScalarFunction(
            f"f(x) = {a}·sin({b}·x + {c})",
            lambda x: a * torch.sin(b * x + c),
            lambda x: [a * b * math.cos(b * x + c)], 1)
    if family == 2:
        k = b / 2
        return ScalarFunction(
            f"f(x) = {a}·exp({k}·x)",
            lambda x: a * torch.exp(k * x),
            lambda x: [a * k * math.exp(k * x)], 1)
    if family == 3:
        k = c / 2
        return ScalarFunction(
            f"f(x) = sin({a}·x)·exp({k}·x)",
            lambda x: torch.sin(a * x) * torch.exp(k * x),
            lambda x: [(a * math.cos(a * x) + k * math.sin(a * x)) * math.exp(k * x)], 1)
    if family == 4:
        return ScalarFunction(
            f"f(x) = exp(sin({a}·x))",
            lambda x: torch.exp(torch.sin(a * x)),
            lambda x: [a * math.cos(a * x) * math.exp(math.sin(a * x))], 1)
    if family == 5:
        k = abs(a) / 2
        return ScalarFunction(
            f"f(x) = ({k}·x² + {c})³",
            lambda x: (k * x**2 + c) ** 3,
            lambda x: [3 * (k * x**2 + c) ** 2 * 2 * k * x], 1)
    return ScalarFunction(
        f"f(x) = sin({a}·x²)",
        lambda x: torch.sin(a * x**2),
        lambda x: [2 * a * x * math.cos(a * x**2)], 1)


def _product(values: Iterable[Any]) -> Any:
    result = 1.0
    for v in values:
        result = result * v
    return result


def fresh_multi_function(seed: int, arity: int, family: int | None = None) -> ScalarFunction:
    """A fresh scalar function of ``arity`` variables whose every partial is nonzero in general."""
    rng = random.Random(seed)
    family = rng.randrange(3) if family is None else family % 3
    names = ", ".join(f"v{i + 1}" for i in range(arity))
    a = [_coef(rng, -2, 2) for _ in range(arity)]
    w = [_coef(rng, -1, 1) / 2 for _ in range(arity)]
    c = _coef(rng, -1.5, 1.5)
    if family == 0:
        def f(*v):
            return sum(a[i] * torch.sin(v[i]) for i in range(arity)) + c * _product(v)

        def df(*v):
            return [a[i] * math.cos(v[i]) + c * _product(v[j] for j in range(arity) if j != i)
                    for i in range(arity)]

        text = f"f({names}) = Σ aᵢ·sin(vᵢ) + c·v1·…·v{arity} with a = {a}, c = {c}"
    elif family == 1:
        def f(*v):
            return c * torch.exp(sum(w[i] * v[i] for i in range(arity))) + sum(a[i] * v[i] ** 2 for i in range(arity))

        def df(*v):
            e = math.exp(sum(w[i] * v[i] for i in range(arity)))
            return [c * w[i] * e + 2 * a[i] * v[i] for i in range(arity)]

        text = f"f({names}) = c·exp(Σ wᵢ·vᵢ) + Σ aᵢ·vᵢ² with c = {c}, w = {w}, a = {a}"
    else:
        def f(*v):
            return sum(a[i] * v[i] for i in range(arity)) ** 2 + c * v[0] ** 3

        def df(*v):
            s = sum(a[i] * v[i] for i in range(arity))
            return [2 * a[i] * s + (3 * c * v[0] ** 2 if i == 0 else 0.0) for i in range(arity)]

        text = f"f({names}) = (Σ aᵢ·vᵢ)² + c·v1³ with a = {a}, c = {c}"
    return ScalarFunction(text, f, df, arity)


# --- watching how the student calls f -----------------------------------------------------------


@dataclass(frozen=True)
class _Argument:
    is_tensor: bool
    shape: tuple[int, ...]
    floating: bool
    requires_grad: bool
    value: float | None
    shown: str


class _Watched:
    """``f`` with a record of every argument it was called with."""

    def __init__(self, f: Callable[..., torch.Tensor], text: str) -> None:
        self.f, self.text = f, text
        self.calls: list[tuple[_Argument, ...]] = []

    def __call__(self, *args: Any) -> torch.Tensor:
        record = tuple(_argument(a) for a in args)
        self.calls.append(record)
        for arg in record:
            expect(arg.is_tensor, f"the call of f ({self.text})", "f called with a 0-dim float tensor",
                   f"f called with {arg.shown}",
                   "autograd follows tensors only: make x a tensor with torch.tensor(x, requires_grad=True)")
        return self.f(*args)


def _argument(value: Any) -> _Argument:
    if not isinstance(value, torch.Tensor):
        return _Argument(False, (), False, False, None, describe(value))
    number = float(value.detach().reshape(-1)[0]) if value.numel() == 1 else None
    return _Argument(True, tuple(value.shape), value.is_floating_point(), value.requires_grad, number,
                     describe(value) + (", requires_grad=True" if value.requires_grad else ", requires_grad=False"))


def _expect_called_by_autograd(watched: _Watched, values: tuple[float, ...], call: str) -> None:
    """f ran exactly at the given values, on 0-dim float tensors that require grad."""
    expect(bool(watched.calls), call, "f called on a tensor that requires grad", "f was never called",
           "the answer must come from f itself (a number written in fits one example only): "
           "build the tensor, call f on it, then call backward() on the result")
    for record in watched.calls:
        expect(len(record) == len(values), call, f"f called with {len(values)} arguments",
               f"f called with {len(record)} arguments",
               "pass one tensor for every value, in order: f(*tensors)")
        for arg, value in zip(record, values, strict=True):
            expect(arg.shape == (), call, "f called with 0-dim tensors, such as torch.tensor(2.0)",
                   f"f called with {arg.shown}",
                   "torch.tensor([x]) has shape [1]; torch.tensor(x) (no brackets) is the 0-dim scalar")
            expect(arg.floating, call, "f called with a float tensor", f"f called with {arg.shown}",
                   "gradients exist for float tensors only: use torch.tensor(float(x), requires_grad=True)")
            expect(arg.value is not None and math.isclose(arg.value, value, rel_tol=1e-6, abs_tol=1e-6), call,
                   f"f called at {value:.6g}", f"f called at {arg.value!r}",
                   "f must be called at the given point itself: calling it at nearby points is a finite "
                   "difference, an approximation; here autograd must give the exact slope")
    expect(any(all(a.requires_grad for a in record) for record in watched.calls), call,
           "f called on tensors with requires_grad=True", "f called on tensors that do not require grad",
           "without requires_grad=True autograd records nothing (and a finite difference, f at nearby points, "
           "is an approximation, not autograd): create the tensor with requires_grad=True, call backward() "
           "on f's result and read the tensor's .grad")


def _expect_number(value: Any, what: str) -> float:
    """A plain Python float (or int), not a tensor."""
    if isinstance(value, torch.Tensor):
        fail(what, "a plain Python float", describe(value),
             "x.grad is a tensor: turn it into a number with x.grad.item()")
    expect(isinstance(value, (float, int)) and not isinstance(value, bool), what, "a plain Python float",
           describe(value), "return a number, e.g. x.grad.item(): did you forget `return`?")
    return float(value)


# --- derivative and partials --------------------------------------------------------------------


def derivative(student: Callable, f: Callable[[torch.Tensor], torch.Tensor], x: float, expected: float,
               text: str = "f", *, atol: float = DERIVATIVE_ATOL) -> None:
    """``student(f, x)`` is ``expected``, found by autograd on a 0-dim tensor, as a float, twice in a row."""
    call = f"derivative({text}, {x})"
    results = []
    for attempt in ("first call", "second call"):
        watched = _Watched(f, text)
        found = _expect_number(_call(student, call, watched, x), f"{call}: the returned value ({attempt})")
        _expect_called_by_autograd(watched, (x,), f"{call} ({attempt})")
        results.append(found)
    first, second = results
    expect(math.isclose(second, first, rel_tol=1e-6, abs_tol=1e-9), f"{call}: the same call twice",
           f"{first:.6g} both times", f"{first:.6g}, then {second:.6g}",
           "the second answer differs from the first: is a gradient kept from one call to the next and "
           "added to (a tensor created outside the function, never zeroed)?")
    expect_close(first, expected, f"{call}: the derivative", rtol=DERIVATIVE_RTOL, atol=atol,
                 cause="create x = torch.tensor(x, requires_grad=True), compute y = f(x), call y.backward(), "
                       "and return x.grad.item() (not the value of f)")


def derivative_of(student: Callable, fn: ScalarFunction, x: float) -> None:
    """``derivative`` on a :class:`ScalarFunction`, compared with its analytic derivative."""
    derivative(student, fn.f, x, fn.partials(x)[0], fn.text)


def derivative_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh polynomials, sin/exp functions and compositions, at fresh points."""
    for seed in seeds:
        rng = random.Random(seed)
        for family in rng.sample(range(7), 3):
            derivative_of(student, fresh_function(rng.randrange(10**6), family), round(rng.uniform(-2, 2), 3))


def partials(student: Callable, f: Callable[..., torch.Tensor], values: tuple[float, ...],
             expected: list[float], text: str = "f", *, atol: float = DERIVATIVE_ATOL) -> None:
    """``student(f, *values)`` is the list of partial derivatives, found by autograd, as floats."""
    call = f"partials({text}, {', '.join(str(v) for v in values)})"
    watched = _Watched(f, text)
    found = _call(student, call, watched, *values)
    if isinstance(found, tuple) or isinstance(found, torch.Tensor):
        fail(f"{call}: the returned value", f"a list of {len(values)} floats", describe(found),
             "collect the numbers in a Python list: [t.grad.item() for t in tensors]")
    expect(isinstance(found, list), f"{call}: the returned value", f"a list of {len(values)} floats",
           describe(found), "return a Python list with one float per argument")
    expect(len(found) == len(values), f"{call}: the returned list", f"{len(values)} partial derivatives",
           f"{len(found)} values", "one partial derivative for every value given, however many there are: "
                                   "use *values, not a fixed number of arguments")
    numbers = [_expect_number(v, f"{call}: item {i} of the list") for i, v in enumerate(found)]
    _expect_called_by_autograd(watched, tuple(values), call)
    expect_close(torch.tensor(numbers, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64),
                 f"{call}: the partial derivatives", rtol=DERIVATIVE_RTOL, atol=atol,
                 cause=_partials_cause(numbers, expected))


def _partials_cause(found: list[float], expected: list[float]) -> str:
    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-4)

    if len(found) > 1 and all(close(a, b) for a, b in zip(found, reversed(expected), strict=True)):
        return "the partial derivatives are in reverse order: item i belongs to argument i"
    multiples = [a / b for a, b in zip(found, expected, strict=True) if abs(b) > 1e-6]
    if multiples and any(m > 1.5 for m in multiples) and all(close(m, round(m)) for m in multiples):
        return ("some partials are whole multiples of the right ones: the gradients piled up over several "
                "backward() calls; call f once, backward() once, then read every .grad")
    return ("item i is ∂f/∂(argument i), in the order of the arguments: make one tensor with "
            "requires_grad=True per value, call f on all of them, backward() once, read every .grad")


def partials_of(student: Callable, fn: ScalarFunction, values: tuple[float, ...]) -> None:
    """``partials`` on a :class:`ScalarFunction`, compared with its analytic partials."""
    partials(student, fn.f, values, fn.partials(*values), fn.text)


def partials_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh functions of 1 to 4 variables at fresh points."""
    for seed in seeds:
        rng = random.Random(seed)
        for arity in (1, 2, 3, 4):
            fn = fresh_multi_function(rng.randrange(10**6), arity)
            partials_of(student, fn, tuple(round(rng.uniform(-1.5, 1.5), 3) for _ in range(arity)))


# --- gradient_step -----------------------------------------------------------------------------


def _leaf(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone().requires_grad_(True)


def _broadcast_loss(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss of the mistake: predictions flattened to [N] against y of shape [N, 1]."""
    return (((X @ W + b).reshape(-1) - y) ** 2).mean()


def _simulated_step(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lr: float,
                    *, flat: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """W and b after one step from detached copies, with or without the [N] vs [N, 1] mistake."""
    W, b = _leaf(W), _leaf(b)
    loss = _broadcast_loss(W, b, X, y) if flat else ref.mse_of_line(W, b, X, y)
    loss.backward()
    with torch.no_grad():
        return W - lr * W.grad, b - lr * b.grad


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a.detach().double(), b.detach().double(), rtol=STEP_RTOL, atol=STEP_ATOL))


def _loss_cause(found: float, W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
                after: tuple[torch.Tensor, torch.Tensor]) -> str:
    with torch.no_grad():
        candidates = [
            (_broadcast_loss(W, b, X, y), FLAT_CAUSE),
            (ref.mse_of_line(after[0], after[1], X, y), "this is the loss after the update: return the loss "
                                                        "computed before W and b change"),
            (((X @ W + b - y) ** 2).sum(), "this is the sum of squared errors: take the mean"),
        ]
    for value, cause in candidates:
        if math.isclose(found, float(value), rel_tol=1e-4, abs_tol=1e-4):
            return cause
    return "compute the MSE of X @ W + b against y, call backward(), and return loss.item() before updating"


def _update_cause(name: str, start: torch.Tensor, found: torch.Tensor, expected: torch.Tensor,
                  flat_expected: torch.Tensor, step: int) -> str:
    """Name the mistake from how the student's step compares with the expected one."""
    moved = (start - found).double().flatten()
    wanted = (start - expected).double().flatten()
    if _close(found, flat_expected):
        return FLAT_CAUSE
    if bool(torch.allclose(moved, torch.zeros_like(moved))):
        return f"{name} did not move: " + REBOUND_CAUSE
    mask = wanted.abs() > 1e-3 * wanted.abs().max()
    ratios = moved[mask] / wanted[mask]
    if ratios.numel() and bool(torch.allclose(ratios, ratios.mean().expand_as(ratios), rtol=1e-3)):
        k = float(ratios.mean())
        if step == 2 and math.isclose(k, 2.0, rel_tol=0.05):
            return PILED_UP_CAUSE
        if math.isclose(k, -1.0, rel_tol=1e-3):
            return "the step went uphill: subtract lr * grad (W -= lr * W.grad), do not add it"
        return (f"the step is {k:.3g} times the expected one: use the lr you are given, "
                "exactly as W -= lr * W.grad")
    return f"update {name} by subtracting lr times its own gradient: {name} -= lr * {name}.grad"


def gradient_step(student: Callable, W0: torch.Tensor, b0: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
                  lr: float, steps: int = 1) -> None:
    """``steps`` calls of ``student(W, b, X, y, lr)`` match the reference steps from the same start.

    Each call must return the loss before the update as a float, update the
    caller's W and b in place (they stay leaves that require grad), and leave
    their gradients zeroed or None.
    """
    W, b = _leaf(W0), _leaf(b0)
    W_ref, b_ref = _leaf(W0), _leaf(b0)
    X_in, y_in = X.clone(), y.clone()
    call = f"gradient_step(W {list(W.shape)}, b {list(b.shape)}, X {list(X.shape)}, y {list(y.shape)}, lr={lr})"
    for step in range(1, steps + 1):
        what = call if steps == 1 else f"{call}, call {step} of {steps} on the same W and b"
        W_start, b_start = W.detach().clone(), b.detach().clone()
        found = _call(student, what, W, b, X_in, y_in, lr)
        expected = ref.gradient_step(W_ref, b_ref, X, y, lr)
        if isinstance(found, torch.Tensor):
            fail(f"{what}: the returned loss", "a Python float", describe(found),
                 "a loss kept as a tensor holds on to its whole autograd graph: return loss.item()")
        _expect_number(found, f"{what}: the returned loss")
        expect(torch.equal(X_in, X) and torch.equal(y_in, y), f"{what}: the data", "X and y unchanged",
               "X or y changed", "the step updates W and b only")
        for name, p in (("W", W), ("b", b)):
            expect(p.is_leaf and p.grad_fn is None, f"{what}: the caller's {name}",
                   "a leaf tensor (grad_fn None)", f"{name} has grad_fn {p.grad_fn}", NO_GRAD_CAUSE)
            expect(p.requires_grad, f"{what}: the caller's {name}", "requires_grad=True",
                   "requires_grad=False", f"keep {name} a tensor that requires grad: update it in place under "
                                          "torch.no_grad() and do not call requires_grad_(False) or detach_()")
        flat = _simulated_step(W_start, b_start, X, y, lr, flat=True)
        after = (W_ref.detach(), b_ref.detach())
        expect_close(found, expected, f"{what}: the returned loss", rtol=STEP_RTOL, atol=STEP_ATOL,
                     cause=_loss_cause(found, W_start, b_start, X, y, after))
        for name, p, p_ref, start, flat_p in (("W", W, W_ref, W_start, flat[0]), ("b", b, b_ref, b_start, flat[1])):
            expect_close(p.detach(), p_ref.detach(), f"{what}: the caller's {name} after the step",
                         rtol=STEP_RTOL, atol=STEP_ATOL,
                         cause=_update_cause(name, start, p.detach(), p_ref.detach(), flat_p, step))
        for name, p in (("W", W), ("b", b)):
            left = p.grad
            expect(left is None or not bool(left.detach().abs().sum() > 0), f"{what}: {name}.grad after the step",
                   "zeros (or None)", f"a gradient left behind: {describe(left)}, not all zero", PILED_UP_CAUSE)


def _random_start(g: torch.Generator, features: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(features, 1, generator=g), 5 * torch.randn(1, generator=g)


def gradient_step_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Two steps in a row from fresh starts, on fresh data with 1 to 4 features and fresh learning rates."""
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        for features in (1, int(torch.randint(2, 5, (1,), generator=g))):
            n = int(torch.randint(5, 16, (1,), generator=g))
            X, y = fresh_feature_data(seed + features, n, features)
            W0, b0 = _random_start(g, features)
            lr = round(float(0.001 + 0.019 * torch.rand(1, generator=g)), 4)
            gradient_step(student, W0, b0, X, y, lr, steps=2)


# --- train_manual ------------------------------------------------------------------------------


def _simulated_losses(X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, seed: int, *,
                      zero: bool = True, flat: bool = False) -> list[float]:
    """The reference trajectory, or the one a known mistake gives (never zeroing, [N] vs [N, 1])."""
    W, b = ref.init_parameters(X.shape[1], seed)
    losses = []
    for _ in range(epochs):
        loss = _broadcast_loss(W, b, X, y) if flat else ref.mse_of_line(W, b, X, y)
        loss.backward()
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
        if zero:
            W.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
    return losses


def _trajectory_cause(found: list[float], X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int,
                      seed: int, first_bad: int) -> str:
    def same(other: list[float]) -> bool:
        return all(math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-3) for a, b in zip(found, other, strict=True))

    if same(_simulated_losses(X, y, lr, epochs, seed, flat=True)):
        return FLAT_CAUSE
    if same(_simulated_losses(X, y, lr, epochs, seed, zero=False)):
        return PILED_UP_CAUSE
    reference = _simulated_losses(X, y, lr, epochs + 1, seed)
    if same(reference[1:]):
        return ("each loss was recorded after its update: append loss.item() of the loss computed before "
                "the step (the forward pass at the start of the epoch)")
    if first_bad == 0:
        return ("the first loss is wrong, so the start is: call torch.manual_seed(seed) with the seed given, "
                "then W = torch.randn(X.shape[1], 1, requires_grad=True) and b = torch.zeros(1, requires_grad=True), "
                "before any other random call; and record the MSE before each update")
    return ("the first loss is right but the steps are not: use the lr given, update W and b in place under "
            "torch.no_grad(), and zero both gradients after every update")


def train_manual(student: Callable, X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, seed: int) -> None:
    """``student(X, y, lr, epochs, seed)`` follows the reference trajectory: same losses, same W and b."""
    call = f"train_manual(X {list(X.shape)}, y {list(y.shape)}, lr={lr}, epochs={epochs}, seed={seed})"
    torch.manual_seed(seed + 7919)  # a student who forgets to seed starts somewhere else
    result = _call(student, call, X.clone(), y.clone(), lr, epochs, seed)
    expect(isinstance(result, (tuple, list)) and len(result) == 3, f"{call}: the returned value",
           "a tuple (W, b, losses)", describe(result), "end with `return W, b, losses`")
    W, b, losses = result
    W_ref, b_ref, expected = ref.train_manual(X, y, lr, epochs, seed)
    expect_tensor(W, f"{call}: W")
    expect_tensor(b, f"{call}: b")
    expect_shape(W, list(W_ref.shape), f"{call}: W", "W is torch.randn(X.shape[1], 1): one row per feature")
    expect_shape(b, list(b_ref.shape), f"{call}: b", "b is torch.zeros(1)")
    expect_float_list(losses, epochs, f"{call}: losses")
    bad = [i for i, (a, e) in enumerate(zip(losses, expected, strict=True))
           if not math.isclose(a, e, rel_tol=STEP_RTOL, abs_tol=STEP_ATOL)]
    if bad:
        i = bad[0]
        fail(f"{call}: losses[{i}], the loss before update {i}", f"{expected[i]:.6g}", f"{losses[i]:.6g}",
             _trajectory_cause(losses, X, y, lr, epochs, seed, i))
    for name, p, p_ref in (("W", W, W_ref), ("b", b, b_ref)):
        expect_close(p.detach(), p_ref.detach(), f"{call}: the trained {name}", rtol=STEP_RTOL, atol=STEP_ATOL,
                     cause="return the W and b that the loop updated (after the last step)")


def stable_lr(X: torch.Tensor, fraction: float) -> float:
    """``fraction`` of the largest learning rate for which gradient descent on the MSE converges."""
    A = torch.cat([X, torch.ones(X.shape[0], 1)], dim=1).double()
    largest = float(torch.linalg.eigvalsh(2 * A.T @ A / X.shape[0]).max())
    return round(fraction * 2 / largest, 5)


def train_manual_hidden(student: Callable, seeds: Iterable[int]) -> None:
    """Fresh data sets (1 to 3 features), seeds, stable learning rates and epoch counts."""
    for i, seed in enumerate(seeds):
        g = torch.Generator().manual_seed(seed)
        features = 1 + i % 3
        n = int(torch.randint(6, 16, (1,), generator=g))
        X, y = fresh_feature_data(seed, n, features)
        lr = stable_lr(X, float(0.2 + 0.6 * torch.rand(1, generator=g)))
        epochs = int(torch.randint(15, 60, (1,), generator=g))
        train_manual(student, X, y, lr, epochs, seed=int(torch.randint(1, 10**4, (1,), generator=g)))


# --- running student code ----------------------------------------------------------------------


def _call(student: Callable, call: str, *args: Any) -> Any:
    """Run the student's function; turn the errors of known mistakes into the course's messages."""
    try:
        return student(*args)
    except CheckFailed:
        raise
    except (RuntimeError, TypeError, AttributeError) as error:
        cause = _error_cause(error)
        if cause is None:
            raise
        shown = f"{type(error).__name__}: {str(error).splitlines()[0]}"
    fail(call, "no error", shown, cause)


def _error_cause(error: BaseException) -> str | None:
    text = str(error)
    if "leaf Variable that requires grad is being used in an in-place operation" in text:
        return NO_GRAD_CAUSE
    if "does not require grad and does not have a grad_fn" in text:
        return ("the loss is not connected to W and b: they must require grad, and must not be rebuilt under "
                "torch.no_grad() (W = W - lr * W.grad there makes a tensor autograd does not follow); "
                "update them in place instead")
    if "NoneType" in text and isinstance(error, (TypeError, AttributeError)):
        return ("a .grad is None: after W = W - lr * W.grad, W is a new tensor that is not a leaf and PyTorch "
                "keeps no .grad for it (or backward() was not called); update W in place under torch.no_grad()")
    if "positional argument" in text and isinstance(error, TypeError):
        return ("the function must accept the arguments of the contract, however many: "
                "partials(f, *values) takes any number of values")
    if "backward through the graph a second time" in text:
        return "compute the loss afresh (a new forward pass) before every backward()"
    if "floating point dtype can require gradients" in text:
        return "gradients exist for float tensors only: use float values, e.g. torch.tensor(float(x))"
    return None
