"""``autograder grade`` on a small class: same scores as stock nbgrader, reruns, the CLI, nbgrader after it."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from autograder.cli.main import app
from autograder.grading import batch, sandbox
from autograder.grading.gradebook import cell_scores
from autograder.grading.nbgrader_commands import autograde, run_nbgrader
from tests.attacks.course import ASSIGNMENT, NOTEBOOK, WRONG, answered, full, make_course, released, submit

pytestmark = pytest.mark.xdist_group("grade_class")

needs_bwrap = pytest.mark.skipif(sandbox.find_bwrap() is None, reason="bubblewrap (bwrap) is not installed")

HONEST = {
    "reference": ({}, full()),
    "two_wrong": ({"slope": WRONG["slope"], "half": WRONG["half"]}, full(test_slope=0.0, test_half=0.0)),
    "all_wrong": (dict(WRONG), {k: 0.0 for k in full()}),
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("grade-class") / "course")
    for student, (edits, _) in HONEST.items():
        submit(root, student, answered(root, edits))
    submit(root, "blank", released(root))
    return root


def scores(root, student):
    return cell_scores(f"sqlite:///{root / 'gradebook.db'}", ASSIGNMENT, student)


@pytest.mark.slow
@needs_bwrap
def test_scores_equal_stock_nbgrader_and_nbgrader_works_after(course, tmp_path):
    stock = tmp_path / "stock"
    shutil.copytree(course, stock)
    autograde(stock, ASSIGNMENT)
    results = batch.grade(batch.Options(ASSIGNMENT, course, force=True, workers=1))
    assert {r.student: r.status for r in results} == dict.fromkeys([*HONEST, "blank"], "graded")
    for student, (_, expected) in HONEST.items():
        assert scores(course, student) == expected, student
        assert scores(course, student) == scores(stock, student), student
    assert scores(course, "blank") == scores(stock, "blank") == {k: 0.0 for k in full()}
    graded = course / "autograded" / "reference" / ASSIGNMENT
    assert (graded / f"{NOTEBOOK}.ipynb").exists() and (graded / "data.txt").exists()
    run_nbgrader(["generate_feedback", ASSIGNMENT, "--force"], course)
    assert (course / "feedback" / "reference" / ASSIGNMENT / f"{NOTEBOOK}.html").exists()
    run_nbgrader(["export"], course)
    assert "two_wrong" in (course / "grades.csv").read_text()


@pytest.mark.slow
@needs_bwrap
def test_rerun_grades_only_new_or_changed(course):
    batch.grade(batch.Options(ASSIGNMENT, course, workers=1))  # whatever is missing
    again = batch.grade(batch.Options(ASSIGNMENT, course, workers=1))
    assert {r.status for r in again} == {"skipped"}
    submit(course, "two_wrong", answered(course))  # fixed the mistakes
    third = {r.student: r.status for r in batch.grade(batch.Options(ASSIGNMENT, course, workers=1))}
    assert third == {**dict.fromkeys([*HONEST, "blank"], "skipped"), "two_wrong": "graded"}
    assert scores(course, "two_wrong") == full()
    forced = batch.grade(batch.Options(ASSIGNMENT, course, students=["blank"], force=True, workers=1))
    assert [(r.student, r.status) for r in forced] == [("blank", "graded")]


def test_cli_explains_a_missing_course_folder(tmp_path):
    result = CliRunner().invoke(app, ["grade", ASSIGNMENT, "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert "no submitted/ folder" in result.output


def test_cli_refuses_without_bwrap(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    (tmp_path / "submitted").mkdir()
    result = CliRunner().invoke(app, ["grade", ASSIGNMENT, "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert "bubblewrap" in result.output and "--unsafe-no-sandbox" in result.output


def test_no_submissions_is_a_clear_error(tmp_path):
    (tmp_path / "submitted" / "someone" / "other").mkdir(parents=True)
    with pytest.raises(batch.GradeError, match="no submissions of ps1"):
        batch.submissions(tmp_path, ASSIGNMENT, [])
    with pytest.raises(batch.GradeError, match="no submission of ps1 for ghost"):
        batch.submissions(tmp_path, ASSIGNMENT, ["ghost"])


@pytest.mark.slow
@needs_bwrap
def test_cli_grades_logs_and_fails_on_a_broken_notebook(tmp_path):
    root = make_course(tmp_path / "course")
    submit(root, "good", answered(root))
    submit(root, "broken", "{not json")
    result = CliRunner().invoke(app, ["grade", ASSIGNMENT, "--root", str(root), "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "broken" in result.output and "could not be graded" in result.output
    assert "cannot read" in result.output  # the problems are listed, not only the failed students
    assert "cannot read" in (root / "autograder.log").read_text()
    assert scores(root, "good") == full()


@pytest.mark.slow
def test_unsafe_mode_grades_without_bwrap(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    root = make_course(tmp_path / "course")
    submit(root, "good", answered(root, {"half": WRONG["half"]}))
    result = CliRunner().invoke(app, ["grade", ASSIGNMENT, "--root", str(root), "--unsafe-no-sandbox",
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "WITHOUT a sandbox" in (root / "autograder.log").read_text()
    assert scores(root, "good") == full(test_half=0.0)
