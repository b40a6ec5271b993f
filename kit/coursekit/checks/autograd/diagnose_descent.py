"""02_autograd's verdicts on the two descent exercises, ``gradient_step`` and ``train_manual``.

The judge sends the reference's steps, and the steps or trajectories that the known
mistakes give ([N] against [N, 1], gradients never zeroed, the loss after the update):
a wrong result is explained by the mistake it matches.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from coursekit.checks.autograd.diagnose import expect_number, raised
from coursekit.checks.engine import Case, Observation, is_hidden
from coursekit.checks.expect import describe, expect, expect_close, expect_shape, expect_tensor, fail

#: Tolerances measured on the reference: other correct styles (F.mse_loss, sum / N, autograd.grad,
#: .data updates) agree with it to about 1e-6.
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


def describe_gradient_step(case: Case) -> str:
    shapes = ", ".join(f"{k} {list(case[k].shape)}" for k in ("W", "b", "X", "y"))
    return f"gradient_step({shapes}, lr={case['lr']})"


def describe_train_manual(case: Case) -> str:
    return (f"train_manual(X {list(case['X'].shape)}, y {list(case['y'].shape)}, lr={case['lr']}, "
            f"epochs={case['epochs']}, seed={case['seed']})")


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a.double(), b.double(), rtol=STEP_RTOL, atol=STEP_ATOL))


# --- gradient_step ------------------------------------------------------------------------------


def loss_cause(found: float, expected: dict[str, Any]) -> tuple[str, str]:
    candidates = [
        ("flat_loss", FLAT_CAUSE, "flat_target_broadcast"),
        ("loss_after", "this is the loss after the update: return the loss computed before W and b change",
         "loss_after_update"),
        ("sum_loss", "this is the sum of squared errors: take the mean", "sum_not_mean"),
    ]
    for key, cause, code in candidates:
        if math.isclose(found, float(expected[key]), rel_tol=1e-4, abs_tol=1e-4):
            return cause, code
    return ("compute the MSE of X @ W + b against y, call backward(), and return loss.item() before updating",
            "wrong_loss")


def update_cause(name: str, start: torch.Tensor, found: torch.Tensor, expected: torch.Tensor,
                 flat_expected: torch.Tensor, step: int) -> tuple[str, str]:
    """(likely cause, code): the mistake named from how the student's step compares with the expected one."""
    if found.shape != expected.shape:
        return f"{name} changed shape: update it in place, {name} -= lr * {name}.grad", "wrong_update"
    moved = (start - found).double().flatten()
    wanted = (start - expected).double().flatten()
    if _close(found, flat_expected):
        return FLAT_CAUSE, "flat_target_broadcast"
    if bool(torch.allclose(moved, torch.zeros_like(moved))):
        return f"{name} did not move: " + REBOUND_CAUSE, "parameter_rebound"
    mask = wanted.abs() > 1e-3 * wanted.abs().max()
    ratios = moved[mask] / wanted[mask]
    if ratios.numel() and bool(torch.allclose(ratios, ratios.mean().expand_as(ratios), rtol=1e-3)):
        k = float(ratios.mean())
        if step == 2 and math.isclose(k, 2.0, rel_tol=0.05):
            return PILED_UP_CAUSE, "zero_grad_missing"
        if math.isclose(k, -1.0, rel_tol=1e-3):
            return "the step went uphill: subtract lr * grad (W -= lr * W.grad), do not add it", "step_uphill"
        return (f"the step is {k:.3g} times the expected one: use the lr you are given, "
                "exactly as W -= lr * W.grad"), "lr_ignored"
    return f"update {name} by subtracting lr times its own gradient: {name} -= lr * {name}.grad", "wrong_update"


