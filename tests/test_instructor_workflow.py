"""The instructor's whole nbgrader workflow on a temporary course, end to end."""

from __future__ import annotations

import csv

import pytest

from autograder.grading.nbgrader_commands import run_nbgrader
from tests.conftest import grade_class
from tests.corpus import wrong

ASSIGNMENT = "01_tensors"


@pytest.mark.slow
def test_generate_autograde_feedback_export(tmp_path):
    mistake = wrong("zoe", "to_batch", """
        def to_batch(values):
            return torch.tensor(values)
        """)
    graded = grade_class(tmp_path / "course", ASSIGNMENT, [mistake])
    course = graded.course

    assert (course / "release" / ASSIGNMENT / "tensors.ipynb").exists()
    for student in ("reference", "blank", "zoe"):
        assert (course / "autograded" / student / ASSIGNMENT / "tensors.ipynb").exists()

    run_nbgrader(["generate_feedback", ASSIGNMENT, "--force"], course)
    for student in ("reference", "blank", "zoe"):
        html = (course / "feedback" / student / ASSIGNMENT / "tensors.html").read_text()
        assert "test_to_batch" in html

    run_nbgrader(["export", "--to", str(course / "grades.csv")], course)
    rows = {row["student_id"]: row for row in csv.DictReader((course / "grades.csv").open())}
    assert float(rows["reference"]["score"]) == 10.0
    assert float(rows["zoe"]["score"]) == 8.0
    assert float(rows["blank"]["score"]) == 0.0
    assert float(rows["zoe"]["max_score"]) == 10.0
