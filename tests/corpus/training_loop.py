"""Wrong (and right-but-different) submissions of 04_training_loop.

``MISTAKES`` lists one mistake per entry: the cell it is made in, the code, the mistake code
the check must name and a phrase its failure message must contain
(``tests/test_checks_training_loop.py`` runs each one against its grade cell and reads the
message). ``SUBMISSIONS`` grades them: in groups of at most one mistake a cell, each losing
exactly the cells it touches, and the right-but-different answers (``RIGHT``), which must
get every point.
"""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent

from tests.corpus import Submission, right


@dataclass(frozen=True)
class Mistake:
    name: str
    cell: str
    code: str
    mistake: str  # the mistake code the check names
    says: str  # a phrase of the failure message: the mistake is caught for the intended reason
    why: str = ""

    def __post_init__(self) -> None:
        # Templates leave empty lines where a step is left out; drop them.
        object.__setattr__(self, "code", "\n".join(line for line in self.code.splitlines() if line.strip()))


_DATASET = """
class DeliveryDataset({base}):
    def __init__(self, X, y):
        self.X, self.y = X, y
    def __len__(self):
        return {length}
    def __getitem__(self, i):
        return {item}
"""


def _dataset(name: str, mistake: str, says: str, why: str, length: str = "len(self.X)",
             item: str = "self.X[i], self.y[i]", base: str = "Dataset") -> Mistake:
    return Mistake(name, "delivery_dataset", _DATASET.format(length=length, item=item, base=base), mistake, says, why)


_LOADERS = """
def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
    dataset = DeliveryDataset({X}, y)
    order = torch.randperm(len(dataset), generator={generator}).tolist()
    n_val = {n_val}
    train_loader = DataLoader({train}, batch_size={batch}, shuffle={train_shuffle}{drop_last})
    val_loader = DataLoader({val}, batch_size=batch_size, shuffle={val_shuffle})
    return train_loader, val_loader
"""


def _loaders(name: str, mistake: str, says: str, why: str, **changes: str) -> Mistake:
    parts = {"X": "X", "generator": "torch.Generator().manual_seed(seed)",
             "n_val": "round(len(dataset) * val_fraction)",
             "train": "Subset(dataset, order[n_val:])", "val": "Subset(dataset, order[:n_val])", "batch": "batch_size",
             "train_shuffle": "True", "drop_last": "", "val_shuffle": "False"}
    parts.update(changes)
    return Mistake(name, "make_loaders", _LOADERS.format(**parts), mistake, says, why)


_EPOCH = """
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    {train}
    total, batches = 0.0, 0
    for X_batch, y_batch in loader:
        X_batch, y_batch = {move}
        pred = model(X_batch)
        loss = {loss}
        {zero_before}
        loss.backward()
        {zero_between}
        {step}.step()
        total += {keep}
        batches += 1
    return {result}
"""


def _epoch(name: str, mistake: str, says: str, why: str, **changes: str) -> Mistake:
    parts = {"train": "model.train()", "move": "X_batch.to(device), y_batch.to(device)",
             "loss": "loss_fn(pred, y_batch)", "zero_before": "optimizer.zero_grad()", "zero_between": "",
             "step": "optimizer", "keep": "loss.item()", "result": "total / batches"}
    parts.update(changes)
    return Mistake(name, "train_one_epoch", _EPOCH.format(**parts), mistake, says, why)


_EVALUATE = """
def evaluate(model, loader, loss_fn, device):
    {eval}
    total, batches = 0.0, 0
    with {context}:
        for X_batch, y_batch in loader:
            X_batch, y_batch = {move}
            total += {keep}
            batches += 1
    return {result}
"""


def _evaluate(name: str, mistake: str, says: str, why: str, **changes: str) -> Mistake:
    parts = {"eval": "model.eval()", "context": "torch.no_grad()", "move": "X_batch.to(device), y_batch.to(device)",
             "keep": "loss_fn(model(X_batch), y_batch).item()", "result": "total / batches"}
    parts.update(changes)
    return Mistake(name, "evaluate", _EVALUATE.format(**parts), mistake, says, why)


_FIT = """
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
    train_losses, val_losses = [], []
    for _ in range({epochs}):
        train_losses.append({train})
        {evaluate}
    return {result}
"""


