"""Shared fixtures: a temporary nbgrader course, graded by stock nbgrader autograde."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.course import NOTEBOOKS
from autograder.grading.gradebook import cell_scores, max_scores
from autograder.grading.nbgrader_commands import autograde, generate_assignment, new_course
from tests.corpus import Submission, write_submissions

ROOT = Path(__file__).resolve().parent.parent

#: Students every graded class has besides its corpus.
REFERENCE = "reference"  # the instructor's source notebook, unchanged
BLANK = "blank"  # the release notebook, untouched


def built_assignments() -> list[str]:
    """The contract's assignments whose source notebook exists yet."""
    return [a for a, nb in NOTEBOOKS.items() if (ROOT / "source" / a / f"{nb}.ipynb").exists()]


class GradedClass:
    """A class of submissions of one assignment, autograded once by stock nbgrader."""

    def __init__(self, course: Path, assignment: str) -> None:
        self.course = course
        self.assignment = assignment
        self.db_url = f"sqlite:///{course / 'gradebook.db'}"

    def scores(self, student: str) -> dict[str, float]:
        return cell_scores(self.db_url, self.assignment, student)

    @property
    def points(self) -> dict[str, float]:
        return max_scores(self.db_url, self.assignment)


def grade_class(workdir: Path, assignment: str, submissions: list[Submission],
                notebooks: dict[str, nbformat.NotebookNode] | None = None, grader: str = "stock") -> GradedClass:
    """Generate, submit (reference, blank, ``submissions`` and raw ``notebooks``) and grade.

    ``grader``: "stock" runs ``nbgrader autograde``; "fast" runs ``autograder grade`` (one
    sandbox, or none where bubblewrap is missing: these tests are about scores, not isolation).
    """
    course = new_course(workdir, ROOT, [assignment])
    released = generate_assignment(course, assignment)
    notebook = f"{NOTEBOOKS[assignment]}.ipynb"
    submitted = course / "submitted"
    write_submissions(course / "source" / assignment / notebook, submitted, assignment,
                      [Submission(REFERENCE, {}), *submissions])
    (submitted / BLANK / assignment).mkdir(parents=True)
    shutil.copy(released / notebook, submitted / BLANK / assignment / notebook)
    for student, nb in (notebooks or {}).items():
        (submitted / student / assignment).mkdir(parents=True)
        nbformat.write(nb, submitted / student / assignment / notebook)
    if grader == "stock":
        autograde(course, assignment)
    else:
        from autograder.grading import batch

        options = batch.Options(assignment, course, force=True, workers=1, sandboxed=shutil.which("bwrap") is not None)
        failed = [r.student for r in batch.grade(options) if r.status == "failed"]
        assert not failed, f"autograder grade could not grade {failed}"
    return GradedClass(course, assignment)


_graded: dict[tuple[str, str], GradedClass] = {}


@pytest.fixture
def graded_corpus(tmp_path_factory: pytest.TempPathFactory):
    """A function: assignment -> its corpus class, graded once per test process by ``autograder grade``."""

    def get(assignment: str) -> GradedClass:
        if (assignment, "fast") not in _graded:
            from tests.corpus.registry import submissions_for

            workdir = tmp_path_factory.mktemp(f"corpus-{assignment}")
            _graded[assignment, "fast"] = grade_class(workdir, assignment, submissions_for(assignment), grader="fast")
        return _graded[assignment, "fast"]

    return get


@pytest.fixture
def graded_by_stock(tmp_path_factory: pytest.TempPathFactory):
    """A function: assignment -> a class of the reference and blank notebooks, graded by stock nbgrader."""

    def get(assignment: str) -> GradedClass:
        if (assignment, "stock") not in _graded:
            workdir = tmp_path_factory.mktemp(f"stock-{assignment}")
            _graded[assignment, "stock"] = grade_class(workdir, assignment, [])
        return _graded[assignment, "stock"]

    return get


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail loudly where ``--dist loadgroup`` lost its groups (pytest 9.2 with pytest-xdist 3.8:
    pytest-xdist#1386): every class fixture shared by a group would be graded on each worker."""
    config = session.config
    if not getattr(config.option, "loadgroup", False) or not hasattr(config, "workerinput"):
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(f"--dist loadgroup ignores xdist_group here (for example {lost[0]}); "
                                "install the pytest the test extra pins (pip install -e '.[test]')")
