"""The main job: `autograder sample-class` grades the bundled class, right, wrong and broken."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from autograder.cli.main import app
from autograder.grading.gradebook import cell_scores, max_scores
from autograder.sample_class import BROKEN, STUDENTS
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="the grader's sandbox needs bubblewrap"),
    pytest.mark.xdist_group("sample_class"),
]


@pytest.fixture(scope="module")
def sample_course(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "course"
    result = CliRunner().invoke(app, ["sample-class", "--out", str(out), "--course-root", str(ROOT),
                                      "--timeout", "10"])
    return out, result


def test_the_main_job_succeeds_and_prints_the_table(sample_course):
    out, result = sample_course
    assert result.exit_code == 0, result.output
    assert "Sample class" in result.output
    assert "eve" in result.output  # the broken file is reported, not hidden


@pytest.mark.parametrize("assignment", list(STUDENTS))
def test_every_student_loses_exactly_the_declared_cells(sample_course, assignment):
    out, _ = sample_course
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    points = max_scores(db_url, assignment)
    for submission in STUDENTS[assignment]:
        expected = {cell: (0.0 if cell in submission.loses else p) for cell, p in points.items()}
        assert cell_scores(db_url, assignment, submission.student) == expected, (
            f"{submission.student}: {submission.why}")


def test_the_broken_notebook_is_logged_and_nobody_else_is_lost(sample_course):
    out, _ = sample_course
    log = (out / "autograder.log").read_text()
    for student in BROKEN:
        assert student in log
    assert (out / "autograded" / "ada" / "01_tensors" / "tensors.ipynb").exists()


def test_a_course_folder_without_source_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["sample-class", "--out", str(tmp_path / "x"), "--course-root",
                                      str(tmp_path)])
    assert result.exit_code == 2
    assert "not the course folder" in result.output