def _fit(name: str, mistake: str, says: str, why: str, **changes: str) -> Mistake:
    parts = {"epochs": "epochs", "train": "train_one_epoch(model, train_loader, loss_fn, optimizer, device)",
             "evaluate": "val_losses.append(evaluate(model, val_loader, loss_fn, device))",
             "result": "train_losses, val_losses"}
    parts.update(changes)
    return Mistake(name, "fit", _FIT.format(**parts), mistake, says, why)


MISTAKES = [
    # DeliveryDataset
    _dataset("dataset_hardcoded_len", "wrong_length", "len() counts the samples",
             "mistake 7: 240 fits the notebook's data only", length="240"),
    _dataset("dataset_len_numel", "wrong_length", "len() counts the samples", "len() counts numbers, not rows",
             length="self.X.numel()"),
    _dataset("dataset_target_number", "target_not_a_tensor", "a plain number (.item())",
             "mistake 5: y[i].item() makes the batch of targets [B], not [B, 1]", item="self.X[i], self.y[i].item()"),
    _dataset("dataset_features_only", "item_not_a_pair", "the pair (X[i], y[i])", "item i is X[i] alone",
             item="self.X[i]"),
    _dataset("dataset_no_base_class", "not_a_dataset", "torch.utils.data.Dataset",
             "a plain class: not a torch Dataset", base="object"),
    # make_loaders
    _loaders("loaders_overlap", "split_overlap", "in both the training and the validation loader",
             "mistake 15: the training loader holds every sample", train="dataset"),
    _loaders("loaders_lose_one", "samples_lost", "in neither", "mistake 15: one sample in neither part",
             train="Subset(dataset, order[n_val + 1:])"),
    _loaders("loaders_drop_last", "last_batch_dropped", "drop_last=True",
             "mistake 15: drop_last=True loses the last, short batch", drop_last=", drop_last=True"),
    _loaders("loaders_unseeded", "split_not_seeded", "called twice",
             "mistake 15: the split changes between calls with the same seed", generator="None"),
    _loaders("loaders_train_fixed_order", "train_not_shuffled", "new batches every epoch",
             "mistake 16: the training loader does not shuffle", train_shuffle="False"),
    _loaders("loaders_val_shuffled", "val_shuffled", "the same order in every pass",
             "mistake 16: the validation loader shuffles", val_shuffle="True"),
    _loaders("loaders_seed_ignored", "seed_ignored", "two different splits",
             "mistake 8: a fixed seed instead of the argument", generator="torch.Generator().manual_seed(0)"),
    _loaders("loaders_batch_ignored", "batch_size_ignored", "batch sizes",
             "mistake 8: batch size 32 whatever is asked", batch="32"),
    _loaders("loaders_floor", "val_size_wrong", "validation size",
             "int() rounds down where the notebook asks for round()", n_val="int(len(dataset) * val_fraction)"),
    _loaders("loaders_swapped", "parts_swapped", "swapped",
             "the validation part trains and the training part validates",
             train="Subset(dataset, order[:n_val])", val="Subset(dataset, order[n_val:])"),
    _loaders("loaders_standardized", "samples_changed", "unchanged",
             "features standardized: the loaders no longer serve the deliveries of X", X="(X - X.mean(0)) / X.std(0)"),
    # train_one_epoch
    _epoch("epoch_no_zero_grad", "zero_grad_missing", "zero_grad", "mistake 1: gradients pile up from batch to batch",
           zero_before=""),
    _epoch("epoch_zero_grad_after_backward", "gradients_cleared_before_step", "not between backward and step",
           "mistake 1: the gradients are wiped before the step", zero_before="", zero_between="optimizer.zero_grad()"),
    _epoch("epoch_no_train_mode", "train_mode_missing", "model.train()", "the model stays in eval mode", train="pass"),
    _epoch("epoch_batch_not_moved", "batch_not_moved", "move each batch",
           "mistake 11: the model is on the device, the batch is not", move="X_batch, y_batch"),
    _epoch("epoch_target_not_moved", "target_not_moved", "y_batch.to(device)", "mistake 11: the targets stay behind",
           move="X_batch.to(device), y_batch"),
    _epoch("epoch_cpu_hardcoded", "batch_not_moved", "move each batch", "mistake 8: the device argument is ignored",
           move='X_batch.to("cpu"), y_batch.to("cpu")'),
    _epoch("epoch_tensor_loss", "loss_kept_as_tensor", "loss.item()",
           "mistake 9: the mean loss is a tensor holding the graph", keep="loss"),
    _epoch("epoch_last_loss", "last_batch_loss", "last batch's loss", "the loss of the last batch, not the mean",
           result="loss.item()"),
    _epoch("epoch_sum", "sum_of_losses", "sum of the batch losses", "the sum of the batch losses, not their mean",
           result="total"),
    _epoch("epoch_own_loss", "loss_fn_unused", "loss_fn argument", "mistake 8: a loss of its own instead of loss_fn",
           loss="((pred - y_batch) ** 2).mean()"),
    _epoch("epoch_own_optimizer", "own_optimizer", "do not create an optimizer of your own",
           "mistake 8: an optimizer of its own, with its own learning rate",
           step="torch.optim.SGD(model.parameters(), lr=0.01)"),
    # evaluate
    _evaluate("evaluate_no_eval", "eval_mode_missing", "model.eval()",
              "mistake 4: dropout stays on, the loss changes every call", eval="pass"),
    _evaluate("evaluate_grad_on", "no_grad_missing", "torch.no_grad()",
              "mistake 3: autograd records a graph during evaluation", context="torch.enable_grad()"),
    _evaluate("evaluate_batch_not_moved", "batch_not_moved", "move each batch",
              "mistake 11: the batch stays on the CPU",
              move="X_batch, y_batch"),
    _evaluate("evaluate_target_not_moved", "target_not_moved", "y_batch.to(device)",
              "mistake 11: the targets stay behind", move="X_batch.to(device), y_batch"),
    _evaluate("evaluate_tensor_loss", "loss_kept_as_tensor", "a Python float",
              "mistake 9: the loss returned as a tensor",
              keep="loss_fn(model(X_batch), y_batch)"),
    _evaluate("evaluate_sum", "sum_of_losses", "sum of the batch losses", "the sum of the batch losses, not their mean",
              result="total"),
    # fit
    _fit("fit_swapped", "losses_swapped", "swapped", "(val_losses, train_losses)", result="val_losses, train_losses"),
    _fit("fit_epochs_ignored", "epochs_ignored", "the epochs you were given", "mistake 8: always 10 epochs",
         epochs="10"),
    _fit("fit_validates_on_training_data", "wrong_loader", "evaluate on val_loader", "evaluates on the training loader",
         evaluate="val_losses.append(evaluate(model, train_loader, loss_fn, device))"),
    _fit("fit_device_ignored", "device_not_passed_on", "pass the device argument on",
         "mistakes 8 and 11: trains on the CPU whatever device",
         train='train_one_epoch(model, train_loader, loss_fn, optimizer, torch.device("cpu"))'),
    _fit("fit_evaluates_once", "wrong_epoch_order", "once each, every epoch", "evaluates once, after all epochs",
         evaluate="pass", result="train_losses, [evaluate(model, val_loader, loss_fn, device)]"),
    _fit("fit_own_optimizer", "arguments_not_passed_on", "do not build a new one",
         "a new optimizer in every epoch instead of the one fit was given",
         train="train_one_epoch(model, train_loader, loss_fn, torch.optim.SGD(model.parameters(), lr=0.01), device)"),
    _fit("fit_inline_loop", "helpers_not_called", "call your two functions by their names",
         "a loop of its own: the helpers (and their tests' stand-ins) are never called",
         train="sum(loss_fn(model(a), b).item() for a, b in train_loader) / len(train_loader)",
         evaluate="val_losses.append(sum(loss_fn(model(a), b).item() for a, b in val_loader) / len(val_loader))"),
]

