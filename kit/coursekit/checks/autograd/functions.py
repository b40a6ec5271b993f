"""The functions 02_autograd's checks hand to ``derivative`` and ``partials``, written as plain data.

A test case cannot carry a Python function (cases cross between the student's kernel
and the judge as JSON), so a function travels as a *spec*: ``{"family": ..., "params":
{...}}``. :func:`build` turns a spec into the function the student's code is given
(a function of 0-dim tensors, built from torch operations). The slopes of these
functions are not here: the judge knows them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

import torch

from coursekit.data.delivery import BIKE_A_MILES, BIKE_A_MINUTES

Spec = dict[str, Any]

#: The one-variable families of the hidden tests, in the order the seeds pick them.
ONE_VARIABLE = ("cubic", "sine", "exp", "sin_exp", "exp_sin", "cubed_square", "sin_square")
#: The families of several variables of the hidden tests, in the order the seeds pick them.
SEVERAL_VARIABLES = ("sines_and_product", "exp_and_squares", "square_and_cube")

#: What a student is told about a hidden function: a few words, no numbers.
KINDS = {
    "cubic": "a cubic polynomial",
    "sine": "a sine",
    "exp": "an exponential",
    "sin_exp": "sin times exp (product rule)",
    "exp_sin": "exp of a sine (chain rule)",
    "cubed_square": "a quadratic cubed (chain rule)",
    "sin_square": "sin of a square (chain rule)",
    "sines_and_product": "sines plus a product of all variables",
    "exp_and_squares": "an exponential plus squares",
    "square_and_cube": "a squared sum plus a cube",
}

#: The functions of the notebook's visible tests, by the name a grade cell gives.
EXAMPLES: dict[str, Spec] = {
    "3x² - 4x": {"family": "cubic", "params": {"a": 0.0, "b": 3.0, "c": -4.0, "d": 0.0}},
    "sin(x²)": {"family": "sin_square", "params": {"a": 1.0}},
    "a·b + a": {"family": "bilinear", "params": {"p": 1.0, "q": 1.0, "r": 0.0}},
    "the courier's MSE": {"family": "line_mse", "params": {"xs": BIKE_A_MILES, "ys": BIKE_A_MINUTES}},
}


def example(name: str) -> Spec:
    """The spec of a visible example, with its name (for messages)."""
    if name not in EXAMPLES:
        raise KeyError(f"no example function {name!r}; the examples are {', '.join(EXAMPLES)}")
    return {**EXAMPLES[name], "name": name}


def arity(spec: Spec) -> int:
    """How many arguments the function takes."""
    family, p = spec["family"], spec["params"]
    if family in ONE_VARIABLE:
        return 1
    if family in ("bilinear", "line_mse"):
        return 2
    return len(p["a"])


def _product(values: Iterable[Any]) -> Any:
    result = 1.0
    for v in values:
        result = result * v
    return result


def build(spec: Spec) -> Callable[..., torch.Tensor]:
    """The function itself: 0-dim tensors in, a 0-dim tensor out."""
    family, p = spec["family"], spec["params"]
    if family == "cubic":
        a, b, c, d = p["a"], p["b"], p["c"], p["d"]
        return lambda x: a * x**3 + b * x**2 + c * x + d
    if family == "sine":
        a, b, c = p["a"], p["b"], p["c"]
        return lambda x: a * torch.sin(b * x + c)
    if family == "exp":
        a, k = p["a"], p["k"]
        return lambda x: a * torch.exp(k * x)
    if family == "sin_exp":
        a, k = p["a"], p["k"]
        return lambda x: torch.sin(a * x) * torch.exp(k * x)
    if family == "exp_sin":
        a = p["a"]
        return lambda x: torch.exp(torch.sin(a * x))
    if family == "cubed_square":
        k, c = p["k"], p["c"]
        return lambda x: (k * x**2 + c) ** 3
    if family == "sin_square":
        a = p["a"]
        return lambda x: torch.sin(a * x**2)
    if family == "sines_and_product":
        a, c = list(p["a"]), p["c"]
        return lambda *v: sum(a[i] * torch.sin(v[i]) for i in range(len(a))) + c * _product(v)
    if family == "exp_and_squares":
        a, w, c = list(p["a"]), list(p["w"]), p["c"]
        return lambda *v: (c * torch.exp(sum(w[i] * v[i] for i in range(len(a))))
                           + sum(a[i] * v[i] ** 2 for i in range(len(a))))
    if family == "square_and_cube":
        a, c = list(p["a"]), p["c"]
        return lambda *v: sum(a[i] * v[i] for i in range(len(a))) ** 2 + c * v[0] ** 3
    if family == "bilinear":
        pp, q, r = p["p"], p["q"], p["r"]
        return lambda u, v: pp * u * v + q * u + r * v
    if family == "line_mse":
        xs = torch.tensor(p["xs"], dtype=torch.float32).reshape(-1, 1)
        ys = torch.tensor(p["ys"], dtype=torch.float32).reshape(-1, 1)
        return lambda w, b: ((w * xs + b - ys) ** 2).mean()
    raise ValueError(f"unknown function family {family!r}")


def text(spec: Spec) -> str:
    """How a visible message names the function."""
    if "name" in spec:
        return str(spec["name"])
    family, p = spec["family"], spec["params"]
    shown = ", ".join(f"{k} = {v}" for k, v in p.items())
    return f"{KINDS.get(family, family)} with {shown}"


# --- fresh functions of the hidden tests ---------------------------------------------------------


def _coef(rng: random.Random, low: float, high: float) -> float:
    value = round(rng.uniform(low, high), 1)
    return value if value != 0 else 0.5


def fresh_function(seed: int, family: int) -> Spec:
    """A fresh function of one variable of family ``ONE_VARIABLE[family % 7]``."""
    rng = random.Random(seed)
    name = ONE_VARIABLE[family % 7]
    a, b, c, d = (_coef(rng, -2, 2) for _ in range(4))
    params = {
        "cubic": {"a": a, "b": b, "c": c, "d": d},
        "sine": {"a": a, "b": b, "c": c},
        "exp": {"a": a, "k": b / 2},
        "sin_exp": {"a": a, "k": c / 2},
        "exp_sin": {"a": a},
        "cubed_square": {"k": abs(a) / 2, "c": c},
        "sin_square": {"a": a},
    }[name]
    return {"family": name, "params": params}


def fresh_multi_function(seed: int, variables: int, family: int | None = None) -> Spec:
    """A fresh function of ``variables`` variables whose every partial is nonzero in general."""
    rng = random.Random(seed)
    family = rng.randrange(3) if family is None else family % 3
    a = [_coef(rng, -2, 2) for _ in range(variables)]
    w = [_coef(rng, -1, 1) / 2 for _ in range(variables)]
    c = _coef(rng, -1.5, 1.5)
    name = SEVERAL_VARIABLES[family]
    params: dict[str, Any] = {"a": a, "c": c}
    if name == "exp_and_squares":
        params["w"] = w
    return {"family": name, "params": params}
