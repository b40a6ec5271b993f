"""Faults of the student's own code: huge or endless output, text UTF-8 cannot hold, a full /tmp,
a fork bomb, a timeout. Each costs at most what the code did (the cells it broke), says which
limit it hit, and leaves the notebook, the gradebook and the coordinator's memory bounded.

One class holds them all, graded once; a plain rerun then has nothing to do.
"""

from __future__ import annotations

import dataclasses
import json
import time

import nbformat
import pytest

from autograder.grading import batch, limits
from tests.faults.conftest import (
    ASSIGNMENT,
    FULL,
    NOTEBOOK,
    assert_consistent,
    make_class,
    needs_bwrap,
    once_per_session,
    reference,
    score,
    with_cells,
)

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_student_code")]

PROCESSES = 40
TIMEOUT = 6

FORK_BOMB = '''import _posixsubprocess, os, time

def spawn(argv):
    r, w = os.pipe()
    common = [argv, [argv[0]], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, False, False, -1,
              None, None, None, -1, None]
    try:
        return _posixsubprocess.fork_exec(*common, False)
    except TypeError:
        return _posixsubprocess.fork_exec(*common)

spawn([b"/bin/sh", b"-c", b"i=0; while [ $i -lt 300 ]; do sleep 30 & i=$((i+1)); done; wait"])
time.sleep(2)
print("processes", sum(1 for p in os.listdir("/proc") if p.isdigit()))
for i in range(300):
    spawn([b"/bin/sleep", b"30"])
'''


def _slow_to_batch(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "to_batch")
    cell.source = "def to_batch(values):\n    import time\n    time.sleep(120)"
    return nb


#: student -> (notebook, score, words one of its problems must hold, or None for no problem)
CLASS = {
    "reference": (reference(), FULL, None),
    "big_print": (with_cells("print('x' * 200_000_000)"), FULL, "output over the limit"),
    "flood": (with_cells(*["print('z' * 5_000_000)"] * 60), FULL, "output over the limit"),
    "many_prints": (with_cells("for i in range(50_000):\n    print('y' * 100)"), FULL, "output over the limit"),
    "surrogate": (with_cells("print('bad \\ud800 text')",
                             "from IPython.display import display\ndisplay({'text/plain': 'x \\udcff y'}, raw=True)"),
                  FULL, None),
    "tmp_fill": (with_cells("with open('/tmp/big', 'wb') as f:\n    for i in range(2048):\n"
                            "        f.write(b'0' * (1 << 20))"), FULL, "filled /tmp"),
    "fork_bomb": (with_cells(FORK_BOMB), FULL, f"limit of {PROCESSES} processes"),
    "timeout_obeyed": (_slow_to_batch(reference()), FULL - 2, "timeout: interrupted"),
}


class Graded:
    def __init__(self, root, results, log, seconds):
        self.root, self.results, self.log, self.seconds = root, results, log, seconds

    def notebook(self, student: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def _grade(folder, template) -> dict:
    root = make_class(folder / "course", template, {student: nb for student, (nb, _, _) in CLASS.items()})
    log: list[str] = []
    started = time.monotonic()
    results = batch.grade(batch.Options(ASSIGNMENT, root, workers=2, memory_gb=0.5, timeout=TIMEOUT,
                                        processes=PROCESSES), log=log.append)
    return {"results": [dataclasses.asdict(r) for r in results], "log": log, "seconds": time.monotonic() - started}


@pytest.fixture
def graded(tmp_path_factory, template) -> Graded:
    """The class, graded once per test session, whichever xdist worker needs it first."""
    folder, done = once_per_session(tmp_path_factory, "faults-student-code", lambda at: _grade(at, template))
    results = {r["student"]: batch.Result(**r) for r in done["results"]}
    return Graded(folder / "course", results, done["log"], done["seconds"])


@pytest.mark.parametrize("student", list(CLASS))
def test_each_costs_only_what_its_code_did(graded, student):
    _, expected, problem = CLASS[student]
    result = graded.results[student]
    assert score(graded.root, student) == expected, result.problems
    if problem is None:
        assert result.status == "graded", result.problems
    else:
        assert result.status == "problems"
        assert any(problem in p for p in result.problems), result.problems
        assert any(student in line for line in graded.log), graded.log


def test_output_is_cut_head_and_tail_with_a_line_saying_so(graded):
    sizes = {s: (graded.root / "autograded" / s / ASSIGNMENT / f"{NOTEBOOK}.ipynb").stat().st_size for s in CLASS}
    assert sizes["big_print"] < 2 * limits.CELL_OUTPUT + 100_000  # 200 MB printed
    assert sizes["flood"] < limits.NOTEBOOK_OUTPUT + 2 * limits.CELL_OUTPUT  # 300 MB printed
    text = json.dumps([c.get("outputs") for c in graded.notebook("big_print").cells if c.cell_type == "code"])
    assert "characters of stdout cut here" in text
    flood = json.dumps([c.get("outputs") for c in graded.notebook("flood").cells if c.cell_type == "code"])
    assert "this notebook's output is over the autograder's limit" in flood


def test_output_with_a_lone_surrogate_is_written_and_scored(graded):
    raw = (graded.root / "autograded" / "surrogate" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_bytes()
    raw.decode("utf-8")  # valid UTF-8 throughout
    outputs = [o for c in graded.notebook("surrogate").cells if c.cell_type == "code" for o in c.outputs]
    assert any("bad \ufffd text" in o.get("text", "") for o in outputs)
    assert any(o.get("data", {}).get("text/plain") == "x \ufffd y" for o in outputs)


def test_limits_say_which_limit_was_hit(graded):
    errors = [o for c in graded.notebook("tmp_fill").cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert any("No space left on device" in o.evalue and "/tmp" in o.evalue for o in errors)
    outputs = [o for c in graded.notebook("fork_bomb").cells if c.cell_type == "code" for o in c.outputs]
    counted = [int(o.text.split()[1]) for o in outputs if o.get("text", "").startswith("processes")]
    assert counted and 20 < counted[0] <= PROCESSES + 10, counted  # the shell's 300 stopped at the limit
    assert any(o.output_type == "error" and "processes and threads" in o.evalue for o in outputs)


def test_timeouts_are_listed_as_problems(graded):
    result = graded.results["timeout_obeyed"]
    assert any(f"interrupted after {TIMEOUT} s" in p for p in result.problems)
    assert score(graded.root, "timeout_obeyed") == FULL - 2


def test_gradebook_consistent_and_a_plain_rerun_has_nothing_to_do(graded):
    assert_consistent(graded.root)
    started = time.monotonic()
    again = batch.grade(batch.Options(ASSIGNMENT, graded.root, workers=2))
    assert {r.status for r in again} == {"skipped"}
    assert time.monotonic() - started < 2
