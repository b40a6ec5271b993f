"""Gradescope: results.json in Gradescope's documented format, no hidden test in any output, the upload
zip, and ``gradescope/run_autograder`` run end to end in a folder laid out like Gradescope's container.

The format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level ``score``,
``execution_time``, ``output``, ``visibility``, ``stdout_visibility`` and ``tests``, each test with
``score``, ``max_score``, ``status`` (passed or failed), ``name``, ``number``, ``output``, ``tags``
and ``visibility``.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile

import jsonschema
import pytest

from autograder.feedback.messages import Message
from autograder.reports import gradescope as gs
from autograder.reports.outcomes import AssignmentOutcome, CellOutcome, StudentOutcome, read_assignment
from tests.conftest import ROOT, built_assignments
from tests.corpus.registry import submissions_for
from tests.test_feedback import leaks, secrets_of

ASSIGNMENTS = [pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in built_assignments()]

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Gradescope autograder results.json",
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": FORMAT,
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": VISIBILITY,
                    "extra_data": {"type": "object"},
                },
                "additionalProperties": False,
            },
        },
        "leaderboard": {"type": "array"},
    },
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
    "additionalProperties": False,
}


def valid(results: dict) -> dict:
    jsonschema.validate(results, SCHEMA)
    assert results["stdout_visibility"] == "hidden"  # the run's stdout may name grader problems
    return results


def _outcome() -> AssignmentOutcome:
    lost = CellOutcome("nb", "test_mse", 0.0, 3.0, Message(
        "mse on a hidden test case (shapes [N] and [N, 1], which must be refused)", "ValueError raised",
        "no error; it returned tensor of shape []", "compare the shapes first", "shape_mismatch_not_refused"))
    return AssignmentOutcome("01_tensors", [("nb", "test_to_batch", 2.0), ("nb", "test_mse", 3.0)], [
        StudentOutcome("ann", cells=[CellOutcome("nb", "test_to_batch", 2.0, 2.0), lost])])


@pytest.mark.parametrize("level", ["full", "messages", "scores"])
def test_results_follow_gradescope_format_at_every_level(level):
    results = valid(gs.results_for(_outcome(), "ann", level=level, execution_time=12.3))
    assert results["score"] == 2.0 and results["execution_time"] == 12
    first, second = results["tests"]
    assert (first["status"], second["status"]) == ("passed", "failed")
    assert second["extra_data"] == {"mistake_code": "shape_mismatch_not_refused"}
    assert ("compare the shapes first" in second["output"]) == (level != "scores")
    assert ("mistake code" in second["output"]) == (level == "full")
    assert valid(gs.not_graded(_outcome(), "Submit tensors.ipynb."))["score"] == 0


def test_the_zip_holds_what_gradescope_runs_and_no_tests(tmp_path):
    target = gs.build_zip(ROOT, tmp_path / "autograder.zip", "01_tensors")
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        assert archive.read("assignment.txt").decode().strip() == "01_tensors"
    for name in ("setup.sh", "run_autograder"):
        assert name in names and modes[name] & stat.S_IXUSR
    assert {"course/pyproject.toml", "course/nbgrader_config.py", "course/autograder/reports/gradescope.py",
            "course/kit/pyproject.toml", "course/source/01_tensors/tensors.ipynb"} <= names
    assert not [n for n in names if n.startswith(("course/tests/", "course/.venv/")) or "__pycache__" in n]
    assert not [n for n in names if n.startswith("course/source/") and "01_tensors" not in n]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_corpus_results_are_valid_and_leak_nothing_hidden(graded_corpus, assignment):
    graded = graded_corpus(assignment)
    outcome = read_assignment(graded.course, assignment)
    secrets = secrets_of(assignment)
    for student in outcome.submitted:
        results = valid(gs.results_for(outcome, student.student, level="full"))
        scores = graded.scores(student.student)
        assert results["score"] == sum(scores.values())
        assert {t["name"]: t["score"] for t in results["tests"]} == {
            k.removeprefix("test_"): v for k, v in scores.items()}
        text = json.dumps(results, ensure_ascii=False)
        outputs = "\n".join([results["output"], *(t["output"] for t in results["tests"])])
        assert not leaks(outputs, secrets, text), (student.student, leaks(outputs, secrets, text))


@pytest.mark.slow
def test_run_autograder_grades_a_submission_as_gradescope_would(tmp_path):
    """gradescope/run_autograder, in a folder laid out as /autograder (the course linked in as source)."""
    import subprocess
    import sys

    assignment = "01_tensors"
    wrong = next(s for s in submissions_for(assignment) if s.student == "to_batch_int64")
    base = tmp_path / "autograder"
    (base / "source").mkdir(parents=True)
    (base / "source" / "course").symlink_to(ROOT)
    (base / "source" / "assignment.txt").write_text(assignment + "\n")
    from tests.corpus import write_submissions

    write_submissions(ROOT / "source" / assignment / "tensors.ipynb", tmp_path / "sub", assignment, [wrong])
    (base / "submission").mkdir()
    os.replace(tmp_path / "sub" / wrong.student / assignment / "tensors.ipynb", base / "submission" / "tensors.ipynb")
    env = {**os.environ, "AUTOGRADER_BASE": str(base), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run([str(ROOT / "gradescope" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    results = valid(json.loads((base / "results" / "results.json").read_text()))
    assert results["score"] == 8.0
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["to_batch"] and "int64" in failed[0]["output"]
    assert not leaks("\n".join(t["output"] for t in results["tests"]), secrets_of(assignment),
                     json.dumps(results))
