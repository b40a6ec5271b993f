"""02_autograd's verdicts on ``derivative`` and ``partials``, and what every verdict of 02 shares.

The expectations (the slopes) come from the judge; here an observation is compared
with them, and a wrong one is explained: f never called, called on something autograd
cannot follow, at another point (a finite difference), a tensor returned where a number
is asked for, gradients piled up, partials in the wrong order.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from coursekit.checks.autograd import functions
from coursekit.checks.engine import Case, Observation, is_hidden
from coursekit.checks.expect import describe, expect, expect_close, fail

#: Tolerances measured on the reference: float32 autograd agrees with the float64 analytic
#: answers to about 1e-6 relative; other correct styles agree with the reference to 1e-6.
DERIVATIVE_RTOL, DERIVATIVE_ATOL = 1e-4, 1e-4
#: The partials of the courier's MSE at its least-squares line are 0; float32 rounding of numbers
#: near 1000 leaves a few millionths, so that example is compared with a looser absolute tolerance.
FLAT_POINT_ATOL = 1e-3

NO_REQUIRES_GRAD_CAUSE = (
    "without requires_grad=True autograd records nothing (and a finite difference, f at nearby points, "
    "is an approximation, not autograd): create the tensor with requires_grad=True, call backward() "
    "on f's result and read the tensor's .grad"
)


def describe_derivative(case: Case) -> str:
    return f"derivative({functions.text(case['function'])}, {case['x']})"


def describe_partials(case: Case) -> str:
    return f"partials({functions.text(case['function'])}, {', '.join(str(v) for v in case['values'])})"


# --- shared by every verdict of 02 --------------------------------------------------------------


def error_cause(record: dict[str, Any], descent: bool = False) -> tuple[str | None, str]:
    """(likely cause, mistake code) of an error the student's function raised.

    ``descent``: the error came from gradient_step or train_manual (W and b), not from a slope of f.
    """
    kind, text = str(record.get("type", "")), str(record.get("message", ""))
    if "leaf Variable that requires grad is being used in an in-place operation" in text:
        return ("the update W -= lr * W.grad was recorded by autograd: put the update inside "
                "`with torch.no_grad():`"), "update_recorded"
    if "does not require grad and does not have a grad_fn" in text:
        if descent:
            return ("the loss is not connected to W and b: they must require grad, and must not be rebuilt "
                    "under torch.no_grad() (W = W - lr * W.grad there makes a tensor autograd does not follow); "
                    "update them in place instead"), "no_requires_grad"
        return ("backward() found no tensor that requires grad behind f's result: create the tensor with "
                "torch.tensor(x, requires_grad=True) before calling f on it"), "no_requires_grad"
    if "NoneType" in text and kind in ("TypeError", "AttributeError"):
        if descent:
            return ("a .grad is None: after W = W - lr * W.grad, W is a new tensor that is not a leaf and "
                    "PyTorch keeps no .grad for it (or backward() was not called); update W in place under "
                    "torch.no_grad()"), "grad_none"
        return ("a .grad is None: backward() did not reach that tensor (or was not called). Read .grad of the "
                "tensor you created with requires_grad=True and passed to f, not of a tensor computed from it"), \
            "grad_none"
    if "positional argument" in text and kind == "TypeError":
        return ("the function must accept the arguments of the exercise, however many: "
                "partials(f, *values) takes any number of values"), "fixed_argument_count"
    if "backward through the graph a second time" in text:
        return "compute the result afresh (a new forward pass) before every backward()", "graph_reused"
    if "dtype can require gradients" in text:
        return ("gradients exist for float tensors only: use float values, e.g. torch.tensor(float(x), "
                "requires_grad=True)"), "integer_tensor"
    return None, "raised"


def raised(what: str, record: Any, descent: bool = False) -> None:
    """Fail because the student's function raised ``record``; name the mistake when it is a known one."""
    record = record if isinstance(record, dict) else {}
    cause, code = error_cause(record, descent)
    where = f" ({record['where']})" if record.get("where") else ""
    fail(what, "it runs without an error", f"{record.get('type')}: {record.get('message')}{where}",
         cause or "read the error: the line shown is where your function stopped", code=code)


