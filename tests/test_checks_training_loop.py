"""The checks of 04_training_loop, run in-process: every mistake fails for its reason, with its code.

The kit's checks observe in this process and the judge (``autograder.judges``) decides here
too, as under stock nbgrader. The tests that run whole grade cells (hidden tests included)
are marked slow; the others call one check at a time.

Several tests weaken the judge on purpose, in thought: each names the verdict it guards
("drop the tolerance of the weights and this passes"), so that a check made weaker by a
later edit fails a test.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import matplotlib
import pytest
import torch
from torch import nn

from authoring.nb04_training_loop import CELLS
from autograder import judges
from autograder.reference import training_loop as ref
from coursekit.checks import engine
from coursekit.checks import training_loop as check
from coursekit.checks.expect import CheckFailed
from coursekit.checks.training_loop import cases, diagnose, standins
from coursekit.data.delivery import delivery_table
from tests.corpus.training_loop import MISTAKES, RIGHT, SUBMISSIONS

matplotlib.use("Agg")

KIT = Path(check.__file__).parent


def _cells(kind: str) -> dict[str, str]:
    found = {}
    for cell in CELLS:
        meta = cell.metadata.get("nbgrader")
        if meta and (kind == "grade" and meta["grade"] or kind == "solution" and meta["solution"]
                     or kind == "setup" and not meta["grade"] and not meta["solution"]):
            found[meta["grade_id"]] = cell.source
    return found


SETUP, SOLUTIONS, GRADES = _cells("setup"), _cells("solution"), _cells("grade")
X, Y = delivery_table(seed=2024, n=240)
SMALL_X, SMALL_Y = delivery_table(seed=11, n=50)


@pytest.fixture(scope="module")
def notebook() -> dict:
    """The namespace after the notebook's locked setup cells."""
    namespace: dict = {}
    for source in SETUP.values():
        exec(source, namespace)
    return namespace


def _define(code: str, name: str, namespace: dict | None = None):
    """A function (or class) written as a student would, in a namespace of its own."""
    space = {"torch": torch, "nn": nn, "DataLoader": torch.utils.data.DataLoader,
             "Dataset": torch.utils.data.Dataset, "Subset": torch.utils.data.Subset, **(namespace or {})}
    exec(compile(code, f"<{name}>", "exec"), space)
    return space[name]


def _grade(notebook: dict, cell: str, code: str) -> None:
    namespace = dict(notebook)
    exec(code, namespace)
    exec(GRADES[f"test_{cell}"], namespace)