#: The group of each cell's first mistake; its others go to the groups after it. The offsets
#: leave groups where one cell is wrong and the cells that depend on it by name are right
#: (train_one_epoch and evaluate wrong, fit right; DeliveryDataset wrong, make_loaders right),
#: so the corpus shows that a mistake costs its own cell only.
FIRST_GROUP = {"train_one_epoch": 0, "make_loaders": 0, "evaluate": 0, "fit": 7, "delivery_dataset": 8}


def _groups() -> list[list[Mistake]]:
    """The mistakes in groups of at most one a cell."""
    groups: dict[int, list[Mistake]] = {}
    for cell, first in FIRST_GROUP.items():
        for i, mistake in enumerate(m for m in MISTAKES if m.cell == cell):
            groups.setdefault(first + i, []).append(mistake)
    return [groups[i] for i in sorted(groups)]


def _submission(student: str, mistakes: list[Mistake]) -> Submission:
    return Submission(student, {m.cell: dedent(m.code).strip() for m in mistakes},
                      frozenset(f"test_{m.cell}" for m in mistakes), "; ".join(f"{m.name}: {m.why}" for m in mistakes))


RIGHT = [
    right("other_style_a", {
        "delivery_dataset": """
            class DeliveryDataset(Dataset):
                def __init__(self, X, y):
                    self.pairs = list(zip(X, y))
                def __len__(self):
                    return len(self.pairs)
                def __getitem__(self, i):
                    return self.pairs[i]
            """,
        "make_loaders": """
            def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
                dataset = DeliveryDataset(X, y)
                n_val = round(len(dataset) * val_fraction)
                train_part, val_part = random_split(dataset, [len(dataset) - n_val, n_val],
                                                    generator=torch.Generator().manual_seed(seed))
                return (DataLoader(train_part, batch_size=batch_size, shuffle=True),
                        DataLoader(val_part, batch_size=batch_size))
            """,
        "train_one_epoch": """
            def train_one_epoch(model, loader, loss_fn, optimizer, device):
                model.train()
                total, count = 0.0, 0
                for features, minutes in loader:
                    for p in model.parameters():
                        p.grad = None                       # zeroing by hand, before the forward pass
                    features, minutes = features.to(device), minutes.to(device)
                    loss = loss_fn(model(features), minutes)
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(features)    # a mean over samples, weighted by batch size
                    count += len(features)
                return total / count
            """,
        "evaluate": """
            @torch.inference_mode()
            def evaluate(model, loader, loss_fn, device):
                model.train(False)
                losses = [float(loss_fn(model(a.to(device)), b.to(device))) for a, b in loader]
                return sum(losses) / len(losses)
            """,
        "fit": """
            def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
                history = {"train": [], "val": []}
                epoch = 0
                while epoch < epochs:
                    history["train"].append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
                    history["val"].append(evaluate(model, val_loader, loss_fn, device))
                    epoch += 1
                return history["train"], history["val"]
            """,
    }, why="a list of pairs, random_split, p.grad = None before the forward pass, a sample-weighted mean, "
           "inference_mode, train(False), a while loop"),
    right("other_style_b", {
        "delivery_dataset": """
            class DeliveryDataset(torch.utils.data.Dataset):
                def __init__(self, X, y):
                    self.tensors = (torch.as_tensor(X), torch.as_tensor(y))
                def __len__(self):
                    return self.tensors[0].shape[0]
                def __getitem__(self, index):
                    return tuple(t[index] for t in self.tensors)
            """,
        "make_loaders": """
            def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
                torch.manual_seed(seed)                     # torch's own generator, reseeded
                shuffled = torch.randperm(len(X))
                n_val = round(len(X) * val_fraction)
                val_idx, train_idx = shuffled[:n_val], shuffled[n_val:]
                train = DeliveryDataset(X[train_idx], y[train_idx])
                val = DeliveryDataset(X[val_idx], y[val_idx])
                return DataLoader(train, batch_size, shuffle=True), DataLoader(val, batch_size, shuffle=False)
            """,
        "train_one_epoch": """
            import warnings
            def train_one_epoch(model, loader, loss_fn, optimizer, device):
                warnings.warn("no GPU here: training on the CPU")   # a warning costs nothing
                model.train()
                losses = []
                for batch in loader:
                    model.zero_grad()
                    inputs, targets = (t.to(device) for t in batch)
                    loss = loss_fn(model(inputs), targets)
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.detach())
                return torch.stack(losses).mean().item()
            """,
        "evaluate": """
            def evaluate(model, loader, loss_fn, device):
                model.eval()
                with torch.no_grad():
                    losses = torch.stack([loss_fn(model(a.to(device)), b.to(device)) for a, b in loader])
                return losses.mean().item()
            """,
        "fit": """
            def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
                model.to(device)
                curves = []
                for epoch in range(epochs):
                    curves.append((train_one_epoch(model, train_loader, loss_fn, optimizer, device),
                                   evaluate(model, val_loader, loss_fn, device)))
                train_losses = [t for t, _ in curves]
                val_losses = [v for _, v in curves]
                return train_losses, val_losses
            """,
    }, why="tensors indexed before the Dataset, torch.manual_seed + randperm, model.zero_grad() first, "
           "a warning, stacked losses, a model moved in fit"),
    right("other_style_c", {
        "delivery_dataset": """
            class DeliveryDataset(Dataset):
                def __init__(self, X, y):
                    super().__init__()
                    self.X = X.float()
                    self.y = y.float()
                def __len__(self):
                    return self.y.shape[0]
                def __getitem__(self, i):
                    return [self.X[i], self.y[i]]             # a list is a pair too
            """,
        "make_loaders": """
            import numpy as np
            def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
                n = len(X)
                order = np.random.default_rng(seed).permutation(n).tolist()
                n_train = round(n * (1 - val_fraction))        # the training size first
                train_idx, val_idx = order[:n_train], order[n_train:]
                dataset = DeliveryDataset(X, y)
                train_loader = DataLoader(Subset(dataset, train_idx), batch_size=batch_size, shuffle=True,
                                          drop_last=False, generator=torch.Generator().manual_seed(seed))
                val_loader = DataLoader(Subset(dataset, val_idx), batch_size=batch_size, shuffle=False,
                                        drop_last=False)
                return [train_loader, val_loader]
            """,
        "train_one_epoch": """
            def train_one_epoch(model, loader, loss_fn, optimizer, device):
                model.to(device)                               # already there: harmless
                model.train()
                losses = []
                for i, (X_batch, y_batch) in enumerate(loader):
                    loss = loss_fn(model(X_batch.to(device)), y_batch.to(device))
                    loss.backward()
                    optimizer.step()
                    optimizer.zero_grad()                      # cleared after the step, ready for the next
                    losses.append(float(loss))
                return sum(losses) / len(losses)
            """,
        "evaluate": """
            def evaluate(model, loader, loss_fn, device):
                was_training = model.training
                model.eval()
                total, seen = 0.0, 0
                with torch.no_grad():
                    for X_batch, y_batch in loader:
                        X_batch, y_batch = X_batch.to(device), y_batch.to(device)
                        total += loss_fn(model(X_batch), y_batch).item() * len(y_batch)
                        seen += len(y_batch)
                model.train(was_training)                      # the mode the model came in
                return total / seen
            """,
        "fit": """
            def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
                train_losses, val_losses = [], []
                for epoch in range(1, epochs + 1):
                    train_loss = train_one_epoch(model=model, loader=train_loader, loss_fn=loss_fn,
                                                 optimizer=optimizer, device=device)
                    val_loss = evaluate(model=model, loader=val_loader, loss_fn=loss_fn, device=device)
                    train_losses.append(train_loss)
                    val_losses.append(val_loss)
                    print(f"epoch {epoch}: training {train_loss:.3f}, validation {val_loss:.3f}")
                return train_losses, val_losses
            """,
    }, why="an item as a list, NumPy's seeded permutation, the training size rounded first, the validation part "
           "last, a seeded training loader, drop_last=False said aloud, loaders returned as a list, zero_grad "
           "after the step, float(loss), the model moved again, the mode put back after evaluation, helpers "
           "called with keywords, a progress print"),
    right("other_style_d", {
        "make_loaders": """
            import random
            def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
                indices = list(range(len(X)))
                random.Random(seed).shuffle(indices)           # Python's own seeded shuffle
                n_val = round(len(indices) * val_fraction)
                val_idx, train_idx = indices[len(indices) - n_val:], indices[:len(indices) - n_val]
                dataset = DeliveryDataset(X, y)
                return (DataLoader(Subset(dataset, train_idx), batch_size=batch_size, shuffle=True),
                        DataLoader(Subset(dataset, val_idx), batch_size=batch_size, shuffle=False))
            """,
        "train_one_epoch": """
            def train_one_epoch(model, loader, loss_fn, optimizer, device):
                model.train()
                running = 0.0
                for X_batch, y_batch in loader:
                    optimizer.zero_grad(set_to_none=False)     # zeros instead of None
                    X_batch = X_batch.to(device)
                    y_batch = y_batch.to(device)
                    loss = loss_fn(model(X_batch), y_batch)
                    loss.backward()
                    optimizer.step()
                    running += loss.item()
                return running / len(loader)
            """,
        "evaluate": """
            def evaluate(model, loader, loss_fn, device):
                with torch.no_grad():
                    model.eval()
                    losses = []
                    for X_batch, y_batch in loader:
                        losses.append(loss_fn(model(X_batch.to(device)), y_batch.to(device)).item())
                return sum(losses) / len(loader)
            """,
    }, why="Python's random.Random(seed), the validation part at the end, zero_grad(set_to_none=False), "
           "len(loader) as the divisor, model.eval() inside the no_grad block"),
]

SUBMISSIONS = [
    *(_submission(f"group_{i + 1}", group) for i, group in enumerate(_groups())),
    *RIGHT,
]