def expect_number(value: Any, what: str, tensor_cause: str, tensor_code: str) -> float:
    """A plain Python number (float or int), not a tensor."""
    if isinstance(value, torch.Tensor):
        fail(what, "a plain Python float", describe(value), tensor_cause, code=tensor_code)
    expect(isinstance(value, (float, int)) and not isinstance(value, bool), what, "a plain Python float",
           describe(value), "return a number, e.g. x.grad.item(): did you forget `return`?", code="not_a_number")
    return float(value)


# --- how f was called ---------------------------------------------------------------------------


def _expect_tensor_arguments(calls: list, values: list[float], what: str) -> None:
    """Every call of f had one tensor per value (checked before an error, which these mistakes cause)."""
    for record in calls:
        for arg in record:
            expect(bool(arg.get("tensor")), f"{what}: the call of f", "f called with 0-dim float tensors",
                   f"f called with a {arg.get('type')}",
                   "autograd follows tensors only: make x a tensor with torch.tensor(x, requires_grad=True)",
                   code="f_not_given_a_tensor")
        expect(len(record) == len(values), f"{what}: the call of f", f"f called with {len(values)} argument(s)",
               f"f called with {len(record)} argument(s)", "pass one tensor for every value, in order: f(*tensors)",
               code="wrong_argument_count")


def _expect_autograd_calls(calls: list, count: Any, values: list[float], what: str) -> None:
    """f ran at exactly the given values, on 0-dim float tensors; every argument required grad in some call.

    All arguments requiring grad in one call (one backward for every partial) and one argument at a
    time (one backward per partial) are both right.
    """
    expect(isinstance(count, int) and count > 0, what, "f called on a tensor that requires grad",
           "f was never called",
           "the answer must come from f itself (a number written in fits one example only): "
           "build the tensor, call f on it, then call backward() on the result", code="f_never_called")
    for record in calls:
        for arg, value in zip(record, values, strict=True):
            shown = f"a tensor of shape {arg.get('shape')}, dtype {arg.get('dtype')}"
            expect(arg.get("shape") == [], what, "f called with 0-dim tensors, such as torch.tensor(2.0)",
                   f"f called with {shown}",
                   "torch.tensor([x]) has shape [1]; torch.tensor(x) (no brackets) is the 0-dim scalar",
                   code="not_0_dim")
            expect(bool(arg.get("floating")), what, "f called with a float tensor", f"f called with {shown}",
                   "gradients exist for float tensors only: use torch.tensor(float(x), requires_grad=True)",
                   code="integer_tensor")
            at = arg.get("value")
            here = isinstance(at, (float, int)) and math.isclose(at, value, rel_tol=1e-6, abs_tol=1e-6)
            expect(here, what, "f called at the given point" if is_hidden() else f"f called at {value:.6g}",
                   "f called at another point" if is_hidden() else f"f called at {at!r}",
                   "f must be called at the given point itself: calling it at nearby points is a finite "
                   "difference, an approximation; here autograd must give the exact slope", code="finite_difference")
    covered = {i for record in calls for i, arg in enumerate(record) if arg.get("requires_grad") is True}
    expect(bool(covered), what, "f called on tensors with requires_grad=True",
           "f called only on tensors that do not require grad", NO_REQUIRES_GRAD_CAUSE, code="no_requires_grad")
    missing = [i + 1 for i in range(len(values)) if i not in covered]
    expect(not missing, what, "every argument requiring grad when its partial is taken "
                              "(all in one call of f, or one at a time)",
           f"argument {', '.join(map(str, missing))} never required grad in any call of f",
           "each partial must come from autograd: the tensor of argument i needs requires_grad=True in the "
           "call of f whose backward() gives ∂f/∂(argument i)", code="partial_not_by_autograd")


# --- derivative ---------------------------------------------------------------------------------