def _fails(code: str, call, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as failure:
        call(*args, **kwargs)
    assert failure.value.code == code, str(failure.value)
    return failure.value


# ----------------------------------------------------------------------------- the corpus, cell by cell


@pytest.mark.slow
@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_each_mistake_fails_its_own_cell_for_its_reason(notebook, mistake):
    with pytest.raises(CheckFailed) as failure:
        _grade(notebook, mistake.cell, mistake.code)
    assert failure.value.code == mistake.mistake, str(failure.value)
    assert mistake.says in str(failure.value), str(failure.value)


@pytest.mark.slow
@pytest.mark.parametrize("cell", list(SOLUTIONS))
def test_the_solutions_pass(notebook, cell):
    _grade(notebook, cell, SOLUTIONS[cell])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:no GPU here")
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")
@pytest.mark.parametrize("submission", RIGHT, ids=[s.student for s in RIGHT])
def test_right_answers_in_other_styles_pass(notebook, submission):
    for cell, code in submission.edits.items():
        _grade(notebook, cell, code)


def test_the_corpus_covers_every_mistake_and_cell():
    graded = [m for s in SUBMISSIONS for m in MISTAKES if s.edits.get(m.cell) == m.code.strip()]
    assert {m.name for m in graded} == {m.name for m in MISTAKES}
    assert {m.cell for m in MISTAKES} == set(SOLUTIONS)


def test_every_mistake_code_of_the_checks_is_in_the_corpus_or_the_unit_tests():
    """Each ``code=`` the verdicts name is shown failing by a corpus entry or a test of this file."""
    named = set()
    for path in KIT.glob("*.py"):
        for expression in re.findall(r"code=([^,)]*)", path.read_text()):
            named |= set(re.findall(r'"([a-z_]+)"', expression))
    shown = {m.mistake for m in MISTAKES} | set(re.findall(r'_fails\("([a-z_]+)"', Path(__file__).read_text()))
    assert named - shown == set()


# ----------------------------------------------------------------------------- the kernel holds no answer


def test_the_kit_imports_no_answer_key():
    for path in KIT.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("autograder"), f"{path.name} imports {node.module}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("autograder") for a in node.names), path.name


def test_the_visible_tests_need_no_judge(notebook, monkeypatch):
    """Every visible test of the notebook finds its expectation in the kit's shipped file."""
    monkeypatch.setattr(engine, "_instructor_judge", lambda: None)
    hidden = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
    for cell, code in SOLUTIONS.items():
        namespace = dict(notebook)
        exec(code, namespace)
        exec(hidden.sub("", GRADES[f"test_{cell}"]), namespace)


def test_the_release_notebook_imports_only_the_kit():
    text = (Path(__file__).parents[1] / "release" / "04_training_loop" / "training_loop.ipynb").read_text()
    assert "autograder" not in text
    assert "meta" not in text.replace("metadata", ""), "the notebook must not need the meta device before 05"


# ----------------------------------------------------------------------------- DeliveryDataset


def test_dataset_of_the_reference_passes_and_a_hidden_one_feature_case_is_made():
    check.delivery_dataset(ref.DeliveryDataset, X, Y)
    kinds = [c["kind"] for c in cases.delivery_dataset(404)]
    assert any("one feature" in k for k in kinds)


def test_dataset_values_are_compared_closely():
    """Drop the values' tolerance (or compare shapes only) and this passes."""
    shifted = _define("""
class Shifted(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y
    def __len__(self):
        return len(self.X)
    def __getitem__(self, i):
        return self.X[i] + 1e-3, self.y[i]
""", "Shifted")
    failure = _fails("wrong_item", check.delivery_dataset, shifted, X, Y)
    assert "[0][0]: values" in str(failure)  # the item itself, not only the batch a DataLoader makes of it


def test_dataset_target_of_shape_1_1_fails():
    sliced = _define("""
class Sliced(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y
    def __len__(self):
        return len(self.X)
    def __getitem__(self, i):
        return self.X[i], self.y[i:i + 1]
""", "Sliced")
    _fails("target_shape", check.delivery_dataset, sliced, X, Y)


def test_dataset_item_that_is_not_a_tensor_fails():
    lists = _define("""
class Lists(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y
    def __len__(self):
        return len(self.X)
    def __getitem__(self, i):
        return self.X[i].tolist(), self.y[i]
""", "Lists")
    _fails("item_not_a_tensor", check.delivery_dataset, lists, X, Y)


def test_dataset_item_of_the_wrong_shape_fails():
    rows = _define("""
class Rows(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y
    def __len__(self):
        return len(self.X)
    def __getitem__(self, i):
        return self.X[i].unsqueeze(0), self.y[i]
""", "Rows")
    _fails("wrong_item_shape", check.delivery_dataset, rows, X, Y)


# ----------------------------------------------------------------------------- make_loaders


def test_loaders_of_the_reference_pass_visible_and_hidden():
    check.make_loaders(ref.make_loaders, X, Y, 32, 0.2, 0)
    check.make_loaders_hidden(ref.make_loaders, seeds=[15, 1616])


def test_make_loaders_gets_a_library_dataset_in_place_of_the_students():
    """A broken DeliveryDataset in the notebook does not cost make_loaders: TensorDataset stands in."""
    broken = _define("class DeliveryDataset:\n    def __init__(self, X, y):\n        raise NotImplementedError\n",
                     "DeliveryDataset")
    make_loaders = _define(SOLUTIONS["make_loaders"], "make_loaders", {"DeliveryDataset": broken})
    check.make_loaders(make_loaders, X, Y, 32, 0.2, 0)
    assert make_loaders.__globals__["DeliveryDataset"] is broken


def test_loaders_global_reseeding_is_right_and_the_seed_is_put_back():
    make_loaders = _define(RIGHT[1].edits["make_loaders"], "make_loaders", {"DeliveryDataset": ref.DeliveryDataset})
    assert "torch.manual_seed(seed)" in RIGHT[1].edits["make_loaders"]
    seed = torch.initial_seed()
    check.make_loaders(make_loaders, X, Y, 50, 0.25, 7)
    assert torch.initial_seed() == seed


def test_loaders_other_state_changes_are_still_charged():
    make_loaders = _define("""
def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
    torch.set_grad_enabled(False)
    return REF(X, y, batch_size, val_fraction, seed)
""", "make_loaders", {"REF": ref.make_loaders})
    try:
        _fails("global_state_changed", check.make_loaders, make_loaders, X, Y, 32, 0.2, 0)
    finally:
        torch.set_grad_enabled(True)


def test_loaders_hidden_messages_show_no_sizes_of_the_hidden_data():
    floor = _define(MISTAKES[[m.name for m in MISTAKES].index("loaders_floor")].code, "make_loaders",
                    {"DeliveryDataset": ref.DeliveryDataset})
    failure = _fails("val_size_wrong", check.make_loaders_hidden, floor, seeds=[15, 1616, 88, 2025])
    message = str(failure)
    assert "hidden test case" in message and "round(N * val_fraction) samples" in message
    assert not re.search(r"round\(\d", message)


def test_loaders_that_are_not_a_pair_or_not_loaders_fail():
    one = _define("def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):\n"
                  "    return DataLoader(Subset(torch.utils.data.TensorDataset(X, y), range(len(X))))\n",
                  "make_loaders")
    _fails("not_a_pair", check.make_loaders, one, X, Y, 32, 0.2, 0)
    lists = _define("def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):\n"
                    "    return list(zip(X, y)), []\n", "make_loaders")
    _fails("not_a_loader", check.make_loaders, lists, X, Y, 32, 0.2, 0)


def test_loaders_that_repeat_samples_fail():
    repeat = _define("""
def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
    g = torch.Generator().manual_seed(seed)
    n_val = round(len(X) * val_fraction)
    order = torch.randperm(len(X), generator=g).tolist()
    train = order[n_val:-1] + order[n_val:n_val + 1]
    dataset = DeliveryDataset(X, y)
    return (DataLoader(Subset(dataset, train), batch_size=batch_size, shuffle=True),
            DataLoader(Subset(dataset, order[:n_val]), batch_size=batch_size))
""", "make_loaders", {"DeliveryDataset": ref.DeliveryDataset})
    _fails("sample_repeated", check.make_loaders, repeat, X, Y, 32, 0.2, 0)


def test_loaders_that_mix_up_targets_fail():
    mixed = _define("""
def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
    return REF(X, y.flip(0), batch_size, val_fraction, seed)
""", "make_loaders", {"REF": ref.make_loaders})
    _fails("targets_mixed", check.make_loaders, mixed, X, Y, 32, 0.2, 0)


def test_loaders_that_serve_something_else_than_pairs_fail():
    singles = _define("""
def make_loaders(X, y, batch_size=32, val_fraction=0.2, seed=0):
    train, val = REF(X, y, batch_size, val_fraction, seed)
    return DataLoader(X, batch_size=batch_size, shuffle=True), val
""", "make_loaders", {"REF": ref.make_loaders})
    _fails("batch_not_a_pair", check.make_loaders, singles, X, Y, 32, 0.2, 0)


# ----------------------------------------------------------------------------- train_one_epoch


def test_train_one_epoch_of_the_reference_passes_visible_and_hidden():
    check.train_one_epoch(ref.train_one_epoch, X, Y, 32, 0.001)
    check.train_one_epoch_moves_batches(ref.train_one_epoch, X, Y)
    check.train_one_epoch_hidden(ref.train_one_epoch, seeds=[3, 303])


def test_train_one_epoch_weights_are_compared_closely():
    """Drop the weights' tolerance (or the comparison) and a learning rate 1% off passes."""
    off = _define("""
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    for group in optimizer.param_groups:
        group["lr"] *= 1.01
    return REF(model, loader, loss_fn, optimizer, device)
""", "train_one_epoch", {"REF": ref.train_one_epoch})
    _fails("wrong_update", check.train_one_epoch, off, SMALL_X, SMALL_Y, 10, 0.002)


def test_train_one_epoch_that_steps_twice_fails():
    twice = _define("""
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    total = 0.0
    for X_batch, y_batch in loader:
        loss = loss_fn(model(X_batch.to(device)), y_batch.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        optimizer.step()
        total += loss.item()
    return total / len(loader)
""", "train_one_epoch")
    _fails("wrong_step_count", check.train_one_epoch, twice, SMALL_X, SMALL_Y, 10, 0.002)


def test_train_one_epoch_that_never_runs_the_model_fails():
    idle = _define("def train_one_epoch(model, loader, loss_fn, optimizer, device):\n    return 1.0\n",
                   "train_one_epoch")
    _fails("no_forward", check.train_one_epoch, idle, SMALL_X, SMALL_Y, 10, 0.002)
    _fails("no_forward", check.train_one_epoch_moves_batches, idle, SMALL_X, SMALL_Y, 10)


def test_train_one_epoch_that_returns_nothing_fails():
    silent = _define("""
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    REF(model, loader, loss_fn, optimizer, device)
""", "train_one_epoch", {"REF": ref.train_one_epoch})
    _fails("not_a_float", check.train_one_epoch, silent, SMALL_X, SMALL_Y, 10, 0.002)


def test_a_wrong_mean_of_batch_losses_fails_and_a_sample_weighted_one_is_right():
    """Drop the mean's tolerance and an answer 1% off passes; the weighted mean is right."""
    diagnose.mean_loss(2.5, [1.0, 4.0], [3, 1], "mean")
    diagnose.mean_loss(1.75, [1.0, 4.0], [3, 1], "mean")
    _fails("sum_of_losses", diagnose.mean_loss, 5.0, [1.0, 4.0], [3, 1], "mean")
    _fails("last_batch_loss", diagnose.mean_loss, 4.0, [1.0, 4.0], [3, 1], "mean")
    _fails("wrong_mean_loss", diagnose.mean_loss, 2.525, [1.0, 4.0], [3, 1], "mean")


def test_device_test_reads_the_devices_and_not_the_error_text():
    """A batch left on the CPU is named as such, whatever PyTorch's error says."""
    failure = _fails("batch_not_moved", check.train_one_epoch_moves_batches,
                     _define(MISTAKES[[m.name for m in MISTAKES].index("epoch_batch_not_moved")].code,
                             "train_one_epoch"), SMALL_X, SMALL_Y, 10)
    assert "meta" not in str(failure)


def test_device_loss_records_devices_and_returns_a_cpu_number():
    loss_fn = standins.DeviceLoss()
    loss = loss_fn(torch.zeros(2, 1, device="meta"), torch.zeros(2, 1))
    loss.backward()
    assert loss.item() == 1.0 and loss_fn.devices == [("meta", "cpu")]


# ----------------------------------------------------------------------------- evaluate


def test_evaluate_of_the_reference_passes_visible_and_hidden():
    check.evaluate(ref.evaluate, X, Y)
    check.evaluate_moves_batches(ref.evaluate, X, Y)
    check.evaluate_hidden(ref.evaluate, seeds=[4, 404])


def test_an_evaluate_that_changes_the_model_fails():
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1)
            return sum(loss_fn(model(a), b).item() for a, b in loader) / len(loader)

    _fails("model_changed", check.evaluate, evaluate, SMALL_X, SMALL_Y, 10)


