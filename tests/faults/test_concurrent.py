"""Two ``autograder grade`` runs at once on one course: the second says who holds the course and
exits 2, touching nothing; the first finishes as if alone."""

from __future__ import annotations

import subprocess

import pytest

from tests.faults.conftest import (
    ASSIGNMENT,
    FULL,
    VENV_BIN,
    assert_consistent,
    autograder_cli,
    cpu_seconds_of,
    graded_students,
    make_class,
    needs_bwrap,
    scores,
    wait_for,
    with_cells,
)

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_concurrent")]


def test_a_second_run_says_who_holds_the_course(tmp_path, template):
    students = {f"s{i}": with_cells("import time\ntime.sleep(0.6)") for i in range(3)}
    root = make_class(tmp_path / "course", template, students)
    autograder_cli(root, "--workers", "1")  # graded once: read-only notebooks in autograded/
    first = subprocess.Popen([str(VENV_BIN / "autograder"), "grade", ASSIGNMENT, "--root", str(root), "--force",
                              "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: (root / ".autograder.lock").exists() and str(first.pid) in
             (root / ".autograder.lock").read_text(), timeout=60)
    second = autograder_cli(root, "--force", "--workers", "1")
    assert second.returncode == 2, second.stdout + second.stderr
    said = " ".join(second.stdout.split())
    assert f"another `autograder grade` (PID {first.pid}" in said
    assert "wait for it to finish" in said
    assert "Traceback" not in second.stdout + second.stderr
    out, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out
    assert graded_students(root) == sorted(students)
    assert scores(root) == dict.fromkeys(students, FULL)
    assert_consistent(root)
    reruns = []
    cpu = cpu_seconds_of(lambda: reruns.append(autograder_cli(root)))
    assert reruns[0].returncode == 0 and "3 skipped" in reruns[0].stdout, reruns[0].stdout
    assert cpu < 2, f"a rerun with nothing new must not start anything ({cpu:.2f} s of CPU)"
