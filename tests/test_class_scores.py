"""The class's tables fit 80 columns, list every student (the ungradable ones with the reason) and
name the cells lost; the sample course is reused when nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import nbgrader.api
import pytest
from nbgrader.api import Gradebook
from rich.console import Console
from rich.measure import Measurement

from autograder.grading.nbgrader_commands import alembic_head
from autograder.grading.plan import Result
from autograder.reports.class_scores import (
    assignment_table,
    lost_cells,
    outcomes,
    read_class,
    score_table,
)
from tests.conftest import ROOT

ASSIGNMENTS = ["01_tensors", "02_autograd", "03_single_neuron", "04_training_loop", "05_devices_checkpoints",
               "06_resume"]
POINTS = {"03_single_neuron": {"test_build_model": 1, "test_train_model": 4, "test_predict_minutes": 2,
                               "test_take_order": 1, "test_build_nonlinear_model": 2}}
for _assignment in ASSIGNMENTS[:2] + ASSIGNMENTS[3:]:
    POINTS[_assignment] = {f"test_exercise_{i}": 2 for i in range(5)}
#: student -> assignment -> cells that score 0 (every other cell full points).
LOSSES = {
    "ada": {},
    "a_student_with_a_rather_long_identifier": {a: list(POINTS[a])[:3] for a in ASSIGNMENTS},
    "ben": {"03_single_neuron": ["test_build_nonlinear_model", "test_train_model", "test_predict_minutes"]},
}


def render(table, width: int = 80) -> str:
    """The table as a terminal of ``width`` columns shows it; fails if it needs more (rich would crop)."""
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    needs = Measurement.get(console, console.options, table).minimum
    assert needs <= width, f"the table needs {needs} columns"
    console.print(table)
    return console.export_text()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    db_url = f"sqlite:///{folder / 'gradebook.db'}"
    with mock.patch.object(nbgrader.api, "get_alembic_version", alembic_head), Gradebook(db_url) as gradebook:
        for assignment, points in POINTS.items():
            gradebook.add_assignment(assignment)
            gradebook.add_notebook("nb", assignment)
            for cell, most in points.items():
                gradebook.add_grade_cell(cell, "nb", assignment, max_score=most, cell_type="code")
        for student, losses in LOSSES.items():
            gradebook.add_student(student)
            for assignment, points in POINTS.items():
                gradebook.add_submission(assignment, student)
                for cell, most in points.items():
                    grade = gradebook.find_grade(cell, "nb", assignment, student)
                    grade.auto_score = 0 if cell in losses.get(assignment, []) else most
        gradebook.db.commit()
    submitted = folder / "submitted"
    (submitted / "eve" / "01_tensors").mkdir(parents=True)  # handed in, never reached the gradebook
    (submitted / "zoe" / "02_autograd").mkdir(parents=True)  # ... and no word from the run either
    return db_url, submitted


def test_the_class_table_fits_80_columns_and_cuts_nothing(course):
    db_url, submitted = course
    problems = {("eve", "01_tensors"): "cannot read submitted/eve/01_tensors/tensors.ipynb: NotJSONError"}
    text = render(score_table(read_class(db_url, ASSIGNMENTS, submitted, problems), ASSIGNMENTS, "Class"))
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80, text
    assert "…" not in text, text
    flat = " ".join(text.split())
    for cell in ("build_nonlinear_model", "predict_minutes", "train_model"):
        assert cell in text, f"{cell} is cut or folded:\n{text}"  # whole, on one line
    assert "test_" not in text.replace("test_ prefix", "")
    for student in ("ada", "ben", "eve", "zoe"):
        assert any(line.split()[:1] == [student] for line in lines), f"{student} is missing:\n{text}"
    assert "NotJSONError" in flat
    assert "-: not handed in. Cells are the grade cells without their test_ prefix." in flat
    assert "01 not graded" in flat and "02 not graded" in flat
    assert "03 train_model, predict_minutes, build_nonlinear_model" in flat


def test_the_assignment_table_names_the_cells_lost_and_the_reason_for_a_failure():
    points = POINTS["03_single_neuron"]
    results = [
        Result("ada", "graded", 10, 10, cells=dict(points)),
        Result("ben", "graded", 3, 10, cells={**points, "test_train_model": 0, "test_build_nonlinear_model": 0}),
        Result("dev", "problems", 8, 10, ["cell 17: timeout: interrupted after 10 s"],
               cells={**points, "test_predict_minutes": 0}),
        Result("eve", "failed", problems=["cannot read tensors.ipynb: NotJSONError"]),
    ]
    text = render(assignment_table("03_single_neuron", outcomes(results, points)))
    assert max(map(len, text.splitlines())) <= 80, text
    flat = " ".join(text.split())
    assert "ben 3/10 graded train_model, build_nonlinear_model" in flat, text
    assert "dev 8/10 problems predict_minutes; cell 17: timeout" in flat, text
    assert "eve - failed cannot read tensors.ipynb: NotJSONError" in flat, text
    assert "ada 10/10 graded -" in flat, text


def test_lost_cells_keeps_the_notebook_order():
    assert lost_cells({"test_a": 1, "test_b": 0, "test_c": 0.5}, {"test_a": 1, "test_b": 2, "test_c": 1}) == ["b", "c"]


@pytest.mark.slow
def test_a_rerun_reuses_the_sample_course_when_nothing_changed(tmp_path):
    from autograder.sample_class.course import MARKER, NotACourse, prepare_sample_course

    out = tmp_path / "sample"
    first = prepare_sample_course(ROOT, out, {"timeout": 10})
    assert not first.reused and (out / "submitted" / "ada").is_dir()
    assert json.loads((out / MARKER).read_text())["fingerprint"] is None  # not complete until graded
    assert not prepare_sample_course(ROOT, out, {"timeout": 10}).reused  # an incomplete run is redone
    again = prepare_sample_course(ROOT, out, {"timeout": 10})
    again.mark_complete()
    assert prepare_sample_course(ROOT, out, {"timeout": 10}).reused
    assert not prepare_sample_course(ROOT, out, {"timeout": 20}).reused  # other options: built anew

    keep = tmp_path / "not-a-sample"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    with pytest.raises(NotACourse, match="not an earlier sample course"):
        prepare_sample_course(ROOT, keep)
    assert (keep / "notes.txt").exists()
    with pytest.raises(NotACourse):
        prepare_sample_course(ROOT, Path(ROOT))
