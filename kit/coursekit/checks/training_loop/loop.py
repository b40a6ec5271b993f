"""04_training_loop's verdicts on the loop exercises: train_one_epoch, evaluate and fit."""

from __future__ import annotations

from typing import Any

import torch

from coursekit.checks.engine import Case, Observation, is_hidden, raised_message
from coursekit.checks.expect import describe, expect, expect_close, fail
from coursekit.checks.training_loop.diagnose import mean_loss, plain_float


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(a[k].double(), b[k].double()) for k in b)


# ----------------------------------------------------------------------------- the device tests


def on_device(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """The model sits on another device: every batch and every target must be moved there."""
    device = expected["device"]
    elsewhere = [d for d in seen.get("input_devices", []) if d != device]
    if elsewhere:
        fail(f"{call}: the batches", "every batch moved to `device`, where the model is",
             f"batches left on {', '.join(elsewhere)}",
             "move each batch to the device the model is on: X_batch, y_batch = X_batch.to(device), "
             "y_batch.to(device) (the `device` argument, not a device of your own)", code="batch_not_moved")
    error = seen.get("error")
    if seen.get("forward_passes", 0) == 0:
        if error:
            raised_message(call, error)
        fail(f"{call}: forward passes", "one per batch", "none", "run every batch of the loader through the model",
             code="no_forward")
    if seen.get("loss_calls", 0) == 0:
        fail(f"{call}: the loss", "loss_fn called on each batch", "a loss of your own (loss_fn was never called)",
             "compute the loss with the loss_fn argument: loss = loss_fn(pred, y_batch)", code="loss_fn_unused")
    left = [d for d in seen.get("target_devices", []) if d != device]
    if left:
        fail(f"{call}: the targets given to loss_fn", "targets moved to `device`", f"targets left on {', '.join(left)}",
             "move the targets too: y_batch = y_batch.to(device)", code="target_not_moved")
    if error:
        raised_message(call, error)


# ----------------------------------------------------------------------------- train_one_epoch


def train_one_epoch(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """One epoch from a fixed start and batch order matches the reference epoch, step for step."""
    if case["mode"] == "device":
        on_device(case, seen, expected, call)
        return
    found = plain_float(seen["returned"], f"{call}: the value returned")
    batches, training, steps = expected["batches"], seen["forward_training"], seen["steps"]
    per_batch = "one per batch" if is_hidden() else f"{batches} (one per batch)"
    expect(bool(training), f"{call}: forward passes", per_batch, "none",
           "run every batch of the loader through the model", code="no_forward")
    expect(all(training), f"{call}: mode of the model", "training mode in every forward pass",
           f"eval mode in {sum(not t for t in training)} of {len(training)} passes",
           "call model.train() at the start of the epoch: layers such as dropout behave differently in eval mode",
           code="train_mode_missing")
    expect(seen["piled_up"] == 0, f"{call}: gradients", "every backward pass starting from cleared gradients",
           f"gradients piling up in {seen['piled_up']} parameter updates",
           "the gradient of the previous batch was added to the new one: did you forget optimizer.zero_grad() "
           "before loss.backward()?", code="zero_grad_missing")
    unchanged = _same(seen["params"], expected["start"])
    if steps == 0 and not unchanged:
        fail(f"{call}: optimizer steps", "one step of the optimizer you were given per batch",
             "none, yet the weights changed",
             "use the optimizer argument: do not create an optimizer of your own inside the function",
             code="own_optimizer")
    expect(steps == batches, f"{call}: optimizer steps", per_batch, steps,
           "call optimizer.step() once for every batch, after loss.backward()", code="wrong_step_count")
    expect(not unchanged, f"{call}: the weights after the epoch", "weights moved by the optimizer steps",
           "the very weights the model started with",
           "optimizer.step() found no gradients: zero_grad must come before loss.backward(), not between "
           "backward and step", code="gradients_cleared_before_step")
    for name, value in expected["params"].items():
        expect_close(seen["params"][name], value, f"{call}: parameter {name} after the epoch", rtol=1e-4, atol=1e-5,
                     cause="from the same start and the same batches the weights end elsewhere: for each batch "
                           "forward, loss_fn(prediction, y_batch), zero_grad, backward, step; use the optimizer "
                           "and loss_fn you are given", code="wrong_update")
    mean_loss(found, expected["losses"], expected["sizes"], f"{call}: the value returned")


# ----------------------------------------------------------------------------- evaluate


def evaluate(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """Eval mode, no autograd, no change to the model, the reference's mean batch loss, twice over."""
    if case["mode"] == "device":
        on_device(case, seen, expected, call)
        return
    returned = seen["returned"]
    found = [plain_float(v, f"{call}: the value returned") for v in returned]
    training, grads = seen["forward_training"], seen["forward_grad"]
    expect(bool(training), f"{call}: forward passes", "one per batch", "none",
           "run every batch of the loader through the model", code="no_forward")
    if any(training):
        differ = "" if is_hidden() else f"; two calls gave {found[0]:.6g} and {found[1]:.6g}"
        fail(f"{call}: mode of the model", "eval mode in every forward pass",
             f"training mode in {sum(training)} of {len(training)} passes{differ}",
             "call model.eval() first: in training mode dropout zeroes random units, so the loss changes from "
             "call to call", code="eval_mode_missing")
    expect(not any(grads), f"{call}: autograd", "forward passes under torch.no_grad()", "autograd recording a graph",
           "wrap the loop in `with torch.no_grad():`; evaluation needs no gradients", code="no_grad_missing")
    for name, value in expected["start"].items():
        expect_close(seen["params"][name], value, f"{call}: {name} after evaluation",
                     cause="evaluation must not change the model: no backward, no optimizer step",
                     code="model_changed")
    for value in found:
        mean_loss(value, expected["losses"], expected["sizes"], f"{call}: the value returned")


# ----------------------------------------------------------------------------- fit


def _float_list(values: Any, length: int, what: str) -> list[float]:
    expect(isinstance(values, list), what, "a list of floats, one per epoch", describe(values),
           "collect the losses in a Python list and return it", code="not_a_list")
    wanted = "one value per epoch" if is_hidden() else f"{length} values (one per epoch)"
    expect(len(values) == length, what, wanted, f"{len(values)} values",
           "keep one loss per epoch, for the number of epochs you were given", code="epochs_ignored")
    for i, v in enumerate(values):
        plain_float(v, f"{what} (item {i})")
    return values


def _numbers(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


_WHAT = {"model": "model", "loss_fn": "loss_fn", "optimizer": "optimizer"}


def fit(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """``epochs`` rounds of train_one_epoch then evaluate, their arguments passed on, their losses kept."""
    epochs = case["epochs"]
    returned = seen["returned"]
    expect(isinstance(returned, (tuple, list)) and len(returned) == 2, f"{call}: the value returned",
           "the pair (train_losses, val_losses)", describe(returned), "return train_losses, val_losses",
           code="not_a_pair")
    calls, wanted = seen["calls"], expected["calls"]
    expect(bool(calls), f"{call}: the helpers", "train_one_epoch and evaluate called in every epoch",
           "neither was called", "call your two functions by their names, train_one_epoch(...) and evaluate(...): "
           "the test puts stand-ins there that record how fit calls them", code="helpers_not_called")
    helpers = [c["helper"] for c in calls]
    if helpers != [c["helper"] for c in wanted]:
        rounds = len(helpers) // 2
        if helpers == ["train_one_epoch", "evaluate"] * rounds:
            wanted = "the epochs it was given" if is_hidden() else f"{epochs} epochs"
            fail(f"{call}: epochs", f"{wanted}, each train_one_epoch then evaluate", f"{rounds} epochs",
                 "loop `for _ in range(epochs):`, with the epochs you were given", code="epochs_ignored")
        order = " then ".join(helpers[:6]) + (" ..." if len(helpers) > 6 else "")
        fail(f"{call}: what each epoch does", "train_one_epoch then evaluate, once each, every epoch", order,
             "in each epoch call train_one_epoch(...) once, then evaluate(...) once, and keep both losses",
             code="wrong_epoch_order")
    for got, want in zip(calls, wanted, strict=True):
        helper = got["helper"]
        if got["loader"] != want["loader"]:
            named = {"train": "the training loader", "val": "the validation loader"}
            fail(f"{call}: the loader given to {helper}", named[want["loader"]],
                 named.get(got["loader"], f"another object ({got['loader']})"),
                 "train on train_loader, evaluate on val_loader: the validation loss must come from the "
                 "deliveries the model never trains on", code="wrong_loader")
        for key, name in _WHAT.items():
            if key in want and got.get(key) != want[key]:
                fail(f"{call}: the {name} given to {helper}", f"the {name} fit was given", f"another {name}",
                     f"pass fit's own {name} on, as it is: do not build a new one inside fit",
                     code="arguments_not_passed_on")
        if got["device"] != want["device"]:
            fail(f"{call}: the device given to {helper}", "the `device` fit was given", got["device"],
                 "pass the device argument on: train_one_epoch(..., device) and evaluate(..., device)",
                 code="device_not_passed_on")
    train_losses = _float_list(returned[0], epochs, f"{call}: train_losses")
    val_losses = _float_list(returned[1], epochs, f"{call}: val_losses")
    train_wanted, val_wanted = expected["returned"]
    if train_losses == list(val_wanted) and val_losses == list(train_wanted):
        fail(f"{call}: the value returned", "(train_losses, val_losses)", "(val_losses, train_losses)",
             "the two lists are swapped: return train_losses first", code="losses_swapped")
    expect_close(_numbers(train_losses), _numbers(train_wanted), f"{call}: train_losses", rtol=1e-6, atol=1e-6,
                 cause="append what train_one_epoch(...) returns, in every epoch", code="losses_not_kept")
    expect_close(_numbers(val_losses), _numbers(val_wanted), f"{call}: val_losses", rtol=1e-6, atol=1e-6,
                 cause="append what evaluate(...) returns after each training epoch", code="losses_not_kept")
