"""The verdict on ``train_model``: what it returned, how it trained, and where it went.

Known mistakes are recognised from evidence: the probes' records (optimizers made, gradients
found waiting at a backward pass) and trajectories of the mistakes, which the judge ran from
the same start (they come in ``expected["mistakes"]``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from coursekit.checks.engine import Case, Observation, is_hidden
from coursekit.checks.expect import describe, expect, expect_close, fail
from coursekit.checks.single_neuron import cases

#: Loss and weight tolerances: float32 rounding of any correct way to write the loop stays
#: below 1e-5 relative over 500 epochs (measured); every mistake moves far more.
RTOL, ATOL = 1e-3, 1e-4


def close(found: list[Any], expected: list[Any]) -> bool:
    """Whether two loss lists agree within the tolerances (NaN and inf never agree)."""
    if len(found) != len(expected):
        return False
    f = torch.tensor([float(v) for v in found], dtype=torch.float64)
    e = torch.tensor([float(v) for v in expected], dtype=torch.float64)
    return bool(torch.isclose(f, e, rtol=RTOL, atol=ATOL).all())


def _given(case: Case) -> tuple[float, int]:
    lr = case.get("lr")
    epochs = case.get("epochs")
    return (cases.DEFAULT_LR if lr is None else lr), (cases.DEFAULT_EPOCHS if epochs is None else epochs)


def _lr_words(lr: float) -> str:
    return "the lr you were given" if is_hidden() else f"lr={lr}"


def _per_epoch(epochs: int) -> str:
    return "one per epoch" if is_hidden() else f"{epochs} (one per epoch)"


def _number(value: float) -> str:
    return "the reference's value" if is_hidden() else f"{value:.6g}"


def train_model(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    if seen.get("declared_defaults"):
        return  # lr=0.01, epochs=500 in the signature: the calls with given values judged the loop
    lr, epochs = _given(case)
    found = seen.get("returned")

    # What came back: one plain float per epoch.
    if isinstance(found, torch.Tensor):
        fail(call, "a list of floats", describe(found),
             "collect loss.item() of each epoch in a Python list and return the list", code="losses_not_a_list")
    expect(isinstance(found, list), call, "a list of floats, one per epoch", describe(found),
           "collect each epoch's loss in a list and return it: did you forget `return`?", code="losses_not_a_list")
    given = "the epochs you were given" if is_hidden() else f"epochs={epochs}"
    expect(len(found) == epochs, f"{call}: number of losses", _per_epoch(epochs), len(found),
           f"the loop must run `epochs` times: you were given {given}, so loop with "
           "`for epoch in range(epochs)` and do not fix the number", code="wrong_loss_count")
    for i, value in enumerate(found):
        if isinstance(value, torch.Tensor):
            fail(f"{call}: loss of epoch {i}", "a Python float", describe(value),
                 "a loss kept as a tensor holds on to its whole autograd graph; store loss.item()",
                 code="loss_kept_as_tensor")
        expect(isinstance(value, float) and not isinstance(value, bool), f"{call}: loss of epoch {i}",
               "a Python float", describe(value), "store loss.item(), a plain float", code="loss_not_float")

    # Which model it trained: the one given (its parameters are read back afterwards).
    optimizers = seen.get("optimizers") or []
    end = seen.get("end") or {}
    values = []
    for name in ("0.weight", "0.bias"):
        p = end.get(name)
        expect(isinstance(p, torch.Tensor) and p.numel() == 1, f"{call}: {name}", "the model's parameter",
               describe(p), "train the model you were given; do not replace its layers", code="model_replaced")
        values.append(float(p.reshape(-1)[0]))
    unchanged = values == [float(v) for v in case["start"]]
    if unchanged and seen.get("backward_passes") == 0 and not any(o.get("over_model") for o in optimizers):
        _new_model(call)

    # How it trained: the optimizer, the gradients, the shapes.
    names = sorted({str(o.get("name")) for o in optimizers})
    expect(all(name == "SGD" for name in names), f"{call}: optimizer", "optim.SGD",
           ", ".join(f"optim.{n}" for n in names),
           "the exercise asks for plain SGD: another optimizer takes other steps and lands elsewhere",
           code="wrong_optimizer")
    for made in optimizers:
        expect(made.get("lr") == lr, f"{call}: learning rate", _lr_words(lr),
               f"lr={made.get('lr')}" if not is_hidden() or made.get("lr") == cases.DEFAULT_LR
               else "another learning rate",
               f"you were given {_lr_words(lr)}: create the optimizer with lr=lr, not a fixed number",
               code="lr_ignored")
        extras = {k: made.get(k) for k in ("momentum", "weight_decay", "dampening") if made.get(k)}
        if made.get("nesterov"):
            extras["nesterov"] = True
        expect(not extras, f"{call}: optimizer", "plain optim.SGD(model.parameters(), lr=lr)",
               "SGD with " + ", ".join(f"{k}={v}" for k, v in extras.items()),
               "leave out momentum, weight decay and the other options: each changes the steps",
               code="sgd_options")
        expect(bool(made.get("over_model")), f"{call}: optimizer", "an optimizer over model.parameters()",
               "an optimizer over other tensors",
               "create it as optim.SGD(model.parameters(), lr=lr), from the model you were given",
               code="optimizer_not_over_model")
    expect(seen.get("piled_up") == 0, f"{call}: gradients", "gradients cleared before every backward()",
           ".grad still held an earlier epoch's gradient when backward() ran again",
           "the gradients piled up from one epoch to the next: did you forget optimizer.zero_grad()?",
           code="zero_grad_missing")
    expect(seen.get("backward_passes") == epochs, f"{call}: backward passes", _per_epoch(epochs),
           seen.get("backward_passes"), "call loss.backward() once in every epoch", code="backward_count")
    reference = [float(v) for v in expected["losses"]]
    broadcast = expected.get("broadcast_first_loss")
    if seen.get("shape_warning") or (
            isinstance(broadcast, float) and len(case["y"]) > 1 and found
            and math.isclose(found[0], broadcast, rel_tol=RTOL)
            and not math.isclose(found[0], reference[0], rel_tol=RTOL)):
        fail(f"{call}: loss", f"{_number(reference[0])} at epoch 0", "the loss of an [N, N] grid of differences"
             if is_hidden() else f"{found[0]:.6g}",
             "predictions and targets have different shapes ([N] against [N, 1]) and broadcast "
             "into an [N, N] grid: keep both [N, 1] (no .squeeze() or .flatten())", code="flat_target_broadcast")
    steps = sum(int(o.get("steps") or 0) for o in optimizers)
    if optimizers:
        expect(steps == epochs, f"{call}: optimizer steps", _per_epoch(epochs), steps,
               "call optimizer.step() once in every epoch, after loss.backward()", code="step_count")

    # Where it went: the model given, trained; the losses and the weights against the reference run.
    if unchanged:
        _new_model(call)
    if not close(found, reference):
        _explain_trajectory(call, found, reference, expected.get("mistakes") or {}, lr)
    for name, value, want in zip(("0.weight", "0.bias"), values, (expected["weight"], expected["bias"]), strict=True):
        expect_close(value, want, f"{call}: {name} after training", rtol=RTOL, atol=ATOL,
                     cause="the weights must end where the reference loop puts them from the same start",
                     code="wrong_final_weights")


def _new_model(call: str) -> None:
    fail(f"{call}: the model's parameters", "the model you were given, trained", "its parameters unchanged",
         "train the model passed in as an argument, not a new one (or a copy)", code="new_model_trained")


def _explain_trajectory(call: str, found: list[float], reference: list[float], mistakes: dict[str, Any],
                        lr: float) -> None:
    """Fail with the mistake whose losses (run by the judge from the same start) match the student's."""
    first = next((i for i, (f, e) in enumerate(zip(found, reference, strict=True))
                  if not math.isclose(f, e, rel_tol=RTOL, abs_tol=ATOL)), 0)
    what = f"{call}: loss of epoch {first}"
    shown = (_number(reference[first]), "another value" if is_hidden() else f"{found[first]:.6g}")
    if len(found) > 1 and close(found[:-1], reference[1:]):
        fail(what, *shown, "each loss must be the one computed before that epoch's step "
                           "(append loss.item() of the loss you called backward() on)", code="loss_after_step")
    suspects = [
        ("adam", "these are Adam's steps: the exercise asks for optim.SGD", "adam_steps"),
        ("no_zero_grad", "the gradients piled up from one epoch to the next: did you forget "
                         "optimizer.zero_grad()?", "zero_grad_missing"),
        ("lr_default", f"these are the steps of lr=0.01: you were given {_lr_words(lr)}, pass lr=lr to the "
                       "optimizer", "lr_ignored"),
    ]
    for key, cause, code in suspects:
        losses = mistakes.get(key)
        if isinstance(losses, list) and losses and close(found[:len(losses)], losses):
            fail(what, *shown, cause, code=code)
    fail(what, *shown, "each epoch must run zero_grad, forward, nn.MSELoss, backward and "
                       "optim.SGD(model.parameters(), lr=lr).step() on the whole batch", code="wrong_trajectory")