def test_evaluate_values_are_compared_closely():
    """Drop the value's tolerance and an evaluation 0.1% off passes."""
    off = _define("""
def evaluate(model, loader, loss_fn, device):
    return REF(model, loader, loss_fn, device) * 1.001
""", "evaluate", {"REF": ref.evaluate})
    _fails("wrong_mean_loss", check.evaluate, off, SMALL_X, SMALL_Y, 10)


def test_evaluate_without_eval_shows_no_numbers_when_hidden():
    no_eval = _define(MISTAKES[[m.name for m in MISTAKES].index("evaluate_no_eval")].code, "evaluate")
    visible = _fails("eval_mode_missing", check.evaluate, no_eval, SMALL_X, SMALL_Y, 10)
    assert "two calls gave" in str(visible)
    hidden = _fails("eval_mode_missing", check.evaluate_hidden, no_eval, seeds=[4])
    assert "two calls gave" not in str(hidden) and "hidden test case" in str(hidden)


# ----------------------------------------------------------------------------- fit


def test_fit_of_the_reference_passes_visible_and_hidden():
    check.fit(ref.fit, X, Y, epochs=4)
    check.fit_uses_device(ref.fit, X, Y)
    check.fit_hidden(ref.fit, seeds=[5, 505, 5005])


def test_fit_runs_the_stand_ins_and_puts_the_students_helpers_back():
    namespace = {"train_one_epoch": "student's", "evaluate": "student's too"}
    fit = _define(SOLUTIONS["fit"], "fit", namespace)
    check.fit(fit, X, Y, epochs=3)
    assert fit.__globals__["train_one_epoch"] == "student's" and fit.__globals__["evaluate"] == "student's too"


