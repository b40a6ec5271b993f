"""Delegation attacks score 0 under ``autograder grade``; the rest of the class is graded normally.

The answer key is out of reach (the sandbox hides the instructor package and runs only the
student kit), and hidden tests are judged outside the student's process. The last test
shows the import attack is real: on the instructor's machine, under stock nbgrader, it
takes the points, which is why the README says only ``autograder grade`` keeps the answer
out of reach.
"""

from __future__ import annotations

import pytest

from autograder.grading import sandbox
from tests.attacks.delegation import ATTACKS, HONEST
from tests.conftest import grade_class

ASSIGNMENT = "01_tensors"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("delegation"),
              pytest.mark.skipif(sandbox.find_bwrap() is None, reason="bubblewrap (bwrap) is not installed")]

_graded: dict[str, object] = {}


@pytest.fixture
def graded(tmp_path_factory):
    if "class" not in _graded:
        _graded["class"] = grade_class(tmp_path_factory.mktemp("delegation"), ASSIGNMENT, [*ATTACKS, *HONEST],
                                       grader="fast")
    return _graded["class"]


@pytest.mark.parametrize("submission", ATTACKS, ids=[a.student for a in ATTACKS])
def test_delegation_attack_scores_zero_on_its_cell(graded, submission):
    expected = {cell: (0.0 if cell in submission.loses else points) for cell, points in graded.points.items()}
    scores = graded.scores(submission.student)
    for cell in submission.may_lose:  # timing decides: nothing in between, never more than full
        assert scores[cell] in (0.0, graded.points[cell]), (cell, submission.why)
        expected[cell] = scores[cell]
    assert scores == expected, submission.why


@pytest.mark.parametrize("submission", HONEST, ids=[h.student for h in HONEST])
def test_honest_students_in_the_same_class_get_every_point(graded, submission):
    assert graded.scores(submission.student) == graded.points


def test_the_import_attack_is_real_where_the_answer_key_is_installed(tmp_path):
    """Stock nbgrader on the instructor's machine: the answer key is importable, the attack scores."""
    attack = next(a for a in ATTACKS if a.student == "import_reference")
    stock = grade_class(tmp_path, ASSIGNMENT, [attack], grader="stock")
    assert stock.scores(attack.student) == stock.points
