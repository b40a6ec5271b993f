"""The instructor's notebook gets every point and the release notebook none, under stock nbgrader;
every submission of the corpus loses exactly the grade cells it names.

The corpus is graded by ``autograder grade`` (about four times faster than stock nbgrader,
with the same per-cell scores for honest code, as ``tests/test_grade_class.py`` and
``benchmarks/bench_grade.py`` show), so the suite stays well under CI's time.
"""

from __future__ import annotations

import pytest

from tests.conftest import BLANK, REFERENCE, built_assignments
from tests.corpus.registry import submissions_for

# One group per assignment: under pytest-xdist (--dist loadgroup) each class is graded once.
ASSIGNMENTS = [pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in built_assignments()]
CASES = [
    pytest.param(a, s, marks=pytest.mark.xdist_group(a), id=f"{a}-{s.student}")
    for a in built_assignments()
    for s in submissions_for(a)
]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_gets_every_point(graded_by_stock, assignment):
    graded = graded_by_stock(assignment)
    assert graded.scores(REFERENCE) == graded.points
    assert sum(graded.points.values()) == 10


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_gets_no_point(graded_by_stock, assignment):
    graded = graded_by_stock(assignment)
    assert set(graded.scores(BLANK).values()) == {0.0}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_fast_grader_agrees_on_source_and_release(graded_corpus, assignment):
    graded = graded_corpus(assignment)
    assert graded.scores(REFERENCE) == graded.points
    assert set(graded.scores(BLANK).values()) == {0.0}


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "submission"), CASES)
def test_submission_loses_exactly_its_cells(graded_corpus, assignment, submission):
    graded = graded_corpus(assignment)
    expected = {cell: (0.0 if cell in submission.loses else points) for cell, points in graded.points.items()}
    assert graded.scores(submission.student) == expected, submission.why