def test_names_bound_puts_the_students_names_back_even_after_a_failure():
    namespace = {"train_one_epoch": "student's"}
    exec("def fit():\n    return train_one_epoch, evaluate", namespace)
    with pytest.raises(RuntimeError), standins.names_bound(namespace["fit"], train_one_epoch="stand-in",
                                                           evaluate="stand-in"):
        assert namespace["fit"]() == ("stand-in", "stand-in")
        raise RuntimeError
    assert namespace["train_one_epoch"] == "student's"
    assert "evaluate" not in namespace


def test_the_judge_knows_what_a_correct_fit_does_with_the_stand_ins():
    case = cases.fit_case(SMALL_X, SMALL_Y, 3, 8, 2, "cpu")
    expected = judges.expectation("training_loop.fit", case)
    assert [c["helper"] for c in expected["calls"]] == ["train_one_epoch", "evaluate"] * 3
    assert all(c["device"] == "cpu" and c["model"] and c["loss_fn"] for c in expected["calls"])
    assert list(expected["returned"][0]) == case["train_script"][:3]
    assert list(expected["returned"][1]) == case["val_script"][:3]


def test_fit_losses_are_compared_closely():
    """Drop the losses' tolerance and a loss changed in its fourth digit passes."""
    off = _define("""
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
    train_losses, val_losses = [], []
    for _ in range(epochs):
        train_losses.append(train_one_epoch(model, train_loader, loss_fn, optimizer, device) + 1e-3)
        val_losses.append(evaluate(model, val_loader, loss_fn, device))
    return train_losses, val_losses
""", "fit")
    _fails("losses_not_kept", check.fit, off, SMALL_X, SMALL_Y, epochs=3)


