"""nbgrader's commands and ``autograder grade`` run from ``.venv/bin/`` without activating the venv:
nbgrader runs ``alembic`` by name when it creates a gradebook, and finds the one beside its Python
(``nbgrader_config.py`` and the grader put that folder on PATH)."""

from __future__ import annotations

import subprocess

import pytest

from autograder.grading.nbgrader_commands import new_course
from tests.faults.conftest import (
    ASSIGNMENT,
    FULL,
    NOTEBOOK,
    ROOT,
    VENV_BIN,
    assert_consistent,
    autograder_cli,
    needs_bwrap,
    reference,
    scores,
    submit,
)

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_venv")]

#: A shell's environment without the venv on PATH.
BARE = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}


def test_nbgrader_from_the_venv_creates_the_gradebook_without_activation(tmp_path):
    course = new_course(tmp_path / "course", ROOT, [ASSIGNMENT])
    done = subprocess.run([str(VENV_BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], cwd=course, env=BARE,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FileNotFoundError" not in done.stderr
    assert (course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").exists()
    assert (course / "gradebook.db").exists()
    submit(course, "ann", reference())
    graded = autograder_cli(course, "--workers", "1", env=BARE)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert scores(course) == {"ann": FULL}
    assert_consistent(course)


def test_autograder_grade_from_the_venv_creates_the_gradebook_without_activation(tmp_path):
    course = new_course(tmp_path / "course", ROOT, [ASSIGNMENT])
    (course / "submitted" / "ann" / ASSIGNMENT).mkdir(parents=True)
    (course / "submitted" / "ann" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").write_bytes(
        (ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_bytes())
    done = autograder_cli(course, "--workers", "1", env=BARE)
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join(done.stdout.split())
    assert f"run `nbgrader generate_assignment {ASSIGNMENT}`" in said  # not FileNotFoundError: 'alembic'
    assert "Traceback" not in done.stdout + done.stderr
