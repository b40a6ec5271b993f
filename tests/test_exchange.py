"""The exchange, end to end, with two students: release, fetch, submit, collect, grade, feedback, export.

Every step is the command the README gives, run as a separate process the way a person
runs it: the instructor in the course folder (its ``nbgrader_config.py`` sets the exchange),
each student in a home folder of their own. On one machine the students are told apart
with ``--student`` (on a shared server each is a user of their own).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder.grading.nbgrader_commands import new_course
from autograder.submissions import Submission, build_notebook
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("exchange")]

ASSIGNMENT, NOTEBOOK, COURSE_ID = "01_tensors", "tensors.ipynb", "pytorch-fundamentals"
BIN = Path(sys.executable).parent


def answers() -> dict[str, str]:
    """The model answers of 01_tensors (the source notebook's solution cells, markers removed)."""
    nb = nbformat.read(ROOT / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: "\n".join(
        line for line in c.source.splitlines() if "### " not in line)
        for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


STUDENTS = {
    "ada": {},  # every answer right
    "ben": {"to_batch": "def to_batch(values):\n    return torch.tensor(values).reshape(-1, 1)"},  # int64
}


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"`{' '.join(args)}` failed in {cwd}:\n{log[-3000:]}"
    assert "not absolute" not in log, log
    return log


@pytest.fixture(scope="module")
def exchange_course(tmp_path_factory):
    base = tmp_path_factory.mktemp("exchange")
    course = new_course(base / "course", ROOT, [ASSIGNMENT])
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "NBGRADER_EXCHANGE")}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])  # nbgrader runs alembic by name
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    homes = {}
    for student in STUDENTS:
        home = homes[student] = base / "home" / student
        home.mkdir(parents=True)
    return course, env, homes


def student_env(env: dict[str, str], home: Path) -> dict[str, str]:
    """A student's own environment: their home, their Jupyter folders (nbgrader keeps its cache there)."""
    return {**env, "HOME": str(home), "JUPYTER_DATA_DIR": str(home / ".jupyter-data")}


def test_release_fetch_submit_collect_grade_feedback_export(exchange_course):
    course, env, homes = exchange_course
    nbgrader = [str(BIN / "nbgrader")]
    exchange = course / "exchange"

    # The instructor releases the assignment into the exchange.
    run([*nbgrader, "generate_assignment", ASSIGNMENT], course, env)
    assert exchange.is_dir(), "nbgrader_config.py should make the course's exchange folder"
    run([*nbgrader, "release_assignment", ASSIGNMENT], course, env)
    assert (exchange / COURSE_ID / "outbound" / ASSIGNMENT / NOTEBOOK).exists()

    # Each student fetches it, answers, and submits: their own folder, the exchange named by the course.
    student_args = [f"--course={COURSE_ID}", f"--Exchange.root={exchange}"]

    def fetch_answer_submit(student: str) -> None:
        senv = student_env(env, homes[student])
        run([*nbgrader, "fetch_assignment", ASSIGNMENT, *student_args], homes[student], senv)
        fetched = homes[student] / ASSIGNMENT / NOTEBOOK
        released = nbformat.read(fetched, as_version=4)
        edits = {**answers(), **STUDENTS[student]}
        nbformat.write(build_notebook(released, Submission(student, edits)), fetched)
        run([*nbgrader, "submit", ASSIGNMENT, *student_args, f"--student={student}"], homes[student], senv)

    with ThreadPoolExecutor(len(STUDENTS)) as students:  # at the same time, as a class does
        list(students.map(fetch_answer_submit, STUDENTS))

    # The instructor collects, grades with autograder, and returns feedback.
    run([*nbgrader, "collect", ASSIGNMENT], course, env)
    for student in STUDENTS:
        assert (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).exists()
    grade = [str(BIN / "autograder"), "grade", ASSIGNMENT, "--workers", "2"]
    if shutil.which("bwrap") is None:
        grade.append("--unsafe-no-sandbox")  # the sandbox has its own tests; here the exchange is under test
    run(grade, course, env)
    run([*nbgrader, "generate_feedback", ASSIGNMENT], course, env)
    run([*nbgrader, "release_feedback", ASSIGNMENT], course, env)

    def fetch_feedback(student: str) -> None:
        senv = student_env(env, homes[student])
        run([*nbgrader, "fetch_feedback", ASSIGNMENT, *student_args, f"--student={student}"], homes[student], senv)

    with ThreadPoolExecutor(len(STUDENTS)) as students:
        list(students.map(fetch_feedback, STUDENTS))
    for student in STUDENTS:
        feedback = sorted((homes[student] / ASSIGNMENT / "feedback").glob(f"*/{Path(NOTEBOOK).stem}.html"))
        assert feedback, f"{student} got no feedback"
        html = feedback[-1].read_text()
        assert "test_to_batch" in html
        if student == "ben":
            assert "expected" in html and "int64" in html, "ben's feedback should explain the lost points"

    run([*nbgrader, "export", "--to", "grades.csv"], course, env)
    rows = {row["student_id"]: row for row in csv.DictReader((course / "grades.csv").open())}
    assert set(rows) == set(STUDENTS)
    assert float(rows["ada"]["score"]) == 10.0
    assert float(rows["ben"]["score"]) == 8.0
    assert float(rows["ben"]["max_score"]) == 10.0