def test_fit_with_a_wrong_model_or_tuples_fails():
    other_model = _define("""
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
    train_losses, val_losses = [], []
    for _ in range(epochs):
        train_losses.append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
        val_losses.append(evaluate(nn.Linear(2, 1), val_loader, loss_fn, device))
    return train_losses, val_losses
""", "fit")
    _fails("arguments_not_passed_on", check.fit, other_model, SMALL_X, SMALL_Y, epochs=2)
    tuples = _define("""
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
    pairs = [(train_one_epoch(model, train_loader, loss_fn, optimizer, device),
              evaluate(model, val_loader, loss_fn, device)) for _ in range(epochs)]
    return tuple(zip(*pairs))
""", "fit")
    _fails("not_a_list", check.fit, tuples, SMALL_X, SMALL_Y, epochs=2)
    single = _define("""
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
    for _ in range(epochs):
        train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        evaluate(model, val_loader, loss_fn, device)
    return None
""", "fit")
    _fails("not_a_pair", check.fit, single, SMALL_X, SMALL_Y, epochs=2)


def test_fit_whose_helpers_are_called_with_a_missing_argument_names_the_error():
    short = _define("""
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
    return [train_one_epoch(model, train_loader, loss_fn, optimizer) for _ in range(epochs)], []
""", "fit")
    failure = _fails("raised", check.fit, short, SMALL_X, SMALL_Y, epochs=2)
    assert "device" in str(failure)


# ----------------------------------------------------------------------------- the road through the judge


@pytest.mark.slow
@pytest.mark.parametrize("name", ["loaders_floor", "epoch_no_zero_grad", "fit_device_ignored"])
def test_hidden_observations_judged_from_json_give_the_same_verdict(notebook, name, monkeypatch):
    """What ``autograder grade`` does: observations leave the kernel as JSON, the judge reads the cell."""
    mistake = next(m for m in MISTAKES if m.name == name)
    records: list = []
    monkeypatch.setattr(engine, "_sink", lambda record: records.append(json.loads(json.dumps(record))))
    source = GRADES[f"test_{mistake.cell}"]
    namespace = dict(notebook)
    exec(SOLUTIONS[mistake.cell], namespace)
    hidden_only = "\n".join(line for line in source.splitlines() if "_hidden(" in line or "import" in line)
    exec(hidden_only, namespace)
    assert judges.judge_cell(source, records) is None
    records.clear()
    namespace = dict(notebook)
    exec(mistake.code, namespace)
    exec(hidden_only, namespace)
    failure = judges.judge_cell(source, records)
    assert failure is not None and failure.code == mistake.mistake, failure


def test_an_observation_with_the_wrong_types_fails_plainly():
    case = cases.epoch_case(SMALL_X, SMALL_Y, 10, 0.002, 0, 0)
    expected = judges.expectation("training_loop.train_one_epoch", case)
    observation = {"returned": 1.0, "forward_training": "yes", "steps": "5", "piled_up": 0, "params": {}}
    failure = _fails("unreadable_result", engine.verdict, check.TRAIN_ONE_EPOCH, case, observation, expected,
                     hidden=True)
    assert "hidden test case" in str(failure)
