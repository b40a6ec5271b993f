"""Checks of 04_training_loop: datasets, loaders and the training loop, watched as they run.

Every check builds its own data, models, loaders and optimizers from ``autograder``; the
solution under test is the only student code that runs. ``fit`` calls ``train_one_epoch``
and ``evaluate`` by their global names, so its check binds the reference ones in the
notebook's namespace for the duration of the test (and puts the student's back after).
The same is done with ``DeliveryDataset`` for ``make_loaders``.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from autograder.reference import training_loop as ref
from coursekit.checks.expect import (
    describe,
    expect,
    expect_close,
    expect_float_list,
    expect_plain_float,
    expect_shape,
    expect_tensor,
    fail,
)
from coursekit.data.delivery import delivery_table
from coursekit.probes import ForwardRecorder, GradientWatch, RecordingOptimizer

META = torch.device("meta")
_MISSING = object()
#: The reference helpers, held apart from the module's globals (which ``reference_names`` may rebind).
_REFERENCE_TRAIN_ONE_EPOCH = ref.train_one_epoch
_REFERENCE_EVALUATE = ref.evaluate


# ----------------------------------------------------------------------------- helpers


@contextmanager
def reference_names(student: Callable, **names: Any) -> Iterator[None]:
    """Bind ``names`` in the namespace ``student`` was defined in, and restore it afterwards.

    A notebook function looks its helpers up by global name when it runs, so this makes
    the student's ``fit`` call the reference ``train_one_epoch`` and ``evaluate``: a
    mistake in those cells then costs their own points, not ``fit``'s too.
    """
    namespace = getattr(student, "__globals__", None)
    if namespace is None:
        yield
        return
    saved = {name: namespace.get(name, _MISSING) for name in names}
    namespace.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def build_model(seed: int, features: int, hidden: int = 0, dropout: float = 0.0) -> nn.Module:
    """A small seeded regression model: one Linear layer, or Linear-ReLU-(Dropout)-Linear."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not hidden:
            return nn.Sequential(nn.Linear(features, 1))
        layers: list[nn.Module] = [nn.Linear(features, hidden), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        return nn.Sequential(*layers, nn.Linear(hidden, 1))


def fixed_loader(X: torch.Tensor, y: torch.Tensor, batch_size: int) -> DataLoader:
    """A loader that gives the same batches in the same order every time."""
    return DataLoader(ref.DeliveryDataset(X, y), batch_size=batch_size, shuffle=False)


def seeded_loader(X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int) -> DataLoader:
    """A shuffling loader whose orders are fixed by ``seed``: two such loaders agree batch for batch."""
    return DataLoader(ref.DeliveryDataset(X, y), batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


class RecordingLoss:
    """MSE that remembers every batch loss and batch size (for the reference's mean)."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.sizes: list[int] = []

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.mse_loss(pred, target)
        self.losses.append(loss.item())
        self.sizes.append(len(target))
        return loss


class DeviceLoss:
    """A loss for models on the ``meta`` device: notes the devices it gets, returns a CPU number.

    Meta tensors have shapes but no values, so a real loss on them could not become a
    float. This one lets a correct loop run to the end while it records whether the
    predictions and the targets both reached the device.
    """

    def __init__(self) -> None:
        self.devices: list[tuple[str, str]] = []

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.devices.append((str(pred.device), str(target.device)))
        return torch.ones((), requires_grad=True) * 1.0


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _expect_mean_loss(found: float, losses: list[float], sizes: list[int], what: str) -> None:
    """The mean of the batch losses; a mean weighted by batch size is also right."""
    batch_mean = sum(losses) / len(losses)
    sample_mean = sum(loss * n for loss, n in zip(losses, sizes, strict=False)) / sum(sizes)
    for expected in (batch_mean, sample_mean):
        if abs(found - expected) <= 1e-4 * abs(expected) + 1e-5:
            return
    cause = "add up loss.item() of every batch and divide by the number of batches"
    if abs(found - losses[-1]) <= 1e-4 * abs(losses[-1]) + 1e-5:
        cause = "this is the last batch's loss alone: " + cause
    elif abs(found - sum(losses)) <= 1e-4 * abs(sum(losses)):
        cause = "this is the sum of the batch losses, not their mean: " + cause
    fail(what, f"{batch_mean:.6g} (the mean of {len(losses)} batch losses)", f"{found:.6g}", cause)


def _run_on_meta(call: Callable[[], Any], what: str, cause: str) -> Any:
    """Run ``call`` with the model on the meta device; a device mismatch becomes a clear failure."""
    try:
        return call()
    except RuntimeError as error:
        text = str(error)
        if "device" in text and "meta" in text:
            fail(what, "every batch on the model's device", f"RuntimeError: {text.splitlines()[0]}", cause)
        if "meta tensors" in text:
            fail(what, "the loss computed with the loss_fn you were given",
                 f"RuntimeError: {text.splitlines()[0]}",
                 "use the loss_fn argument (do not build your own loss) and turn it into a number with .item()")
        raise


def _fresh(seed: int, low: int, high: int) -> tuple[random.Random, torch.Tensor, torch.Tensor]:
    rng = random.Random(seed)
    X, y = delivery_table(seed, n=rng.randint(low, high))
    return rng, X, y


# ----------------------------------------------------------------------------- DeliveryDataset


def delivery_dataset(student_cls: Callable, X: torch.Tensor, y: torch.Tensor) -> None:
    """``student_cls(X, y)`` has N items; item i is (X[i], y[i]); a DataLoader batches it as [B, F], [B, 1]."""
    what = f"DeliveryDataset(X {list(X.shape)}, y {list(y.shape)})"
    dataset = student_cls(X.clone(), y.clone())
    expect(isinstance(dataset, Dataset), what, "an instance of torch.utils.data.Dataset", describe(dataset),
           "write class DeliveryDataset(torch.utils.data.Dataset): ...")
    n = len(X)
    expect(len(dataset) == n, f"len({what})", n, len(dataset),
           "len() counts the samples, one per row of X: return len(self.X), not X.numel() or a fixed number")
    for i in sorted({0, n // 2, n - 1}):
        item = dataset[i]
        expect(isinstance(item, (tuple, list)) and len(item) == 2, f"{what}[{i}]",
               "the pair (X[i], y[i])", describe(item),
               "__getitem__ must return two things: return self.X[i], self.y[i]")
        x_i, y_i = item
        x_i = expect_tensor(x_i, f"{what}[{i}][0]", "the features of sample i are the tensor X[i]")
        y_i = expect_tensor(y_i, f"{what}[{i}][1]",
                            "the target of sample i is the tensor y[i] of shape [1]: a plain number (.item()) "
                            "makes the loader's batch of targets [B] instead of [B, 1]")
        expect_shape(x_i, list(X[i].shape), f"{what}[{i}][0]: shape", "item i holds the i-th row of X: X[i]")
        expect_shape(y_i, list(y[i].shape), f"{what}[{i}][1]: shape",
                     "item i holds y[i], of shape [1]; keeping that shape makes the batch of targets [B, 1]")
        expect_close(x_i, X[i], f"{what}[{i}][0]: values", cause="item i must be (X[i], y[i]): the i-th row of X")
        expect_close(y_i, y[i], f"{what}[{i}][1]: values", cause="item i must be (X[i], y[i]): the i-th target")
    X_batch, y_batch = next(iter(DataLoader(dataset, batch_size=n, shuffle=False)))
    expect_shape(y_batch, [n, 1], f"DataLoader({what}): batch of targets",
                 "each target must stay a tensor of shape [1] so that a batch of them is [B, 1]")
    expect_close(X_batch, X, f"DataLoader({what}): batch of features", cause="item i must be (X[i], y[i])")


def delivery_dataset_hidden(student_cls: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        _, X, y = _fresh(seed, 5, 60)
        delivery_dataset(student_cls, X, y)
        delivery_dataset(student_cls, X[:, :1], y)  # one feature only


# ----------------------------------------------------------------------------- make_loaders


def _walk(loader: Any, index: dict[tuple[float, ...], int], y: torch.Tensor, what: str) -> tuple[list[int], list[int]]:
    """(sample indices in the order the loader gives them, batch sizes)."""
    expect(isinstance(loader, DataLoader), what, "a torch.utils.data.DataLoader", describe(loader),
           "build each part with DataLoader(dataset, batch_size=..., shuffle=...)")
    order, sizes = [], []
    for batch in loader:
        expect(isinstance(batch, (tuple, list)) and len(batch) == 2, f"{what}: a batch",
               "a pair (X_batch, y_batch)", describe(batch), "each item of the dataset must be the pair (X[i], y[i])")
        X_batch, y_batch = batch
        sizes.append(len(X_batch))
        for row, target in zip(X_batch, y_batch, strict=False):
            key = tuple(row.tolist())
            expect(key in index, f"{what}: a sample", "a row of X", f"the row {list(key)}",
                   "the loaders must hold the samples of X unchanged")
            i = index[key]
            expect_close(target, y[i], f"{what}: the target of sample {i}", atol=1e-5,
                         cause="each sample must keep its own target: split X and y with the same indices")
            order.append(i)
    return order, sizes


def _split(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int, val_fraction: float,
           seed: int) -> tuple[DataLoader, DataLoader]:
    result = student(X.clone(), y.clone(), batch_size, val_fraction, seed)
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"make_loaders(..., batch_size={batch_size}, val_fraction={val_fraction}, seed={seed})",
           "the pair (train_loader, val_loader)", describe(result), "return train_loader, val_loader")
    return result[0], result[1]


def _expect_batches(sizes: list[int], total: int, batch_size: int, what: str) -> None:
    expected = [batch_size] * (total // batch_size) + ([total % batch_size] if total % batch_size else [])
    expect(sizes == expected, f"{what}: batch sizes", f"{expected} (batch_size={batch_size})", sizes,
           "pass the batch_size argument on to DataLoader(..., batch_size=batch_size)")


def make_loaders(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32,
                 val_fraction: float = 0.2, seed: int = 0) -> None:
    """A disjoint, complete, seeded split of the asked size; training shuffles, validation does not."""
    call = f"make_loaders(X {list(X.shape)}, y, batch_size={batch_size}, val_fraction={val_fraction}, seed={seed})"
    n = len(X)
    index = {tuple(row.tolist()): i for i, row in enumerate(X)}
    assert len(index) == n, "the check needs distinct rows of X"
    with reference_names(student, DeliveryDataset=ref.DeliveryDataset):
        train_loader, val_loader = _split(student, X, y, batch_size, val_fraction, seed)
        train, train_sizes = _walk(train_loader, index, y, f"{call}: training loader")
        val, val_sizes = _walk(val_loader, index, y, f"{call}: validation loader")

        both = sorted(set(train) & set(val))
        expect(not both, f"{call}: split", "no sample in both parts",
               f"{len(both)} samples in both the training and the validation loader",
               "the validation samples must be left out of training, or the validation loss says nothing "
               "about new data: split one shuffled list of indices into two parts")
        for part, name in ((train, "training"), (val, "validation")):
            expect(len(set(part)) == len(part), f"{call}: {name} loader", "each sample once",
                   f"{len(part) - len(set(part))} samples given twice",
                   "split a permutation, do not sample with replacement")
        lost = n - len(train) - len(val)
        expect(lost == 0, f"{call}: split", f"all {n} samples in one of the two parts",
               f"{lost} sample{'s' if lost > 1 else ''} in neither",
               "every sample belongs to one part: check the slice bounds (and do not use drop_last=True)")
        n_val = round(n * val_fraction)
        swapped = " (the two parts are swapped?)" if len(val) == n - n_val else ""
        expect(len(val) == n_val, f"{call}: validation size", f"round({n} * {val_fraction}) = {n_val} samples",
               f"{len(val)} samples{swapped}",
               "the validation part holds round(N * val_fraction) samples; the rest train")
        _expect_batches(train_sizes, len(train), batch_size, f"{call}: training loader")
        _expect_batches(val_sizes, len(val), batch_size, f"{call}: validation loader")

        train_again, _ = _walk(train_loader, index, y, f"{call}: training loader")
        expect(train_again != train, f"{call}: training loader", "a new order of the samples every epoch",
               "the same order in two passes", "create the training loader with shuffle=True: without it every epoch "
               "sees the batches in the same order")
        val_again, _ = _walk(val_loader, index, y, f"{call}: validation loader")
        expect(val_again == val, f"{call}: validation loader", "the same order in every pass",
               "a new order in the second pass", "the validation loader does not need shuffling: shuffle=False")

        train_loader2, val_loader2 = _split(student, X, y, batch_size, val_fraction, seed)
        val2, _ = _walk(val_loader2, index, y, f"{call} (second call): validation loader")
        expect(sorted(val2) == sorted(val), f"{call}, called twice", "the same validation samples both times",
               f"{len(set(val2) - set(val))} samples differ",
               "the split must come from the seed: use torch.Generator().manual_seed(seed) "
               "(or torch.manual_seed(seed)) for the shuffle of the split")
        other = seed + 1
        _, val_loader3 = _split(student, X, y, batch_size, val_fraction, other)
        val3, _ = _walk(val_loader3, index, y, f"{call} with seed={other}: validation loader")
        expect(sorted(val3) != sorted(val), f"make_loaders with seed={seed} and seed={other}",
               "two different splits", "the same validation samples",
               "use the seed argument for the split, not a fixed number")


def make_loaders_hidden(student: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        rng, X, y = _fresh(seed, 60, 230)
        val_fraction = rng.choice([0.1, 0.15, 0.2, 0.25, 0.3])
        n = len(X)
        while abs(n * val_fraction % 1 - 0.5) < 1e-6:  # no ties, where rounding conventions differ
            n -= 1
        make_loaders(student, X[:n], y[:n], rng.choice([8, 10, 16, 25]), val_fraction, rng.randint(1, 10_000))


# ----------------------------------------------------------------------------- train_one_epoch


def train_one_epoch(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32,
                    lr: float = 0.001, seed: int = 0, hidden: int = 0) -> None:
    """One epoch from a fixed start and batch order matches the reference epoch, step for step."""
    model = build_model(seed, X.shape[1], hidden).eval()  # eval: model.train() must be called
    reference = copy.deepcopy(model)
    start = _state(model)
    loader = fixed_loader(X, y, batch_size)
    batches = len(loader)
    call = f"train_one_epoch (lr={lr}, {len(X)} samples in {batches} batches of up to {batch_size})"

    optimizer = RecordingOptimizer(torch.optim.SGD(model.parameters(), lr=lr))
    with ForwardRecorder(model) as forward, GradientWatch(model.parameters()) as watch:
        found = student(model, loader, nn.MSELoss(), optimizer, torch.device("cpu"))

    expected_loss = RecordingLoss()
    ref.train_one_epoch(reference, loader, expected_loss, torch.optim.SGD(reference.parameters(), lr=lr), "cpu")

    found = expect_plain_float(found, f"{call}: the value returned")
    expect(bool(forward.calls), f"{call}: forward passes", f"{batches} (one per batch)", "none",
           "run every batch of the loader through the model")
    expect(all(c.training for c in forward.calls), f"{call}: mode of the model", "training mode in every forward pass",
           f"eval mode in {sum(not c.training for c in forward.calls)} of {len(forward.calls)} passes",
           "call model.train() at the start of the epoch: layers such as dropout behave differently in eval mode")
    expect(watch.always_cleared, f"{call}: gradients", "every backward pass starting from cleared gradients",
           f"gradients piling up in {watch.piled_up} parameter updates",
           "the gradient of the previous batch was added to the new one: did you forget optimizer.zero_grad() "
           "before loss.backward()?")
    unchanged = all(torch.equal(v, start[k]) for k, v in _state(model).items())
    if optimizer.steps == 0 and not unchanged:
        fail(f"{call}: optimizer steps", f"{batches} steps of the optimizer you were given", "none, yet the weights "
             "changed", "use the optimizer argument: do not create an optimizer of your own inside the function")
    expect(optimizer.steps == batches, f"{call}: optimizer steps", f"{batches} (one per batch)", optimizer.steps,
           "call optimizer.step() once for every batch, after loss.backward()")
    expect(not unchanged, f"{call}: the weights after the epoch", "weights moved by the optimizer steps",
           "the very weights the model started with",
           "optimizer.step() found no gradients: zero_grad must come before loss.backward(), not between "
           "backward and step")
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=False):
        expect_close(p, q, f"{call}: parameter {name} after the epoch", rtol=1e-4, atol=1e-5,
                     cause="from the same start and the same batches the weights end elsewhere: for each batch "
                           "forward, loss_fn(prediction, y_batch), zero_grad, backward, step; use the "
                           "optimizer and loss_fn you are given")
    _expect_mean_loss(found, expected_loss.losses, expected_loss.sizes, f"{call}: the value returned")


def train_one_epoch_moves_batches(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32) -> None:
    """With the model on the ``meta`` device, every batch must be moved to ``device`` before use.

    A CPU batch meeting meta weights raises an error, so a forgotten ``.to(device)`` fails here
    as it would on a GPU, on a machine without one.
    """
    model = build_model(0, X.shape[1], 8).to(META)
    loss_fn = DeviceLoss()
    call = "train_one_epoch(model on device, loader of CPU batches, ..., device)"
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with ForwardRecorder(model) as forward:
        _run_on_meta(lambda: student(model, fixed_loader(X, y, batch_size), loss_fn, optimizer, META), call,
                     "move each batch to the device the model is on: X_batch, y_batch = X_batch.to(device), "
                     "y_batch.to(device)")
    _expect_on_meta(forward, loss_fn, call)


def _expect_on_meta(forward: ForwardRecorder, loss_fn: DeviceLoss, call: str) -> None:
    inputs = {d for c in forward.calls for d in c.input_devices}
    expect(inputs <= {"meta"}, f"{call}: inputs of the model", "batches on the device", f"batches on {sorted(inputs)}",
           "move each batch to `device` with .to(device) before the forward pass")
    targets = {t for _, t in loss_fn.devices}
    expect(bool(loss_fn.devices), f"{call}: the loss", "loss_fn called on each batch", "never called",
           "compute the loss with the loss_fn argument")
    expect(targets <= {"meta"}, f"{call}: targets given to loss_fn", "targets on the device",
           f"targets on {sorted(targets)}", "move the targets too: y_batch.to(device)")


def train_one_epoch_hidden(student: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        rng, X, y = _fresh(seed, 30, 110)
        batch_size = rng.choice([7, 10, 16, 25])
        train_one_epoch(student, X, y, batch_size, rng.choice([0.0005, 0.001, 0.002]), seed, rng.choice([0, 8]))
        train_one_epoch_moves_batches(student, X, y, batch_size)


# ----------------------------------------------------------------------------- evaluate


def evaluate(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32, seed: int = 0) -> None:
    """Eval mode, no autograd, no change to the model, the reference's mean batch loss, twice over."""
    model = build_model(seed, X.shape[1], hidden=16, dropout=0.5).train()  # dropout shows a missing eval()
    reference = copy.deepcopy(model)
    before = _state(model)
    loader = fixed_loader(X, y, batch_size)
    call = f"evaluate ({len(X)} samples in {len(loader)} batches, a model with dropout)"
    found = []
    with ForwardRecorder(model) as forward:
        for _ in range(2):
            model.train()
            found.append(student(model, loader, nn.MSELoss(), torch.device("cpu")))
    found = [expect_plain_float(v, f"{call}: the value returned") for v in found]
    expect(bool(forward.calls), f"{call}: forward passes", "one per batch", "none",
           "run every batch of the loader through the model")
    expect(not any(c.training for c in forward.calls), f"{call}: mode of the model", "eval mode in every forward pass",
           f"training mode, and two calls gave {found[0]:.6g} and {found[1]:.6g}",
           "call model.eval() first: in training mode dropout switches off random units, so the loss "
           "changes from call to call")
    expect(not any(c.grad_enabled for c in forward.calls), f"{call}: autograd", "forward passes under torch.no_grad()",
           "autograd recording a graph", "wrap the loop in `with torch.no_grad():`; evaluation needs no gradients")
    for name, value in _state(model).items():
        expect_close(value, before[name], f"{call}: {name} after evaluation",
                     cause="evaluation must not change the model: no backward, no optimizer step")
    expected_loss = RecordingLoss()
    ref.evaluate(reference, loader, expected_loss, "cpu")
    for value in found:
        _expect_mean_loss(value, expected_loss.losses, expected_loss.sizes, f"{call}: the value returned")


def evaluate_moves_batches(student: Callable, X: torch.Tensor, y: torch.Tensor, batch_size: int = 32) -> None:
    """With the model on the ``meta`` device, every batch must be moved to ``device``."""
    model = build_model(0, X.shape[1], 8).to(META)
    loss_fn = DeviceLoss()
    call = "evaluate(model on device, loader of CPU batches, ..., device)"
    with ForwardRecorder(model) as forward:
        _run_on_meta(lambda: student(model, fixed_loader(X, y, batch_size), loss_fn, META), call,
                     "move each batch to the device the model is on: X_batch.to(device), y_batch.to(device)")
    _expect_on_meta(forward, loss_fn, call)


def evaluate_hidden(student: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        rng, X, y = _fresh(seed, 20, 90)
        batch_size = rng.choice([6, 10, 16, 32])
        evaluate(student, X, y, batch_size, seed)
        evaluate_moves_batches(student, X, y, batch_size)


# ----------------------------------------------------------------------------- fit


class _Calls:
    """Reference helpers that log the order in which ``fit`` calls them, and on which loader."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.loaders: list[tuple[str, Any]] = []

    def train_one_epoch(self, *args: Any, **kwargs: Any) -> float:
        self.events.append("train")
        self.loaders.append(("train", args[1] if len(args) > 1 else kwargs.get("loader")))
        return _REFERENCE_TRAIN_ONE_EPOCH(*args, **kwargs)

    def evaluate(self, *args: Any, **kwargs: Any) -> float:
        self.events.append("evaluate")
        self.loaders.append(("evaluate", args[1] if len(args) > 1 else kwargs.get("loader")))
        return _REFERENCE_EVALUATE(*args, **kwargs)


def _fit_with_reference_helpers(student: Callable, *args: Any) -> tuple[Any, _Calls]:
    calls = _Calls()
    with reference_names(student, train_one_epoch=calls.train_one_epoch, evaluate=calls.evaluate):
        return student(*args), calls


def fit(student: Callable, X: torch.Tensor, y: torch.Tensor, epochs: int = 5, lr: float = 0.001,
        batch_size: int = 32, seed: int = 0) -> None:
    """``epochs`` rounds of train then evaluate, from the same start as the reference fit, with the same losses."""
    n_val = len(X) // 5
    X_train, y_train, X_val, y_val = X[n_val:], y[n_val:], X[:n_val], y[:n_val]
    model = build_model(seed, X.shape[1], 8)
    reference = copy.deepcopy(model)
    call = f"fit(..., epochs={epochs}, ...) with lr={lr}"

    train_loader = seeded_loader(X_train, y_train, batch_size, seed)
    val_loader = fixed_loader(X_val, y_val, batch_size)
    result, calls = _fit_with_reference_helpers(
        student, model, train_loader, val_loader, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=lr), epochs,
        torch.device("cpu"))
    expected = ref.fit(reference, seeded_loader(X_train, y_train, batch_size, seed),
                       fixed_loader(X_val, y_val, batch_size), nn.MSELoss(),
                       torch.optim.SGD(reference.parameters(), lr=lr), epochs, "cpu")

    expect(isinstance(result, (tuple, list)) and len(result) == 2, f"{call}: the value returned",
           "the pair (train_losses, val_losses)", describe(result), "return train_losses, val_losses")
    train_losses = expect_float_list(result[0], epochs, f"{call}: train_losses")
    val_losses = expect_float_list(result[1], epochs, f"{call}: val_losses")
    events = calls.events
    order = " then ".join(events[:6]) + (" ..." if len(events) > 6 else "")
    if events and events != ["train", "evaluate"] * epochs:
        fail(f"{call}: what each epoch does", "train_one_epoch then evaluate, once each, every epoch",
             order, "in each epoch call train_one_epoch(...) once, then evaluate(...) once, and keep both losses")
    for helper, loader in calls.loaders:
        right_loader = train_loader if helper == "train" else val_loader
        if loader is not right_loader:
            other = "validation" if helper == "train" else "training"
            fail(f"{call}: the loader given to {helper}", f"the {'training' if helper == 'train' else 'validation'} "
                 "loader", f"the {other} loader" if loader in (train_loader, val_loader) else describe(loader),
                 "train on train_loader, evaluate on val_loader: the validation loss must come from the "
                 "deliveries the model never trains on")
    if _close_lists(train_losses, expected[1]) and _close_lists(val_losses, expected[0]):
        fail(f"{call}: the value returned", "(train_losses, val_losses)", "(val_losses, train_losses)",
             "the two lists are swapped: return train_losses first")
    expect_close(torch.tensor(train_losses), torch.tensor(expected[0]), f"{call}: train_losses", rtol=1e-4, atol=1e-5,
                 cause="append what train_one_epoch(model, train_loader, loss_fn, optimizer, device) returns, "
                       "with the optimizer and loader you were given")
    expect_close(torch.tensor(val_losses), torch.tensor(expected[1]), f"{call}: val_losses", rtol=1e-4, atol=1e-5,
                 cause="append what evaluate(model, val_loader, loss_fn, device) returns after each training epoch: "
                       "on the validation loader, not the training one")
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=False):
        expect_close(p, q, f"{call}: parameter {name} after training", rtol=1e-4, atol=1e-5,
                     cause="train with the model, optimizer and loss_fn you were given, for `epochs` epochs")


def _close_lists(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - z) <= 1e-4 * abs(z) + 1e-5 for x, z in zip(a, b, strict=False))


def fit_uses_device(student: Callable, X: torch.Tensor, y: torch.Tensor, epochs: int = 2, batch_size: int = 32) -> None:
    """``fit`` hands its ``device`` on: with the model on ``meta``, the batches must go there too."""
    model = build_model(0, X.shape[1], 8).to(META)
    loss_fn = DeviceLoss()
    call = f"fit(model on device, ..., epochs={epochs}, device)"
    with ForwardRecorder(model) as forward:
        _run_on_meta(lambda: _fit_with_reference_helpers(
            student, model, fixed_loader(X, y, batch_size), fixed_loader(X, y, batch_size), loss_fn,
            torch.optim.SGD(model.parameters(), lr=0.01), epochs, META), call,
            "pass the device argument on: train_one_epoch(..., device) and evaluate(..., device)")
    _expect_on_meta(forward, loss_fn, call)


def fit_hidden(student: Callable, seeds: Iterable[int]) -> None:
    for seed in seeds:
        rng, X, y = _fresh(seed, 40, 120)
        fit(student, X, y, rng.randint(2, 6), rng.choice([0.0005, 0.001, 0.002]), rng.choice([8, 16, 20]), seed)
        fit_uses_device(student, X, y, rng.randint(1, 3))