def gradient_step(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """Each call: the loss before the step as a float; W and b updated in place, still leaves that
    require grad, matching the reference's step from the same start; their gradients zeroed or None."""
    count = int(case["steps"])
    steps = seen["steps"]
    for step, (found, wanted) in enumerate(zip(steps, expected["steps"], strict=False), start=1):
        what = call if count == 1 else f"{call}, call {step} of {count} on the same W and b"
        if found["error"] is not None:
            raised(what, found["error"], descent=True)
        loss = expect_number(found["returned"], f"{what}: the returned loss",
                             "a loss kept as a tensor holds on to its whole autograd graph: return loss.item()",
                             "loss_not_float")
        expect(found["data_unchanged"] is True, f"{what}: the data", "X and y unchanged", "X or y changed",
               "the step updates W and b only: leave X and y as they are", code="data_changed")
        for name in ("W", "b"):
            p = found[name]
            expect(p["leaf"] is True, f"{what}: the caller's {name}", "a leaf tensor (grad_fn None)",
                   f"{name} is no longer a leaf: autograd recorded a change to it", NO_GRAD_CAUSE,
                   code="update_recorded")
            expect(p["requires_grad"] is True, f"{what}: the caller's {name}", "requires_grad=True",
                   "requires_grad=False", f"keep {name} a tensor that requires grad: update it in place under "
                                          "torch.no_grad() and do not call requires_grad_(False) or detach_()",
                   code="requires_grad_lost")
        cause, code = loss_cause(loss, wanted)  # only shown when the loss is wrong
        expect_close(loss, wanted["loss"], f"{what}: the returned loss", rtol=STEP_RTOL, atol=STEP_ATOL,
                     cause=cause, code=code)
        for name in ("W", "b"):
            value = expect_tensor(found[name]["value"], f"{what}: the caller's {name}")
            cause, code = update_cause(name, wanted[f"start_{name}"], value, wanted[name], wanted[f"flat_{name}"],
                                       step)  # only shown when the step is wrong
            expect_close(value, wanted[name], f"{what}: the caller's {name} after the step", rtol=STEP_RTOL,
                         atol=STEP_ATOL, cause=cause, code=code)
        for name in ("W", "b"):
            left = found[name]["grad"]
            clean = left is None or (isinstance(left, torch.Tensor) and not bool(left.abs().sum() > 0))
            expect(clean, f"{what}: {name}.grad after the step", "zeros (or None)",
                   f"a gradient left behind: {describe(left)}, not all zero", PILED_UP_CAUSE, code="zero_grad_missing")
    if len(steps) != count:
        raise ValueError("an observation without every step")


# --- train_manual -------------------------------------------------------------------------------


def trajectory_cause(losses: list[float], expected: dict[str, Any], first_bad: int) -> tuple[str, str]:
    def same(other: list[float]) -> bool:
        return len(other) == len(losses) and all(
            math.isclose(a, float(b), rel_tol=1e-3, abs_tol=1e-3) for a, b in zip(losses, other, strict=True))

    if same(expected["flat_losses"]):
        return FLAT_CAUSE, "flat_target_broadcast"
    if same(expected["piled_losses"]):
        return PILED_UP_CAUSE, "zero_grad_missing"
    if same(expected["later_losses"]):
        return ("each loss was recorded after its update: append loss.item() of the loss computed before "
                "the step (the forward pass at the start of the epoch)"), "loss_after_update"
    if first_bad == 0:
        return ("the first loss is wrong, so the start is: call torch.manual_seed(seed) with the seed given, "
                "then W = torch.randn(X.shape[1], 1, requires_grad=True) and b = torch.zeros(1, requires_grad=True), "
                "before any other random call; and record the MSE before each update"), "wrong_start"
    return ("the first loss is right but the steps are not: use the lr given, update W and b in place under "
            "torch.no_grad(), and zero both gradients after every update"), "wrong_steps"


def _expect_losses(losses: Any, epochs: int, what: str) -> list[float]:
    """A Python list of ``epochs`` plain floats."""
    expect(isinstance(losses, list), what, f"a Python list of {epochs} floats", describe(losses),
           "collect the losses in a list: losses = [] before the loop, losses.append(loss.item()) in it",
           code="losses_not_a_list")
    expect(len(losses) == epochs, what, f"{epochs} values", f"{len(losses)} values",
           "one loss per epoch: is the loop running for the number you were given?", code="wrong_epoch_count")
    for i, v in enumerate(losses):
        expect(isinstance(v, float), f"{what} (item {i})", "a Python float", describe(v),
               "a loss kept as a tensor holds on to its whole autograd graph; turn it into a number with loss.item()"
               if isinstance(v, torch.Tensor) else "append loss.item(), a Python float", code="loss_not_float")
    return losses


def train_manual(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """(W, b, losses): W and b of the right shapes, losses a list of floats; all along the reference's
    trajectory from the seeded start."""
    if seen["error"] is not None:
        raised(call, seen["error"], descent=True)
    result = seen["returned"]
    expect(isinstance(result, (tuple, list)) and len(result) == 3, f"{call}: the returned value",
           "a tuple (W, b, losses)", describe(result), "end with `return W, b, losses`", code="wrong_return")
    W, b, losses = result
    W_ref, b_ref = expected["W"], expected["b"]
    expect_tensor(W, f"{call}: W")
    expect_tensor(b, f"{call}: b")
    expect_shape(W, list(W_ref.shape), f"{call}: W", "W is torch.randn(X.shape[1], 1): one row per feature")
    expect_shape(b, list(b_ref.shape), f"{call}: b", "b is torch.zeros(1)")
    losses = _expect_losses(losses, int(case["epochs"]), f"{call}: losses")
    wanted = [float(v) for v in expected["losses"]]
    bad = [i for i, (a, e) in enumerate(zip(losses, wanted, strict=True))
           if not math.isclose(a, e, rel_tol=STEP_RTOL, abs_tol=STEP_ATOL)]
    if bad:
        i = bad[0]
        cause, code = trajectory_cause(losses, expected, i)
        shown_e, shown_f = (("the reference's loss on this case", f"a loss off by {abs(losses[i] - wanted[i]):.3g}")
                            if is_hidden() else (f"{wanted[i]:.6g}", f"{losses[i]:.6g}"))
        fail(f"{call}: losses[{i}], the loss before update {i}", shown_e, shown_f, cause, code=code)
    for name, p, p_ref in (("W", W, W_ref), ("b", b, b_ref)):
        expect_close(p, p_ref, f"{call}: the trained {name}", rtol=STEP_RTOL, atol=STEP_ATOL,
                     cause="return the W and b that the loop updated (after the last step)", code="wrong_parameters")
