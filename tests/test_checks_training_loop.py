"""The checks of 04_training_loop, run in-process (no nbgrader): every mistake fails for its reason.

The tests that run whole grade cells (hidden tests included) take seconds and are marked slow;
the tests of the helpers are fast.
"""

from __future__ import annotations

import matplotlib
import pytest
import torch
from torch import nn

from authoring.nb04_training_loop import CELLS
from autograder.checks import training_loop as check
from coursekit.checks.expect import CheckFailed
from coursekit.data.delivery import delivery_table
from tests.corpus.training_loop import MISTAKES, RIGHT, SUBMISSIONS

matplotlib.use("Agg")


def _cells(kind: str) -> dict[str, str]:
    found = {}
    for cell in CELLS:
        meta = cell.metadata.get("nbgrader")
        if meta and (kind == "grade" and meta["grade"] or kind == "solution" and meta["solution"]
                     or kind == "setup" and not meta["grade"] and not meta["solution"]):
            found[meta["grade_id"]] = cell.source
    return found


SETUP, SOLUTIONS, GRADES = _cells("setup"), _cells("solution"), _cells("grade")


@pytest.fixture(scope="module")
def notebook() -> dict:
    """The namespace after the notebook's locked setup cells."""
    namespace: dict = {}
    for source in SETUP.values():
        exec(source, namespace)
    return namespace


def _grade(notebook: dict, cell: str, code: str) -> None:
    namespace = dict(notebook)
    exec(code, namespace)
    exec(GRADES[f"test_{cell}"], namespace)


@pytest.mark.slow
@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_each_mistake_fails_its_own_cell_for_its_reason(notebook, mistake):
    with pytest.raises(CheckFailed) as failure:
        _grade(notebook, mistake.cell, mistake.code)
    assert mistake.says in str(failure.value), str(failure.value)


@pytest.mark.slow
@pytest.mark.parametrize("cell", list(SOLUTIONS))
def test_the_solutions_pass(notebook, cell):
    _grade(notebook, cell, SOLUTIONS[cell])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:no GPU here")
@pytest.mark.parametrize("submission", RIGHT, ids=[s.student for s in RIGHT])
def test_right_answers_in_other_styles_pass(notebook, submission):
    for cell, code in submission.edits.items():
        _grade(notebook, cell, code)


def test_the_corpus_covers_every_mistake_and_cell():
    graded = [m for s in SUBMISSIONS for m in MISTAKES if s.edits.get(m.cell) == m.code.strip()]
    assert {m.name for m in graded} == {m.name for m in MISTAKES}
    assert {m.cell for m in MISTAKES} == set(SOLUTIONS)


def test_reference_names_puts_the_students_names_back_even_after_a_failure():
    namespace = {"train_one_epoch": "student's"}
    exec("def fit():\n    return train_one_epoch, evaluate", namespace)
    with pytest.raises(RuntimeError), check.reference_names(namespace["fit"], train_one_epoch="ref", evaluate="ref"):
        assert namespace["fit"]() == ("ref", "ref")
        raise RuntimeError
    assert namespace["train_one_epoch"] == "student's"
    assert "evaluate" not in namespace


def test_an_evaluate_that_changes_the_model_fails():
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1)
            return sum(loss_fn(model(a), b).item() for a, b in loader) / len(loader)

    X, y = delivery_table(1, n=40)
    with pytest.raises(CheckFailed, match="must not change the model"):
        check.evaluate(evaluate, X, y, batch_size=10)


def test_a_mean_weighted_by_batch_size_is_accepted_and_the_sum_is_not():
    check._expect_mean_loss(2.5, [1.0, 4.0], [3, 1], "mean")
    check._expect_mean_loss(1.75, [1.0, 4.0], [3, 1], "mean")
    with pytest.raises(CheckFailed, match="sum of the batch losses"):
        check._expect_mean_loss(5.0, [1.0, 4.0], [3, 1], "mean")


def test_device_loss_records_devices_and_returns_a_cpu_number():
    loss_fn = check.DeviceLoss()
    loss = loss_fn(torch.zeros(2, 1, device="meta"), torch.zeros(2, 1))
    loss.backward()
    assert loss.item() == 1.0 and loss_fn.devices == [("meta", "cpu")]


def test_a_batch_left_on_the_cpu_fails_against_a_meta_model():
    model = nn.Linear(2, 1).to(check.META)
    with pytest.raises(CheckFailed, match="move"):
        check._run_on_meta(lambda: model(torch.zeros(1, 2)), "forward", "move the batch")


def test_delivery_table_is_seeded_with_distinct_rows():
    X, y = delivery_table(7, n=300)
    assert X.shape == (300, 2) and y.shape == (300, 1) and X.dtype == y.dtype == torch.float32
    assert torch.equal(X, delivery_table(7, n=300)[0]) and not torch.equal(X, delivery_table(8, n=300)[0])
    assert len({tuple(row.tolist()) for row in X}) == 300
    assert set(X[:, 1].tolist()) == {0.0, 1.0}
