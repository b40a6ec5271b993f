"""Each attack scores exactly what it says (0 on the cells it targets); the class is graded normally."""

from __future__ import annotations

import nbformat
import pytest

from autograder.grading.gradebook import cell_scores
from tests.attacks.corpus import ASSIGNMENT, ATTACKS, by_student
from tests.attacks.course import NOTEBOOK, POINTS

pytestmark = pytest.mark.xdist_group("grade_attacks")

GRADED = [a for a in ATTACKS if a.status != "failed"]


@pytest.mark.slow
@pytest.mark.parametrize("attack", GRADED, ids=[a.student for a in GRADED])
def test_attack_scores_what_it_should(graded_attacks, attack):
    scores = cell_scores(graded_attacks.db_url, ASSIGNMENT, attack.student)
    assert scores == attack.expected, attack.why


@pytest.mark.slow
def test_every_graded_attack_has_a_result(graded_attacks):
    for attack in GRADED:
        result = graded_attacks.results[attack.student]
        assert result.status in ("graded", "problems"), (attack.student, result.problems)
        assert result.score == sum(attack.expected.values())


@pytest.mark.slow
def test_broken_notebook_fails_alone(graded_attacks):
    result = graded_attacks.results["broken_json"]
    assert result.status == "failed"
    assert any("cannot read" in p for p in result.problems)
    assert not (graded_attacks.root / "autograded" / "broken_json" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").exists()


@pytest.mark.slow
def test_gradebook_and_course_files_intact(graded_attacks):
    root = graded_attacks.root
    assert (root / "gradebook.db").read_bytes()[:16] == b"SQLite format 3\x00"
    nb = nbformat.read(root / "autograded" / "read_write_course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "FOUND []" in printed  # nothing of the course is visible inside the sandbox
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert any(o.ename in ("FileNotFoundError", "OSError", "PermissionError") for o in errors)


@pytest.mark.slow
def test_network_is_unreachable(graded_attacks):
    nb = nbformat.read(graded_attacks.root / "autograded" / "network" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                       as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors and errors[0].ename in ("OSError", "ConnectionRefusedError", "TimeoutError", "gaierror",
                                           "PermissionError")


@pytest.mark.slow
def test_kernel_deaths_and_timeouts_are_logged(graded_attacks):
    for student in ("os_exit_in_test", "unstoppable_loop", "forged_replies"):
        assert graded_attacks.results[student].problems, student
        assert any(student in line for line in graded_attacks.log), student


@pytest.mark.slow
def test_fake_cells_add_no_points(graded_attacks):
    for student in ("fake_test_cell", "duplicate_test_id"):
        assert set(cell_scores(graded_attacks.db_url, ASSIGNMENT, student)) == set(POINTS)


def test_corpus_names_are_unique():
    assert len(by_student()) == len(ATTACKS)
