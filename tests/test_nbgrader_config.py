"""The course's nbgrader settings: deleted or edited test cells come back, warnings cost nothing."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, grade_class, read_notebook

ASSIGNMENT = "01_tensors"


def _source():
    return read_notebook(ROOT / "source" / ASSIGNMENT / "tensors.ipynb")


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    deleted = _source()
    deleted.cells.remove(_cell(deleted, "test_to_batch"))

    edited = _source()
    _cell(edited, "test_mse").source = "pass  # the student emptied the test"
    _cell(edited, "mse").source = "def mse(pred, target):\n    return ((pred - target) ** 2).mean()"

    unlocked = _source()
    _cell(unlocked, "test_add_batch_dim").metadata["nbgrader"]["points"] = 100
    _cell(unlocked, "add_batch_dim").source = "def add_batch_dim(sample):\n    return sample"

    warns = _source()
    _cell(warns, "linear_forward").source = (
        "import warnings\n"
        "def linear_forward(X, W, b):\n"
        "    warnings.warn('this warning goes to stderr', UserWarning)\n"
        "    return X @ W + b"
    )
    notebooks = {"deleted_test": deleted, "edited_test": edited, "more_points": unlocked, "warns": warns}
    return grade_class(tmp_path_factory.mktemp("config"), ASSIGNMENT, [], notebooks)


@pytest.mark.slow
def test_a_deleted_test_cell_is_put_back_and_graded(graded):
    assert graded.scores("deleted_test") == graded.points


@pytest.mark.slow
def test_an_edited_test_cell_is_restored(graded):
    scores = graded.scores("edited_test")
    assert scores["test_mse"] == 0
    assert sum(scores.values()) == 7


@pytest.mark.slow
def test_points_in_the_submission_metadata_are_ignored(graded):
    scores = graded.scores("more_points")
    assert scores["test_add_batch_dim"] == 0
    assert max(scores.values()) <= 3


@pytest.mark.slow
def test_a_warning_on_stderr_costs_nothing(graded):
    assert graded.scores("warns") == graded.points
    autograded = read_notebook(graded.course / "autograded" / "warns" / ASSIGNMENT / "tensors.ipynb")
    outputs = _cell(autograded, "test_linear_forward").outputs
    assert not [o for o in outputs if o.get("name") == "stderr"]