def derivative(case: Case, seen: Observation, expected: dict[str, float], call: str) -> None:
    """A float found by autograd at x (f called there on a 0-dim tensor that requires grad), twice alike."""
    attempts = seen["attempts"]
    found = []
    for label, attempt in zip(("first call", "second call"), attempts, strict=False):
        what = f"{call}, {label}"
        _expect_tensor_arguments(attempt["calls"], [case["x"]], what)
        if attempt["error"] is not None:
            raised(what, attempt["error"])
        number = expect_number(attempt["returned"], f"{what}: the returned value",
                               "x.grad is a tensor: turn it into a number with x.grad.item()", "grad_not_float")
        _expect_autograd_calls(attempt["calls"], attempt["count"], [case["x"]], what)
        found.append(number)
    first, second = found  # a ValueError (an unreadable observation) unless both calls were observed
    expect(math.isclose(second, first, rel_tol=1e-6, abs_tol=1e-9), f"{call}: the same call twice",
           "the same number both times",
           "a different number on the second call" if is_hidden() else f"{first:.6g}, then {second:.6g}",
           "the second answer differs from the first: is a gradient kept from one call to the next and "
           "added to (a tensor created outside the function, never zeroed)?", code="gradient_kept_between_calls")
    if math.isclose(first, expected["value"], rel_tol=1e-4, abs_tol=1e-4) and not math.isclose(
            first, expected["slope"], rel_tol=DERIVATIVE_RTOL, abs_tol=DERIVATIVE_ATOL):
        cause, code = ("the number returned is f(x), the value of f, not its slope: after y.backward(), "
                       "return x.grad.item() (not the value of f)"), "value_not_slope"
    else:
        cause, code = ("create x = torch.tensor(x, requires_grad=True), compute y = f(x), call y.backward(), "
                       "and return x.grad.item() (not the value of f)"), "wrong_derivative"
    expect_close(first, expected["slope"], f"{call}: the derivative", rtol=DERIVATIVE_RTOL, atol=DERIVATIVE_ATOL,
                 cause=cause, code=code)


# --- partials -----------------------------------------------------------------------------------


def _partials_cause(found: list[float], expected: list[float]) -> tuple[str, str]:
    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-4)

    if len(found) > 1 and all(close(a, b) for a, b in zip(found, reversed(expected), strict=True)):
        return "the partial derivatives are in reverse order: item i belongs to argument i", "reversed_order"
    multiples = [a / b for a, b in zip(found, expected, strict=True) if abs(b) > 1e-6]
    if multiples and any(m > 1.5 for m in multiples) and all(close(m, round(m)) for m in multiples):
        return ("some partials are whole multiples of the right ones: the gradients piled up over several "
                "backward() calls on the same tensors. Either call backward() once and read every .grad, or "
                "take one partial at a time with fresh tensors (or zero each .grad before the next backward())"),\
            "gradients_piled_up"
    return ("item i is ∂f/∂(argument i), in the order of the arguments: make one tensor with "
            "requires_grad=True per value, call f on them, call backward(), and read each .grad"), "wrong_partials"


def partials(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """A list of floats, one per value, each found by autograd (in one backward or one per variable)."""
    values = list(case["values"])
    _expect_tensor_arguments(seen["calls"], values, call)
    if seen["error"] is not None:
        raised(call, seen["error"])
    found = seen["returned"]
    what = f"{call}: the returned value"
    expect(isinstance(found, list), what, f"a list of {len(values)} floats", describe(found),
           "collect the numbers in a Python list: [t.grad.item() for t in tensors]"
           if isinstance(found, (tuple, torch.Tensor)) else "return a Python list with one float per argument",
           code="not_a_list")
    expect(len(found) == len(values), f"{call}: the returned list", f"{len(values)} partial derivatives",
           f"{len(found)} values", "one partial derivative for every value given, however many there are: "
                                   "use *values, not a fixed number of arguments", code="wrong_length")
    numbers = [expect_number(v, f"{call}: item {i} of the list",
                             "t.grad is a tensor: turn it into a number with t.grad.item()", "grad_not_float")
               for i, v in enumerate(found)]
    _expect_autograd_calls(seen["calls"], seen["count"], values, call)
    wanted = list(expected["partials"])
    atol = FLAT_POINT_ATOL if case["function"].get("family") == "line_mse" else DERIVATIVE_ATOL
    cause, code = _partials_cause(numbers, wanted)  # only shown when the partials are wrong
    expect_close(torch.tensor(numbers, dtype=torch.float64), torch.tensor(wanted, dtype=torch.float64),
                 f"{call}: the partial derivatives", rtol=DERIVATIVE_RTOL, atol=atol, cause=cause, code=code)
