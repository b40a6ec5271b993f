"""04_training_loop's verdicts on the data exercises (DeliveryDataset, make_loaders), and what they share.

A verdict compares an observation with its expectation and, on a mismatch, raises the
three-part message with a mistake code. On a hidden case no message shows the case's
data or expected values (``engine.is_hidden()``); it still says what the function did.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from coursekit.checks.engine import Case, Observation, is_hidden, raised_message
from coursekit.checks.expect import (
    describe,
    expect,
    expect_close,
    expect_shape,
    expect_tensor,
    fail,
)
from coursekit.checks.wire import seen as seen_tensor


def _batches(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def describe_case(case: Case) -> str:
    """How a visible call is named in messages."""
    X, mode = case["X"], case["mode"]
    if mode == "dataset":
        return f"DeliveryDataset(X {list(X.shape)}, y {list(case['y'].shape)})"
    if mode == "loaders":
        return (f"make_loaders(X {list(X.shape)}, y, batch_size={case['batch_size']}, "
                f"val_fraction={case['val_fraction']}, seed={case['seed']})")
    if mode == "train":
        hidden = ", a model with a hidden layer" if case["hidden"] else ""
        return (f"train_one_epoch (lr={case['lr']}, {len(X)} samples in {_batches(len(X), case['batch_size'])} "
                f"batches of up to {case['batch_size']}{hidden})")
    if mode == "evaluate":
        return (f"evaluate ({len(X)} samples in {_batches(len(X), case['batch_size'])} batches, "
                "a model with dropout)")
    if mode == "fit":
        where = "the model on another device than the CPU, " if case["device"] != "cpu" else ""
        return f"fit({where}epochs={case['epochs']})"
    return f"{case.get('function')}(a model on another device than the CPU, a loader of CPU batches, ..., device)"


# ----------------------------------------------------------------------------- shared


def plain_float(value: Any, what: str) -> float:
    """The value, when it is a Python float (a loss kept as a tensor, or anything else, fails)."""
    if isinstance(value, torch.Tensor):
        graph = " that holds its autograd graph" if seen_tensor(value).grad_fn else ""
        fail(what, "a Python float", f"a tensor{graph} ({describe(value)})",
             "a loss kept as a tensor holds on to the whole graph of its batch: turn it into a number "
             "with loss.item()", code="loss_kept_as_tensor")
    expect(isinstance(value, float) and not isinstance(value, bool), what, "a Python float", describe(value),
           "return a number: add up loss.item() of the batches and divide (did you forget `return`?)",
           code="not_a_float")
    return value


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-4 * abs(b) + 1e-5


def mean_loss(found: float, losses: list[float], sizes: list[int], what: str) -> None:
    """The mean of the batch losses; a mean weighted by batch size is also right."""
    batch_mean = sum(losses) / len(losses)
    sample_mean = sum(loss * n for loss, n in zip(losses, sizes, strict=True)) / sum(sizes)
    if _near(found, batch_mean) or _near(found, sample_mean):
        return
    shown = (f"the mean of the {len(losses)} batch losses" if is_hidden()
             else f"{batch_mean:.6g} (the mean of {len(losses)} batch losses)")
    found_text = "another number" if is_hidden() else f"{found:.6g}"
    cause = "add up loss.item() of every batch and divide by the number of batches"
    if _near(found, losses[-1]):
        fail(what, shown, "the last batch's loss", "this is the last batch's loss alone: " + cause,
             code="last_batch_loss")
    if _near(found, sum(losses)):
        fail(what, shown, "the sum of the batch losses", "this is the sum of the batch losses, not their mean: "
             + cause, code="sum_of_losses")
    fail(what, shown, found_text, cause, code="wrong_mean_loss")


# ----------------------------------------------------------------------------- DeliveryDataset


def dataset(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """A Dataset of N items, item i the pair (X[i], y[i]) with y[i] of shape [1]."""
    expect(seen.get("is_dataset") is True, call, "an instance of torch.utils.data.Dataset",
           f"an object of type {seen.get('type')}",
           "write class DeliveryDataset(torch.utils.data.Dataset): ... (the base class goes in the brackets)",
           code="not_a_dataset")
    if seen.get("length_error"):
        raised_message(f"len({call})", seen["length_error"],
                       "__len__ must return the number of samples as an int: return len(self.X)")
    n = expected["length"]
    expect(seen.get("length") == n, f"len({call})", "N, the number of rows of X" if is_hidden() else n,
           seen.get("length"),
           "len() counts the samples, one per row of X: return len(self.X), not X.numel() or a fixed number",
           code="wrong_length")
    items = seen.get("items")
    expect(isinstance(items, list) and len(items) == len(expected["indices"]), call,
           "items the test can read", describe(items), code="unreadable_result")
    for i, item_seen, (x_expected, y_expected) in zip(expected["indices"], items, expected["items"], strict=True):
        what = f"{call}[{i}]"
        if item_seen.get("error"):
            raised_message(what, item_seen["error"], "__getitem__(self, i) must return the pair (X[i], y[i])")
        item = item_seen.get("item")
        expect(isinstance(item, (tuple, list)) and len(item) == 2, what, "the pair (X[i], y[i])", describe(item),
               "__getitem__ must return two things: return self.X[i], self.y[i]", code="item_not_a_pair")
        x_i = expect_tensor(item[0], f"{what}[0]", "the features of sample i are the tensor X[i]",
                            code="item_not_a_tensor")
        y_i = expect_tensor(item[1], f"{what}[1]",
                            "the target of sample i is the tensor y[i] of shape [1]: a plain number (.item()) "
                            "makes the loader's batch of targets [B] instead of [B, 1]", code="target_not_a_tensor")
        expect_shape(x_i, list(x_expected.shape), f"{what}[0]: shape", "item i holds the i-th row of X: X[i]",
                     code="wrong_item_shape")
        expect_shape(y_i, list(y_expected.shape), f"{what}[1]: shape",
                     "item i holds y[i], of shape [1]; keeping that shape makes the batch of targets [B, 1]",
                     code="target_shape")
        expect_close(x_i, x_expected, f"{what}[0]: values", cause="item i must be (X[i], y[i]): the i-th row of X",
                     code="wrong_item")
        expect_close(y_i, y_expected, f"{what}[1]: values", cause="item i must be (X[i], y[i]): the i-th target",
                     code="wrong_item")
    if seen.get("batch_error"):
        raised_message(f"DataLoader({call})", seen["batch_error"])
    batch = seen.get("batch")
    expect(isinstance(batch, (tuple, list)) and len(batch) == 2, f"DataLoader({call}): a batch",
           "a pair (X_batch, y_batch)", describe(batch), "item i must be the pair (X[i], y[i])",
           code="item_not_a_pair")
    X_expected, y_expected = expected["batch"]
    y_batch = expect_tensor(batch[1], f"DataLoader({call}): batch of targets", code="target_not_a_tensor")
    expect_shape(y_batch, list(y_expected.shape), f"DataLoader({call}): batch of targets",
                 "each target must stay a tensor of shape [1] so that a batch of them is [B, 1]", code="target_shape")
    X_batch = expect_tensor(batch[0], f"DataLoader({call}): batch of features", code="item_not_a_tensor")
    expect_close(X_batch, X_expected, f"DataLoader({call}): batch of features", cause="item i must be (X[i], y[i])",
                 code="wrong_item")


# ----------------------------------------------------------------------------- make_loaders


def _pass(walk: Any, what: str) -> list[int]:
    """The sample order of one pass over a loader; fails on anything that is not a clean pass."""
    expect(isinstance(walk, dict) and walk.get("is_loader") is True, what, "a torch.utils.data.DataLoader",
           walk.get("type") if isinstance(walk, dict) else describe(walk),
           "build each part with DataLoader(dataset, batch_size=..., shuffle=...)", code="not_a_loader")
    if walk.get("error"):
        raised_message(f"{what}: a pass over its batches", walk["error"])
    expect(not walk.get("bad_batch"), f"{what}: a batch", "a pair (X_batch, y_batch)", walk.get("bad_batch"),
           "the loaders serve the pairs (X[i], y[i]) of the dataset: wrap a Dataset (or a Subset of one) in "
           "the DataLoader", code="batch_not_a_pair")
    expect(walk.get("unknown") == 0, f"{what}: the samples", "the rows of X, unchanged",
           f"{walk.get('unknown')} rows that are not rows of X",
           "the loaders must serve the deliveries of X as they are (no scaling, no new rows)", code="samples_changed")
    expect(walk.get("mixed") == 0, f"{what}: the targets", "each sample with its own target",
           f"{walk.get('mixed')} samples with another sample's target",
           "split X and y with the same indices, so that each delivery keeps its own time", code="targets_mixed")
    order = walk.get("order")
    expect(isinstance(order, list) and all(isinstance(i, int) for i in order), what, "samples the test can read",
           describe(order), code="unreadable_result")
    return order


def _batch_sizes(sizes: list[int], total: int, batch_size: int, what: str) -> None:
    expected = [batch_size] * (total // batch_size) + ([total % batch_size] if total % batch_size else [])
    if sizes == expected:
        return
    shown = f"{expected} (batch_size={batch_size})"
    if is_hidden():
        shown = f"batches of batch_size={batch_size}, the last one shorter when the part does not divide evenly"
    fail(f"{what}: batch sizes", shown, sizes, "pass the batch_size argument on to "
         "DataLoader(..., batch_size=batch_size)", code="batch_size_ignored")


def loaders(case: Case, seen: Observation, expected: dict[str, Any], call: str) -> None:
    """A disjoint, complete, seeded split of the asked size, in batches; training shuffles, validation not."""
    if "not_a_pair" in seen:
        fail(call, "the pair (train_loader, val_loader)", seen["not_a_pair"], "return train_loader, val_loader",
             code="not_a_pair")
    n, n_val, batch_size = expected["n"], expected["n_val"], case["batch_size"]
    train = _pass(seen["train"][0], f"{call}: training loader")
    val = _pass(seen["val"][0], f"{call}: validation loader")

    both = set(train) & set(val)
    expect(not both, f"{call}: split", "no sample in both parts",
           f"{len(both)} samples in both the training and the validation loader",
           "the validation samples must be left out of training, or the validation loss says nothing about new "
           "data: split one shuffled list of indices into two parts", code="split_overlap")
    for part, name in ((train, "training"), (val, "validation")):
        expect(len(set(part)) == len(part), f"{call}: {name} loader", "each sample once",
               f"{len(part) - len(set(part))} samples served twice",
               "split a permutation of the indices: do not draw samples with replacement", code="sample_repeated")
    lost = n - len(train) - len(val)
    if lost > 0:
        full = [part for part in (seen["train"][0]["sizes"], seen["val"][0]["sizes"])
                if part and all(s == batch_size for s in part)]
        if full and lost <= len(full) * (batch_size - 1):  # what a dropped last batch can lose
            fail(f"{call}: split", "every sample served, the last batch of each part shorter if need be",
                 f"{lost} sample{'s' if lost > 1 else ''} in neither loader, and no shorter last batch",
                 "keep the last, shorter batch: do not pass drop_last=True to DataLoader", code="last_batch_dropped")
        fail(f"{call}: split", "every sample in one of the two parts" if is_hidden() else f"all {n} samples in one "
             "of the two parts", f"{lost} sample{'s' if lost > 1 else ''} in neither",
             "every sample belongs to one part: check the slice bounds", code="samples_lost")
    if len(val) != n_val:
        shown = ("round(N * val_fraction) samples" if is_hidden()
                 else f"round({n} * {case['val_fraction']}) = {n_val} samples")
        swapped = len(val) == n - n_val and len(val) != n_val
        fail(f"{call}: validation size", shown, f"{len(val)} samples" + (" (the two parts swapped?)" if swapped
                                                                         else ""),
             "the validation part holds round(N * val_fraction) samples; the rest train",
             code="parts_swapped" if swapped else "val_size_wrong")
    _batch_sizes(seen["train"][0]["sizes"], len(train), batch_size, f"{call}: training loader")
    _batch_sizes(seen["val"][0]["sizes"], len(val), batch_size, f"{call}: validation loader")

    train_again = _pass(seen["train"][1], f"{call}: training loader")
    expect(train_again != train, f"{call}: training loader", "the samples dealt into new batches every epoch",
           "the same batches in the same order in two passes",
           "create the training loader with shuffle=True: without it every epoch sees the same batches in the "
           "same order", code="train_not_shuffled")
    val_again = _pass(seen["val"][1], f"{call}: validation loader")
    expect(val_again == val, f"{call}: validation loader", "the same order in every pass",
           "a new order in the second pass", "the validation loader does not shuffle: shuffle=False",
           code="val_shuffled")

    val_second_call = _pass(seen["val_again"], f"{call}, called a second time: validation loader")
    expect(sorted(val_second_call) == sorted(val), f"{call}, called twice", "the same validation samples both times",
           f"{len(set(val_second_call) - set(val))} samples differ",
           "the split must come from the seed: shuffle the indices with "
           "torch.randperm(N, generator=torch.Generator().manual_seed(seed))", code="split_not_seeded")
    val_other = _pass(seen["val_other_seed"], f"{call} with another seed: validation loader")
    expect(sorted(val_other) != sorted(val), f"{call} and the same call with another seed", "two different splits",
           "the same validation samples", "use the seed argument for the split, not a fixed number",
           code="seed_ignored")
